"""``MnistJson``: a ``paddle.io.Dataset`` over the same cached arrays as ``load_data``.

For ``paddle.io.DataLoader`` and ``paddle.Model.fit`` users; each item is
``(image float32 [784], label int64 [1])``.

    python -c "from paddle_mnist.datafile.dataset import MnistJson; print(len(MnistJson('valid')))"
"""
from __future__ import annotations

import numpy as np
import paddle

from paddle_mnist.datafile.store import MODES, read_arrays


class MnistJson(paddle.io.Dataset):
    def __init__(self, mode: str = "train", path=None):
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; valid modes are {', '.join(MODES)}")
        self.mode = mode
        self.images, self.labels = read_arrays(path)[mode]

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i):
        return np.asarray(self.images[i], dtype=np.float32), np.asarray([self.labels[i]], dtype=np.int64)
