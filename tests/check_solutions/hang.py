"""Isolation: ``load_data`` never returns; the data check times out and the other checks still run."""
import correct as base
from correct import train  # noqa: F401 - the pieces check looks up by name


def load_data(mode="train", batch_size=100):
    while True:
        pass


class SoftmaxNet(base.SoftmaxNet):
    pass


class MLP(base.MLP):
    pass
