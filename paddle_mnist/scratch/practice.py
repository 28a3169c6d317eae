"""Numpy pieces of source 002's practices and source 000's k-fold remark: averages, splits, scaling, a lean classifier.

* ``ewa``: the exponentially weighted average ``v_t = beta v_{t-1} + (1 - beta) theta_t`` (``v_0 = 0``), with
  or without the bias correction ``v_t / (1 - beta^t)``; ``seasonal_series`` a seeded noisy year of daily
  temperatures; ``roughness`` and ``lag`` the two measures of an average.
* ``kfold_indices`` / ``holdout_indices``: seeded splits of ``n`` indices.
* ``Standardiser``: per-feature mean 0 / std 1 from the training rows (zero-variance features only centred).
* ``SoftmaxRegression``: 784 -> 10 softmax regression with one lean step for every batch size (1 to the whole
  split), an optional L2 weight; its loss and gradients equal ``scratch.net.NumpyMLP((784, 10))``'s.

Nothing runs at import; paddle is never imported here.

    python -c "from paddle_mnist.scratch.practice import ewa; print(ewa([5.0] * 4, 0.9, bias_correction=True))"
"""
from __future__ import annotations

import math

import numpy as np

from paddle_mnist.scratch.net import xavier_uniform

DAYS = 365
# Daily temperatures (degrees F): coldest on day 15, mean 55, amplitude 20, Gaussian noise of std 6.
SEASON = {"mean": 55.0, "amplitude": 20.0, "coldest_day": 15, "noise_std": 6.0}


# ------------------------------------------------------------------ exponentially weighted averages
def ewa(series, beta: float, bias_correction: bool = False) -> np.ndarray:
    """``v_t = beta v_{t-1} + (1 - beta) theta_t`` from ``v_0 = 0`` for t = 1..T; corrected: ``v_t / (1 - beta^t)``."""
    if not 0.0 <= beta < 1.0:
        raise ValueError(f"beta must be in [0, 1), got {beta}")
    theta = np.asarray(series, dtype=np.float64)
    out, v = np.empty_like(theta), 0.0
    for t, value in enumerate(theta):
        v = beta * v + (1.0 - beta) * value
        out[t] = v
    if bias_correction:
        out /= 1.0 - beta ** np.arange(1, len(theta) + 1)
    return out


def seasonal_series(seed: int, days: int = DAYS, season: dict = SEASON) -> tuple[np.ndarray, np.ndarray]:
    """``(signal, observed)``: the noise-free seasonal curve over ``days`` days and it plus seeded Gaussian noise."""
    d = np.arange(days, dtype=np.float64)
    signal = season["mean"] - season["amplitude"] * np.cos(2 * np.pi * (d - season["coldest_day"]) / DAYS)
    noise = np.random.default_rng(seed).normal(0.0, season["noise_std"], size=days)
    return signal, signal + noise


def roughness(values, start: int = 0) -> float:
    """Mean |step-to-step change| of ``values[start:]`` (in the series' units)."""
    v = np.asarray(values, dtype=np.float64)[start:]
    return float(np.mean(np.abs(np.diff(v))))


def lag(average, signal, start: int, max_shift: int) -> int:
    """The shift k (0..max_shift days) minimising mean (average_t - signal_{t-k})^2 over t >= ``start``.

    How many days the average trails the noise-free signal; ``start`` must be >= ``max_shift``.
    """
    if start < max_shift:
        raise ValueError(f"start ({start}) must be >= max_shift ({max_shift})")
    a, s = np.asarray(average, dtype=np.float64), np.asarray(signal, dtype=np.float64)
    errors = [np.mean((a[start:] - s[start - k:len(s) - k]) ** 2) for k in range(max_shift + 1)]
    return int(np.argmin(errors))


