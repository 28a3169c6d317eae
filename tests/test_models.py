"""Model shapes, parameter counts, layer names, and the double-softmax option."""
from __future__ import annotations

import numpy as np
import paddle
import pytest

from paddle_mnist.engine.nets import INITIALIZERS, MLP, MODELS, SoftmaxNet, build_model, count_parameters


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


@pytest.mark.parametrize("batch", [1, 7, 100])
def test_lean_cross_entropy_matches_paddle_bit_for_bit(batch):
    """``losses.cross_entropy`` skips F.cross_entropy's unused label masking: same loss, same gradient bits."""
    import paddle.nn.functional as F

    from paddle_mnist.perf.tuned import lean_cross_entropy as cross_entropy

    rng = np.random.default_rng(batch)
    logits = rng.standard_normal((batch, 10)).astype(np.float32) * 3
    labels = paddle.to_tensor(rng.integers(0, 10, batch))
    results = []
    for fn in (cross_entropy, F.cross_entropy):
        x = paddle.to_tensor(logits, stop_gradient=False)
        value = fn(x, labels)
        value.backward()
        results.append((value.numpy(), x.grad.numpy()))
    assert results[0][0].shape == results[1][0].shape == ()
    assert np.array_equal(results[0][0], results[1][0])
    assert np.array_equal(results[0][1], results[1][1])


def test_lean_cross_entropy_falls_back_for_other_shapes():
    import paddle.nn.functional as F

    from paddle_mnist.perf.tuned import lean_cross_entropy as cross_entropy

    logits = paddle.to_tensor(np.random.default_rng(0).standard_normal((4, 10)).astype(np.float32))
    labels = paddle.to_tensor(np.array([[1], [2], [3], [4]]))  # [B, 1] labels: F.cross_entropy's own path
    assert np.array_equal(cross_entropy(logits, labels).numpy(), F.cross_entropy(logits, labels).numpy())


def _adam_run(make_opt, steps=12, resume_at=None, schedule=False):
    """Train a small MLP ``steps`` steps; optionally rebuild the optimizer from its state dict midway."""
    from paddle_mnist.engine.nets import build_model

    rng = np.random.default_rng(0)
    xs = rng.standard_normal((steps, 16, 784)).astype(np.float32)
    ys = rng.integers(0, 10, (steps, 16))
    paddle.seed(0)
    model = build_model("mlp", hidden=(32,))
    lr = paddle.optimizer.lr.CosineAnnealingDecay(learning_rate=0.01, T_max=4) if schedule else 0.01
    opt = make_opt(model.parameters(), lr)
    for k in range(steps):
        if resume_at is not None and k == resume_at:
            state_o = opt.state_dict()  # a fresh optimizer on the same parameters (names are kept)
            lr = paddle.optimizer.lr.CosineAnnealingDecay(learning_rate=0.01, T_max=4) if schedule else 0.01
            opt = make_opt(model.parameters(), lr)
            opt.set_state_dict(state_o)
        loss = paddle.nn.functional.cross_entropy(model(paddle.to_tensor(xs[k])), paddle.to_tensor(ys[k]))
        loss.backward()
        with paddle.utils.unique_name.guard():  # accumulator names as a fresh process makes them (resume)
            opt.step()
        opt.clear_grad(set_to_zero=False)
        if schedule and k % 3 == 2:
            opt._learning_rate.step()
    return {k: v.numpy().copy() for k, v in model.state_dict().items()}, opt


@pytest.mark.parametrize("schedule", [False, True])
@pytest.mark.parametrize("weight_decay", [None, 1e-3])
def test_lean_adam_is_paddles_multi_tensor_adam_bit_for_bit(schedule, weight_decay):
    from paddle_mnist.perf.lean_adam import Adam

    def paddle_adam(params, lr):
        return paddle.optimizer.Adam(learning_rate=lr, parameters=params, weight_decay=weight_decay,
                                     use_multi_tensor=True)

    def lean(params, lr):
        return Adam(learning_rate=lr, parameters=params, weight_decay=weight_decay)

    want, ref = _adam_run(paddle_adam, schedule=schedule)
    got, opt = _adam_run(lean, schedule=schedule)
    assert opt._lean is (False if weight_decay else opt._lean)  # weight decay takes Paddle's own step
    if weight_decay is None:
        assert opt._lean  # the direct kernel call is what ran after the first step
    for name in want:
        assert np.array_equal(want[name], got[name]), name
    ref_state, lean_state = ref.state_dict(), opt.state_dict()  # same entries in the same order; the
    assert len(ref_state) == len(lean_state)  # layer names differ only by Paddle's global counter
    for (key, value), (key2, value2) in zip(ref_state.items(), lean_state.items()):
        assert key.split(".", 1)[-1] == key2.split(".", 1)[-1]
        if isinstance(value, paddle.Tensor):
            assert np.array_equal(value.numpy(), value2.numpy()), key
    resumed, _ = _adam_run(lean, resume_at=5, schedule=schedule)  # state_dict round trip midway
    for name in want:
        assert np.array_equal(want[name], resumed[name]), name


def test_released_gradients_train_exactly_like_zero_filled_ones():
    """The engine's ``clear_grad(set_to_zero=False)``: the next backward writes g instead of 0 + g, same bits."""
    from paddle_mnist.perf.lean_adam import Adam

    def run(set_to_zero):
        return _adam_run(lambda params, lr: _ClearAs(Adam(learning_rate=lr, parameters=params), set_to_zero))[0]

    want, got = run(True), run(False)
    for name in want:
        assert np.array_equal(want[name], got[name]), name


class _ClearAs:
    """An optimizer whose ``clear_grad`` always uses the given ``set_to_zero``."""

    def __init__(self, opt, set_to_zero):
        self.opt, self.set_to_zero = opt, set_to_zero

    def __getattr__(self, name):
        return getattr(self.opt, name)

    def clear_grad(self, set_to_zero=True):
        self.opt.clear_grad(set_to_zero=self.set_to_zero)
