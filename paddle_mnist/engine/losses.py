"""The engine's loss registry: name -> ``Loss`` (a loss on model outputs, and how outputs become digits).

Models return logits; softmax lives here. ``cross_entropy`` is
``F.cross_entropy`` on logits (it applies softmax itself). With a model built
with ``double_softmax=True`` the same loss reproduces the course's pitfall.

    python -m paddle_mnist train loss --quick
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from paddle_mnist.perf.tuned import lean_cross_entropy
# deferred: paddle (loaded on first use, so importing this module stays light)


@dataclass(frozen=True)
class Loss:
    fn: Callable  # (outputs, labels int64 [B]) -> scalar tensor
    predict: Callable  # outputs -> int64 [B] digits
    out_features: int = 10
    lean: Callable | None = None  # the same bits, faster: the speed seam's form of ``fn`` (``perf.tuned``)


def _argmax(outputs):
    import paddle

    return paddle.argmax(outputs, axis=-1)


def _round_clip(outputs):
    import paddle

    return paddle.clip(paddle.round(outputs[:, 0]), 0, 9).astype("int64")


def cross_entropy(outputs, labels):
    """Mean softmax cross-entropy of logits ``[B, C]`` and int64 labels ``[B]`` (softmax applied here, once)."""
    import paddle.nn.functional as F

    return F.cross_entropy(outputs, labels)


def square_error_onehot(outputs, labels):
    """``square_error_cost`` between softmax probabilities and one-hot targets, summed over classes."""
    import paddle
    import paddle.nn.functional as F

    onehot = F.one_hot(labels, outputs.shape[-1])
    return paddle.mean(paddle.sum(F.square_error_cost(F.softmax(outputs), onehot), axis=-1))


def square_error_regression(outputs, labels):
    """The assignment's variant: one output unit regressing the digit value."""
    import paddle
    import paddle.nn.functional as F

    return paddle.mean(F.square_error_cost(outputs[:, 0], labels.astype(outputs.dtype)))


LOSSES = {
    "cross_entropy": Loss(cross_entropy, _argmax, 10, lean=lean_cross_entropy),
    "square_error_onehot": Loss(square_error_onehot, _argmax, 10),
    "square_error_regression": Loss(square_error_regression, _round_clip, 1),
}


def get_loss(name: str) -> Loss:
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; choose from {sorted(LOSSES)}")
    return LOSSES[name]
