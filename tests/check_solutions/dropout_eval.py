"""Mistake: ``F.dropout`` in ``forward`` without ``training=self.training``: dropout stays on at evaluation."""
import paddle.nn.functional as F

import correct as base
from correct import load_data, train  # noqa: F401 - the pieces check looks up by name


class SoftmaxNet(base.SoftmaxNet):
    pass


class MLP(base.MLP):
    def forward(self, x):
        return self.fc3(F.dropout(self.hidden(x), p=0.1))
