"""The engine's batches: ``load_data(mode, batch_size)`` returns a generator function of batches.

The course's API (``course/mnist.py`` has the plain version) with what the engine
needs beside it: a ``path``, a ``seed`` of its own, ``drop_last``, argument checks,
and indexing that skips memmap's Python layer.

``mnist.json.gz`` holds three splits (train 50,000 / valid 10,000 / eval 10,000
images of 784 grey values in [0, 1], with their digit labels). ``eval`` is the
assignment's name for the official test split and stays the mode name here; the
command line, the metrics (``test/acc``), the dashboard and the report call it
``test`` (``evaluate --split test``, ``eval`` accepted). The file is parsed
once and cached as arrays (``datafile.store.read_arrays``); here we only batch them.

    python -c "from paddle_mnist import load_data; x, y = next(load_data('train', 100)()); print(x.shape, y[:10])"
"""
from __future__ import annotations

import numpy as np

from paddle_mnist.datafile.store import MODES, read_arrays


def load_data(mode: str = "train", batch_size: int = 100, *, path=None, seed: int | None = None,
              drop_last: bool = False):
    """Return a generator function yielding ``(imgs float32 [B, 784], labels int64 [B])``.

    ``train`` reshuffles on every call (from ``np.random.default_rng(seed)`` when
    ``seed`` is given, else from numpy's global generator, which ``--seed`` fixes);
    ``valid`` and ``eval`` keep file order. The last short batch is yielded unless
    ``drop_last``.
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; valid modes are {', '.join(MODES)}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    x, y = read_arrays(path)[mode]
    x, y = np.asarray(x), np.asarray(y)  # plain views of the memory maps: indexing skips memmap's Python layer
    n = len(y)
    rng = np.random.default_rng(seed) if seed is not None else None

    def data_generator():
        if mode == "train":
            order = rng.permutation(n) if rng is not None else np.random.permutation(n)
        else:
            order = None
        stop = n - n % batch_size if drop_last else n
        for start in range(0, stop, batch_size):
            if order is None:
                yield np.asarray(x[start:start + batch_size]), np.asarray(y[start:start + batch_size])
            else:
                idx = order[start:start + batch_size]
                yield np.take(x, idx, axis=0), np.take(y, idx, axis=0)  # = x[idx], y[idx], a little faster

    return data_generator