# ------------------------------------------------------------------ splits and scaling
def kfold_indices(n: int, k: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """``k`` (train, held-out) index pairs: a seeded permutation of ``range(n)`` cut into ``k`` near-equal folds."""
    if not 2 <= k <= n:
        raise ValueError(f"k must be between 2 and n={n}, got {k}")
    folds = np.array_split(np.random.default_rng(seed).permutation(n), k)
    return [(np.concatenate(folds[:i] + folds[i + 1:]), folds[i]) for i in range(k)]


def holdout_indices(n: int, n_valid: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(train, valid)``: ``n_valid`` seeded indices of ``range(n)`` held out, the rest for training."""
    if not 0 < n_valid < n:
        raise ValueError(f"n_valid must be between 1 and n-1={n - 1}, got {n_valid}")
    order = np.random.default_rng(seed).permutation(n)
    return order[n_valid:], order[:n_valid]


class Standardiser:
    """Per-feature ``(x - mean) / std`` with the mean and std of the rows it is fitted on (read in chunks).

    A feature that is constant there (a pixel that is 0 in every training image) is only centred (divided
    by 1), so no value becomes infinite or NaN.
    """

    def __init__(self, x, chunk: int = 10000):
        n = len(x)
        if n == 0:
            raise ValueError("cannot standardise with no rows")
        total = 0.0
        lo, hi = np.inf, -np.inf
        for i in range(0, n, chunk):
            c = np.asarray(x[i:i + chunk], dtype=np.float64)
            total = total + c.sum(axis=0)
            lo, hi = np.minimum(lo, c.min(axis=0)), np.maximum(hi, c.max(axis=0))
        self.mean = total / n
        sq = sum(((np.asarray(x[i:i + chunk], dtype=np.float64) - self.mean) ** 2).sum(axis=0)
                 for i in range(0, n, chunk))
        self.constant, self.low, self.high = lo == hi, lo, hi
        self.std = np.where(self.constant, 1.0, np.sqrt(sq / n))

    def max_abs(self) -> float:
        """The largest |standardised value| over the rows it was fitted on."""
        return float(np.max(np.maximum(self.high - self.mean, self.mean - self.low) / self.std))

    def __call__(self, x, dtype=np.float32) -> np.ndarray:
        return ((np.asarray(x, dtype=np.float64) - self.mean) / self.std).astype(dtype)


def batch_indices(n: int, batch_size: int, rng: np.random.Generator):
    """Endless mini-batches of ``range(n)``: a fresh seeded permutation every epoch, the last short batch dropped."""
    if not 1 <= batch_size <= n:
        raise ValueError(f"batch_size must be between 1 and n={n}, got {batch_size}")
    while True:
        order = rng.permutation(n)
        for start in range(0, n - batch_size + 1, batch_size):
            yield order[start:start + batch_size]


# ------------------------------------------------------------------ softmax regression
class SoftmaxRegression:
    """``logits = x W + b`` (``W`` [784, 10] Xavier uniform from ``seed``, ``b`` zero), softmax cross entropy.

    ``step`` is the same few array operations for any batch size, so batch sizes 1, 100 and 50,000 differ
    only in how much work each call vectorises. ``l2`` adds ``l2 * W`` to the weight gradient (the penalty
    ``l2 / 2 * |W|^2``; the loss returned is the cross entropy alone).
    """

    def __init__(self, n_in: int = 784, n_out: int = 10, seed: int = 0, dtype=np.float32):
        self.w = xavier_uniform(n_in, n_out, np.random.default_rng(seed), dtype)
        self.b = np.zeros(n_out, dtype=dtype)

    def _probabilities(self, x, y) -> tuple[np.ndarray, float]:
        z = x @ self.w
        z += self.b
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        s = e.sum(axis=1, keepdims=True)
        rows = np.arange(len(y))
        loss = float(np.mean(np.log(s[:, 0]) - z[rows, y]))
        e /= s
        return e, loss

    def gradients(self, x, y, l2: float = 0.0) -> tuple[float, np.ndarray, np.ndarray]:
        """``(loss, dW, db)`` of the batch-mean cross entropy (plus the L2 term in ``dW``)."""
        p, loss = self._probabilities(x, y)
        p[np.arange(len(y)), y] -= 1.0
        p /= len(y)
        gw = x.T @ p
        if l2:
            gw += l2 * self.w
        return loss, gw, p.sum(axis=0)

    def step(self, x, y, lr: float, l2: float = 0.0) -> float:
        """One gradient-descent step on the batch ``(x, y)``; returns the batch loss before the step."""
        loss, gw, gb = self.gradients(x, y, l2)
        self.w -= lr * gw
        self.b -= lr * gb
        return loss

    def loss(self, x, y, chunk: int = 10000) -> float:
        """Mean cross entropy over ``(x, y)`` (in chunks)."""
        total = 0.0
        for i in range(0, len(y), chunk):
            total += self._probabilities(x[i:i + chunk], y[i:i + chunk])[1] * len(y[i:i + chunk])
        return total / len(y)

    def accuracy(self, x, y, chunk: int = 10000) -> float:
        hits = sum(int(np.sum((x[i:i + chunk] @ self.w + self.b).argmax(axis=1) == y[i:i + chunk]))
                   for i in range(0, len(y), chunk))
        return hits / len(y)


def inverse_time_decay(lr0: float, decay_rate: float, epoch: int) -> float:
    """Source 002's decay ``lr0 / (1 + decay_rate * epoch)``, epochs counted from 0 (the first epoch runs at lr0)."""
    return lr0 / (1.0 + decay_rate * epoch)


def fit_softmax(x, y, *, epochs: int, batch_size: int, lr: float, seed: int, l2: float = 0.0,
                decay_rate: float = 0.0) -> tuple[SoftmaxRegression, list[float]]:
    """Mini-batch SGD of a ``SoftmaxRegression`` (seeded weights and batch order, last short batch kept).

    The rate of epoch e is ``inverse_time_decay(lr, decay_rate, e)`` (``decay_rate=0``: constant).
    Returns the model and the mean batch loss of every epoch.
    """
    model, rng = SoftmaxRegression(x.shape[1], seed=seed), np.random.default_rng(seed)
    losses = []
    for epoch in range(epochs):
        rate, order, total = inverse_time_decay(lr, decay_rate, epoch), rng.permutation(len(y)), 0.0
        for i in range(0, len(y), batch_size):
            idx = order[i:i + batch_size]
            total += model.step(x[idx], y[idx], rate, l2) * len(idx)
        losses.append(total / len(y))
        if not math.isfinite(losses[-1]):
            break
    return model, losses
