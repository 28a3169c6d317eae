"""Isolation: ``train`` kills its process (a segmentation fault); the card says so, the checks before it stand."""
import ctypes

import correct as base
from correct import load_data  # noqa: F401 - the pieces check looks up by name


class SoftmaxNet(base.SoftmaxNet):
    pass


class MLP(base.MLP):
    pass


def train(model, epochs=1):
    ctypes.string_at(0)  # reads address 0: SIGSEGV
