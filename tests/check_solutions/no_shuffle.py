"""Mistake: ``train`` batches always come in file order."""
import numpy as np

import correct as base
from correct import train  # noqa: F401 - the pieces check looks up by name
from paddle_mnist.datafile.store import read_arrays


def load_data(mode="train", batch_size=100):
    x, y = read_arrays()[mode]

    def data_generator():
        for start in range(0, len(y), batch_size):
            yield np.asarray(x[start:start + batch_size]), np.asarray(y[start:start + batch_size])

    return data_generator


class SoftmaxNet(base.SoftmaxNet):
    pass


class MLP(base.MLP):
    pass
