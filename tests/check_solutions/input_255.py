"""Mistake: images scaled to 0-255 instead of the file's [0, 1]."""
import correct as base
from correct import train  # noqa: F401 - the pieces check looks up by name


def load_data(mode="train", batch_size=100):
    batches = base.load_data(mode, batch_size)

    def data_generator():
        for x, y in batches():
            yield x * 255.0, y

    return data_generator


class SoftmaxNet(base.SoftmaxNet):
    pass


class MLP(base.MLP):
    pass
