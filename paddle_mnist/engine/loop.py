"""The engine's training epoch and evaluation: the course's loop with the hooks of the speed seam.

For every batch: forward to logits, the loss, ``backward``, ``opt.step()``,
``opt.clear_grad()``, as ``train()`` in ``course/mnist.py``; here the batch
conversion (``to_tensor``), the gradient release and the loss read-out
(``value_of``) are parameters that ``engine.fit`` fills from ``perf.tuned.step_kit``
(same bits, ``tests/test_tuned.py``), and each step is yielded for logging.

    python -m paddle_mnist train softmax --epochs 1 --seeds 0
"""
from __future__ import annotations

import math

import numpy as np
import paddle


def train_epoch(model, batches, loss, opt, *, to_tensor=paddle.to_tensor, release_grads: bool = False,
                value_of=paddle.Tensor.item):
    """Train one pass over ``batches`` (numpy ``(images, labels)`` pairs); yield ``(loss, logits, labels)`` per step.

    A step whose loss is not finite is yielded *before* any update: the caller
    stops there (the run diverged). ``release_grads`` drops the gradients after a
    step instead of zero-filling them (the next ``backward`` writes fresh ones);
    ``value_of`` reads the batch loss as a number (data-parallel runs average it
    over their processes, so that every process takes the same decision).
    """
    model.train()
    for images, labels in batches:
        logits = model(to_tensor(images))
        batch_loss = loss.fn(logits, to_tensor(labels))
        value = value_of(batch_loss)
        if math.isfinite(value):
            batch_loss.backward()
            opt.step()
            opt.clear_grad(set_to_zero=not release_grads)
        yield value, logits.detach(), labels


def evaluate(model, x, y, loss, batch_size: int = 10000, *, to_tensor=paddle.to_tensor):
    """Mean loss, accuracy and predictions over ``(x, y)``, under ``no_grad`` in eval mode.

    ``x`` and ``y`` may be numpy arrays or Paddle tensors; tensors that fit in one
    batch are used as they are (no copy).
    """
    n = int(y.shape[0])
    was_training = model.training
    model.eval()
    total, preds = 0.0, []
    with paddle.no_grad():
        for start in range(0, n, batch_size):
            xb, yb = (x, y) if n <= batch_size else (x[start:start + batch_size], y[start:start + batch_size])
            xb = xb if isinstance(xb, paddle.Tensor) else to_tensor(xb)
            yb = yb if isinstance(yb, paddle.Tensor) else to_tensor(yb)
            out = model(xb)
            total += float(loss.fn(out, yb)) * int(yb.shape[0])
            preds.append(loss.predict(out))
    if was_training:
        model.train()
    if not preds:
        return 0.0, 0.0, np.zeros(0, dtype=np.int64)
    pred = (preds[0] if len(preds) == 1 else paddle.concat(preds)).numpy()
    labels = y.numpy() if isinstance(y, paddle.Tensor) else np.asarray(y)
    return total / n, float((pred == labels).mean()), pred


def accuracy(loss, logits: list, labels: list) -> int:
    """How many of an epoch's kept logits predict their labels (counted once per epoch, not per step)."""
    if not logits:
        return 0
    return int((loss.predict(paddle.concat(logits)).numpy() == np.concatenate(labels)).sum())
