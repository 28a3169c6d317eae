"""NumpyMLP: agreement with the Paddle MLP, finite differences, stability, prediction, state dicts."""
from __future__ import annotations

import numpy as np
import paddle
import paddle.nn.functional as F
import pytest

from paddle_mnist.engine.nets import MLP
from paddle_mnist.scratch.net import NumpyMLP, log_softmax, softmax

HIDDEN = (8, 6)
BATCH = 5


@pytest.fixture
def float64_default():
    """Paddle layers built inside the test are float64; the old default comes back afterwards."""
    old = paddle.get_default_dtype()
    paddle.set_default_dtype("float64")
    try:
        yield
    finally:
        paddle.set_default_dtype(old)


def _batch(seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, size=(BATCH, 784))
    y = rng.integers(0, 10, size=BATCH)
    return x, y


def _paddle_loss(model, x, y, output):
    out = model(paddle.to_tensor(x))
    if output == "softmax_ce":
        loss = F.cross_entropy(out, paddle.to_tensor(y.reshape(-1, 1).astype("int64")))
    else:
        label = paddle.to_tensor(y.reshape(-1, 1).astype("float64"))
        loss = paddle.mean(F.square_error_cost(out, label))
    return out, loss


@pytest.mark.parametrize("output", ["softmax_ce", "mse"])
@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
def test_matches_paddle_mlp(float64_default, activation, output):
    n_out = 10 if output == "softmax_ce" else 1
    paddle.seed(1)
    model = MLP(hidden=HIDDEN, activation=activation, out_features=n_out)
    assert model.fc1.weight.dtype == paddle.float64
    net = NumpyMLP((784, *HIDDEN, n_out), activation=activation, output=output, seed=0)
    net.set_state_dict(model.state_dict())  # paddle tensors in
    x, y = _batch()

    out, loss = _paddle_loss(model, x, y, output)
    loss.backward()
    np_loss, grads = net.loss_and_grads(x, y)

    np.testing.assert_allclose(net.forward(x), out.numpy(), rtol=1e-5, atol=1e-12)
    np.testing.assert_allclose(np_loss, float(loss), rtol=1e-5)
    named = dict(model.named_parameters())
    assert set(named) == set(grads)
    for name, p in named.items():
        assert np.abs(grads[name]).max() > 0, name
        np.testing.assert_allclose(grads[name], p.grad.numpy(), rtol=1e-5, atol=1e-12, err_msg=name)


def test_numpy_weights_load_into_paddle(float64_default):
    net = NumpyMLP((784, *HIDDEN, 10), activation="tanh", seed=3)
    model = MLP(hidden=HIDDEN, activation="tanh")
    model.set_state_dict({k: paddle.to_tensor(v) for k, v in net.state_dict().items()})
    x, _ = _batch()
    np.testing.assert_allclose(model(paddle.to_tensor(x)).numpy(), net.forward(x), rtol=1e-10, atol=1e-12)


def _numeric_grad(net, x, y, name, eps=1e-6):
    p = net.params[name]
    g = np.zeros_like(p)
    for idx in np.ndindex(p.shape):
        old = p[idx]
        p[idx] = old + eps
        up = net.loss(x, y)
        p[idx] = old - eps
        down = net.loss(x, y)
        p[idx] = old
        g[idx] = (up - down) / (2 * eps)
    return g


@pytest.mark.parametrize(
    "sizes, output",
    [((5, 4, 3, 3), "softmax_ce"), ((5, 4, 3, 3), "mse"), ((5, 4, 3, 1), "mse"), ((5, 3), "softmax_ce")],
)
@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
def test_backward_matches_finite_differences(sizes, output, activation):
    rng = np.random.default_rng(7)
    net = NumpyMLP(sizes, activation=activation, output=output, seed=2)
    for k in net.params:  # non-zero biases so every term of the backward pass is exercised
        net.params[k] += rng.normal(0, 0.3, size=net.params[k].shape)
    x = rng.normal(size=(6, sizes[0]))
    y = rng.integers(0, 3, size=6)
    _, grads = net.loss_and_grads(x, y)
    for name in net.params:
        num = _numeric_grad(net, x, y, name)
        assert np.abs(num).max() > 1e-6, name
        np.testing.assert_allclose(grads[name], num, rtol=1e-5, atol=1e-8, err_msg=name)


