"""A correct solution of the course's four pieces: every line of ``check`` passes.

The other files of this folder each import these pieces and change one thing (one mistake each).

    python -m paddle_mnist check tests/check_solutions/correct.py
"""
import numpy as np
import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from paddle_mnist.datafile.store import read_arrays


def load_data(mode="train", batch_size=100):
    """A generator function of (images float32 [B, 784], labels int64 [B]); train reshuffles on every call."""
    x, y = read_arrays()[mode]

    def data_generator():
        order = np.random.permutation(len(y)) if mode == "train" else np.arange(len(y))
        for start in range(0, len(y), batch_size):
            idx = order[start:start + batch_size]
            yield np.asarray(x[idx], dtype="float32"), np.asarray(y[idx], dtype="int64")

    return data_generator


class SoftmaxNet(nn.Layer):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 10)

    def forward(self, x):
        return self.fc1(paddle.reshape(x, [-1, 784]))


class MLP(nn.Layer):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 200)
        self.fc2 = nn.Linear(200, 200)
        self.fc3 = nn.Linear(200, 10)

    def hidden(self, x):
        return F.relu(self.fc2(F.relu(self.fc1(paddle.reshape(x, [-1, 784])))))

    def forward(self, x):
        return self.fc3(self.hidden(x))


def make_optimizer(model, lr=None):
    if isinstance(model, SoftmaxNet):
        return paddle.optimizer.SGD(learning_rate=lr or 0.1, parameters=model.parameters())
    return paddle.optimizer.Adam(learning_rate=lr or 0.001, parameters=model.parameters())


def loss_fn(logits, labels):
    return F.cross_entropy(logits, labels)


def train(model, epochs=1, batch_size=100, lr=None):
    opt = make_optimizer(model, lr)
    batches = load_data("train", batch_size)
    model.train()
    for _ in range(epochs):
        for x, y in batches():
            loss = loss_fn(model(paddle.to_tensor(x)), paddle.to_tensor(y))
            loss.backward()
            opt.step()
            opt.clear_grad()
    return model
