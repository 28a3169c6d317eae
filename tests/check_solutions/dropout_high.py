"""Mistake: dropout p = 0.6 after each hidden layer (more units dropped than kept)."""
import paddle.nn as nn
import paddle.nn.functional as F

import correct as base
from correct import load_data, train  # noqa: F401 - the pieces check looks up by name


class SoftmaxNet(base.SoftmaxNet):
    pass


class MLP(base.MLP):
    def __init__(self):
        super().__init__()
        self.dropout1 = nn.Dropout(0.6)
        self.dropout2 = nn.Dropout(0.6)

    def forward(self, x):
        h = self.dropout1(F.relu(self.fc1(x.reshape([-1, 784]))))
        return self.fc3(self.dropout2(F.relu(self.fc2(h))))