def test_softmax_is_stable_for_huge_logits():
    logits = np.array([[1000.0, 0.0, -1000.0], [-5000.0, -5000.0, -5000.0]])
    p = softmax(logits)
    assert np.all(np.isfinite(p))
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    np.testing.assert_allclose(log_softmax(logits)[0], [0.0, -1000.0, -2000.0])
    np.testing.assert_allclose(p[1], [1 / 3] * 3)


def test_loss_is_finite_and_correct_for_huge_logits():
    net = NumpyMLP((2, 3), seed=0)
    net.params["fc1.weight"][...] = [[1000.0, 0.0, -1000.0], [0.0, 0.0, 0.0]]
    x = np.array([[1.0, 0.0]])
    assert net.loss(x, [0]) == pytest.approx(0.0, abs=1e-12)
    assert net.loss(x, [2]) == pytest.approx(2000.0)
    grads = net.backward()
    assert all(np.all(np.isfinite(g)) for g in grads.values())


def test_predict_rounds_and_clips_regression_output():
    net = NumpyMLP((2, 1), output="mse", seed=0)
    net.params["fc1.weight"][...] = [[1.0], [0.0]]
    x = np.array([[-3.0, 0.0], [4.4, 0.0], [4.6, 0.0], [12.0, 0.0]])
    np.testing.assert_array_equal(net.predict(x), [0, 4, 5, 9])
    assert net.accuracy(x, [0, 4, 5, 8]) == pytest.approx(0.75)


def test_predict_argmax_for_softmax():
    net = NumpyMLP((3, 3), seed=0)
    net.params["fc1.weight"][...] = np.eye(3)
    np.testing.assert_array_equal(net.predict(np.array([[0.0, 2.0, 1.0], [5.0, 0.0, 0.0]])), [1, 0])


def test_mse_target_is_digit_value_for_one_output():
    net = NumpyMLP((2, 1), output="mse", seed=0)
    net.params["fc1.weight"][...] = [[1.0], [0.0]]
    x = np.array([[3.0, 0.0], [1.0, 0.0]])
    # outputs 3 and 1 against digits 5 and 1: ((3-5)^2 + 0) / 2
    assert net.loss(x, np.array([5, 1])) == pytest.approx(2.0)


def test_params_keyed_like_paddle_mlp_and_xavier_init():
    net = NumpyMLP((784, 200, 200, 10), seed=0)
    assert list(net.params) == list(MLP().state_dict())
    assert net.params["fc1.weight"].shape == (784, 200)
    assert net.params["fc3.bias"].shape == (10,)
    assert net.num_parameters() == 199_210
    limit = np.sqrt(6 / (784 + 200))
    w = net.params["fc1.weight"]
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.95 * limit
    assert np.all(net.params["fc1.bias"] == 0)
    np.testing.assert_array_equal(w, NumpyMLP(seed=0).params["fc1.weight"])


def test_set_state_dict_copies_and_validates():
    a, b = NumpyMLP((4, 3, 2), seed=0), NumpyMLP((4, 3, 2), seed=1)
    state = a.state_dict()
    b.set_state_dict(state)
    state["fc1.weight"][...] = 0  # the loaded weights are copies
    np.testing.assert_array_equal(b.params["fc1.weight"], a.params["fc1.weight"])
    with pytest.raises(KeyError):
        b.set_state_dict({"fc1.weight": a.params["fc1.weight"]})
    bad = a.state_dict()
    bad["fc2.bias"] = np.zeros(3)
    with pytest.raises(ValueError):
        b.set_state_dict(bad)


def test_float32_dtype_and_bad_arguments():
    net = NumpyMLP((5, 4, 3), dtype=np.float32, seed=0)
    loss, grads = net.loss_and_grads(np.ones((2, 5)), [0, 1])
    assert np.isfinite(loss)
    assert all(g.dtype == np.float32 for g in grads.values())
    with pytest.raises(ValueError):
        NumpyMLP(activation="swish")
    with pytest.raises(ValueError):
        NumpyMLP(output="hinge")
    with pytest.raises(RuntimeError):
        NumpyMLP((5, 3)).backward()
