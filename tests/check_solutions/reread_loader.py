"""Mistake: ``load_data`` parses the JSON file again on every call (the course's 15 s per call)."""
import gzip
import json
import os

import numpy as np

import correct as base
from correct import train  # noqa: F401 - the pieces check looks up by name

MODES = {"train": 0, "valid": 1, "eval": 2}


def load_data(mode="train", batch_size=100):
    with gzip.open(os.environ.get("PADDLE_MNIST_DATA", "data/mnist.json.gz"), "rt") as f:
        imgs, labels = json.load(f)[MODES[mode]]
    x, y = np.array(imgs, dtype="float32"), np.array(labels, dtype="int64")

    def data_generator():
        order = np.random.permutation(len(y)) if mode == "train" else np.arange(len(y))
        for start in range(0, len(y), batch_size):
            idx = order[start:start + batch_size]
            yield x[idx], y[idx]

    return data_generator


class SoftmaxNet(base.SoftmaxNet):
    pass


class MLP(base.MLP):
    pass
