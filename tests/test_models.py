"""Model shapes, parameter counts, layer names, and the double-softmax option."""
from __future__ import annotations

import numpy as np
import paddle
import pytest

from paddle_mnist.models import INITIALIZERS, MLP, MODELS, SoftmaxNet, build_model, count_parameters


def test_softmax_net_shape_and_parameters():
    model = SoftmaxNet()
    assert count_parameters(model) == 7850
    out = model(paddle.rand([5, 784]))
    assert out.shape == [5, 10]
    assert [n for n, _ in model.named_parameters()] == ["fc1.weight", "fc1.bias"]


def test_mlp_default_is_784_200_200_10():
    model = MLP()
    assert count_parameters(model) == 199210
    names = [n for n, _ in model.named_parameters()]
    assert names == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"]
    assert model(paddle.rand([3, 1, 28, 28])).shape == [3, 10]


def test_mlp_dropout_layers_are_named_and_active_only_in_training():
    model = MLP(dropout=0.5)
    sub = dict(model.named_sublayers())
    assert "dropout1" in sub and "dropout2" in sub
    x = paddle.rand([4, 784])
    model.eval()
    a, b = model(x).numpy(), model(x).numpy()
    assert np.array_equal(a, b)
    model.train()
    assert not np.array_equal(model(x).numpy(), model(x).numpy())


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_registered_model_returns_logits(name):
    model = build_model(name)
    out = model(paddle.rand([6, 784]))
    probs = paddle.nn.functional.softmax(out).numpy()
    assert out.shape == [6, 10]
    # logits, not probabilities: rows of the raw output do not sum to one
    assert not np.allclose(out.numpy().sum(axis=1), 1.0, atol=1e-3)
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_double_softmax_returns_probabilities():
    out = MLP(double_softmax=True)(paddle.rand([4, 784])).numpy()
    assert np.allclose(out.sum(axis=1), 1.0, atol=1e-5) and (out >= 0).all()


def test_single_output_regressor_and_activations():
    assert MLP(out_features=1)(paddle.rand([2, 784])).shape == [2, 1]
    for act in ("relu", "sigmoid", "tanh"):
        acts = MLP(activation=act).hidden_activations(paddle.rand([3, 784]))
        assert [a.shape for a in acts] == [[3, 200], [3, 200]]
    with pytest.raises(ValueError, match="unknown activation"):
        MLP(activation="gelu")
    with pytest.raises(ValueError, match="unknown model"):
        build_model("resnet")


@pytest.mark.parametrize("init", sorted(INITIALIZERS))
def test_initializers(init):
    paddle.seed(0)
    w = MLP(init=init).fc1.weight.numpy()
    std = float(w.std())
    expected = {"zero": (0, 0), "normal": (0.9, 1.1), "normal_small": (0.009, 0.011),
                "xavier": (0.04, 0.06), "msra": (0.045, 0.056), "default": (0.04, 0.06)}[init]
    assert expected[0] <= std <= expected[1], std
