"""Isolation: the MLP's forward kills its process (a segmentation fault); the other checks still run."""
import ctypes

import correct as base
from correct import load_data, train  # noqa: F401 - the pieces check looks up by name


class SoftmaxNet(base.SoftmaxNet):
    pass


class MLP(base.MLP):
    def forward(self, x):
        ctypes.string_at(0)  # reads address 0: SIGSEGV
        return super().forward(x)
