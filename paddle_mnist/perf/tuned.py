"""The one seam for speed: measures that make the engine's step faster and give the same bits. On by default.

``step_kit(device)`` hands ``engine.fit`` what it needs (the Adam class its optimizer is built with too); with
``PADDLE_MNIST_TUNED=0`` (``perf.env.tuned_enabled``) every piece is the plain one
of ``engine.loop``. The measures, each measured in ``reports/bench/`` and proven
bit-identical in ``tests/test_tuned.py``:

* ``as_tensor``: on the CPU a freshly gathered batch is wrapped through DLPack,
  without a copy (a GPU gets ``paddle.to_tensor`` copies);
* ``lean_cross_entropy``: the same ``cross_entropy_with_softmax`` operator as
  ``F.cross_entropy``, without the label-masking operators it runs and discards;
* ``lean_adam.Adam``: Paddle's fused multi-tensor Adam kernel, called directly;
* released gradients: ``clear_grad(set_to_zero=False)``, no zero-fill per step.

    PADDLE_MNIST_TUNED=0 python -m paddle_mnist train softmax --epochs 1
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable
import functools

import numpy as np

from paddle_mnist.perf.env import tuned_enabled
# deferred: paddle (loaded on first use, so importing this module stays light)


def as_tensor(a, share: bool = True):
    """A numpy batch as a Paddle tensor on the current device; on the CPU it shares the batch's memory.

    A C-contiguous, writable float32/int64 batch is wrapped through DLPack (the
    tensor keeps the array alive); anything else (a read-only memory map, a strided
    view) and every batch bound for a GPU (``share=False``) is copied by ``paddle.to_tensor``.
    """
    import paddle

    a = np.asarray(a)
    if share and a.flags.c_contiguous and a.flags.writeable and a.dtype in (np.float32, np.int64) and a.size:
        return paddle.from_dlpack(a)
    return paddle.to_tensor(np.ascontiguousarray(a))


def lean_cross_entropy(outputs, labels):
    """Mean softmax cross-entropy of logits ``[B, C]`` and int64 labels ``[B]``: ``F.cross_entropy``'s bits.

    The same operator (``cross_entropy_with_softmax``, then ``mean_all``) without the
    label-masking operators that ``F.cross_entropy`` runs and discards when no class
    weights are given. Anything else (other shapes, static graphs) goes to ``F.cross_entropy``.
    """
    import paddle
    import paddle.nn.functional as F

    if paddle.in_dynamic_mode() and len(outputs.shape) == 2 and len(labels.shape) == 1 and outputs.shape[0]:
        from paddle import _C_ops

        _, per_sample = _C_ops.cross_entropy_with_softmax(outputs, labels.reshape([-1, 1]), False, True, True,
                                                          -100, -1)
        return _C_ops.mean_all(per_sample)
    return F.cross_entropy(outputs, labels)


def adam_class(tuned: bool | None = None):
    """The Adam the engine builds: ``lean_adam.Adam`` when tuned (default: unless ``PADDLE_MNIST_TUNED=0``), else
    Paddle's own multi-tensor Adam.

    Both run Paddle's fused ``merged_adam_`` kernel (``use_multi_tensor=True``), whose
    rounding the results carry; the per-parameter kernel rounds differently in the last bits.
    """
    import paddle

    if not (tuned_enabled() if tuned is None else tuned):
        return functools.partial(paddle.optimizer.Adam, use_multi_tensor=True)
    from paddle_mnist.perf.lean_adam import Adam

    return Adam


@dataclass(frozen=True)
class StepKit:
    """What ``engine.loop.train_epoch`` and ``evaluate`` take from the seam, and the Adam that ``engine.fit`` builds."""

    to_tensor: Callable
    release_grads: bool
    tuned: bool
    adam: Callable  # the Adam class ``engine.optimizers`` builds (``adam_class``)

    def loss(self, loss):
        """``loss`` (an ``engine.losses.Loss``) with its lean form when tuned (the same bits)."""
        if self.tuned and loss.lean is not None:
            return dataclasses.replace(loss, fn=loss.lean)
        return loss


def step_kit(device: str, tuned: bool | None = None) -> StepKit:
    """The step pieces for ``device`` (``'cpu'``, ``'gpu:0'``): tuned unless ``PADDLE_MNIST_TUNED=0``."""
    import paddle

    tuned = tuned_enabled() if tuned is None else tuned
    if not tuned:
        return StepKit(paddle.to_tensor, False, False, adam_class(False))
    share = device == "cpu"  # batches share memory with numpy on the CPU; a GPU gets copies
    return StepKit(lambda a: as_tensor(a, share), True, True, adam_class(True))
