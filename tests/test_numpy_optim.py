"""Numpy optimizers: hand-computed steps and agreement with paddle.optimizer on float64 parameters."""
from __future__ import annotations

import numpy as np
import paddle
import pytest

from paddle_mnist.scratch.optim import NUMPY_OPTIMIZERS, Adam, AdaGrad, Momentum, Nesterov, RMSProp, SGD, build_optimizer
from paddle_mnist.scratch.trajectories import paddle_optimizer

SHAPE = (3, 4)
STEPS = 10

# (name, keyword arguments shared by the numpy and the Paddle optimizer). The large
# epsilons pin down where epsilon enters each rule: its placement changes the result
# by far more than the tolerance.
CASES = [
    ("sgd", {}),
    ("momentum", {}),
    ("momentum", {"momentum": 0.5}),
    ("nesterov", {}),
    ("adagrad", {}),
    ("adagrad", {"epsilon": 0.3, "initial_accumulator_value": 0.2}),
    ("rmsprop", {}),
    ("rmsprop", {"epsilon": 0.3, "rho": 0.8}),
    ("rmsprop", {"momentum": 0.5, "centered": True, "epsilon": 0.1}),
    ("adam", {}),
    ("adam", {"epsilon": 0.3, "beta1": 0.8, "beta2": 0.95}),
]


def _gradients(seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=SHAPE), [rng.normal(size=SHAPE) for _ in range(STEPS)]


def _paddle_run(name, lr, kwargs, p0, grads):
    p = paddle.create_parameter(list(SHAPE), "float64", default_initializer=paddle.nn.initializer.Assign(p0))
    opt = paddle_optimizer(name, lr, [p], **kwargs)
    for g in grads:
        loss = paddle.sum(p * paddle.to_tensor(g))  # d loss / d p = g
        loss.backward()
        opt.step()
        opt.clear_grad()
    return p.numpy()


def _numpy_run(name, lr, kwargs, p0, grads):
    params = {"w": p0.copy()}
    opt = build_optimizer(name, lr, **kwargs)
    for g in grads:
        opt.step(params, {"w": g})
    return params["w"]


@pytest.mark.parametrize("name, kwargs", CASES)
def test_matches_paddle_after_10_steps(name, kwargs):
    p0, grads = _gradients()
    lr = 0.1
    ours = _numpy_run(name, lr, kwargs, p0, grads)
    theirs = _paddle_run(name, lr, kwargs, p0, grads)
    assert np.abs(ours - p0).max() > 1e-3  # it really moved
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", ["momentum", "rmsprop", "adagrad"])
def test_float32_hyperparameters_give_rounding_level_agreement(name):
    """Paddle takes these hyperparameters as float32; rounding them too closes the last ~1e-7."""
    p0, grads = _gradients(1)
    kwargs = {"momentum": {"momentum": 0.9}, "rmsprop": {"rho": 0.9, "epsilon": 0.1}, "adagrad": {"epsilon": 0.1}}[name]
    ours = _numpy_run(name, 0.3, kwargs, p0, grads)
    theirs = _paddle_run(name, 0.3, kwargs, p0, grads)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)
    opt = build_optimizer(name, 0.3, **kwargs)
    for hp in opt.FLOAT32_HPARAMS:
        assert getattr(opt, hp) == float(np.float32(getattr(opt, hp)))


def _two_steps(opt, g1, g2, p=1.0):
    params = {"p": np.array([p])}
    opt.step(params, {"p": np.array([g1])})
    first = params["p"][0]
    opt.step(params, {"p": np.array([g2])})
    return first, params["p"][0]


def test_hand_computed_sgd_momentum_nesterov():
    assert _two_steps(SGD(lr=0.5), 2.0, 4.0) == pytest.approx((0.0, -2.0))
    # v1 = 2, p1 = 1 - 0.5*2 = 0;  v2 = 0.5*2 + 4 = 5, p2 = 0 - 0.5*5 = -2.5
    assert _two_steps(Momentum(lr=0.5, momentum=0.5), 2.0, 4.0) == pytest.approx((0.0, -2.5))
    # p1 = 1 - 0.5*(2 + 0.5*2) = -0.5;  p2 = -0.5 - 0.5*(4 + 0.5*5) = -3.75
    assert _two_steps(Nesterov(lr=0.5, momentum=0.5), 2.0, 4.0) == pytest.approx((-0.5, -3.75))


def test_hand_computed_adagrad_epsilon_outside_root():
    # G = 0 + 9; p1 = 1 - 1.0 * 3 / (3 + 1) = 0.25;  G = 9 + 16; p2 = 0.25 - 4 / (5 + 1)
    first, second = _two_steps(AdaGrad(lr=1.0, epsilon=1.0), 3.0, 4.0)
    assert (first, second) == pytest.approx((0.25, 0.25 - 4 / 6))
    first, _ = _two_steps(AdaGrad(lr=1.0, epsilon=0.0, initial_accumulator_value=7.0), 3.0, 4.0)
    assert first == pytest.approx(1 - 3 / 4)


def test_hand_computed_rmsprop_epsilon_inside_root():
    # ms = 0.5 * 4 = 2; p1 = 1 - 1.0 * 2 / sqrt(2 + 2)
    first, _ = _two_steps(RMSProp(lr=1.0, rho=0.5, epsilon=2.0), 2.0, 0.0)
    assert first == pytest.approx(0.0)
    # centered: ms = 2, mg = 1, den = sqrt(2 - 1 + 0.0) = 1 -> p1 = 1 - 2 = -1
    first, _ = _two_steps(RMSProp(lr=1.0, rho=0.5, epsilon=0.0, centered=True), 2.0, 0.0)
    assert first == pytest.approx(-1.0)


def test_hand_computed_adam_is_textbook_bias_corrected():
    # step 1: m_hat = g, v_hat = g^2 -> p1 = 1 - lr * g / (|g| + eps)
    first, second = _two_steps(Adam(lr=0.1, beta1=0.5, beta2=0.75, epsilon=1.0), 3.0, 1.0)
    assert first == pytest.approx(1 - 0.1 * 3 / 4)
    m, v = 0.5 * 1.5 + 0.5, 0.75 * 2.25 + 0.25
    m_hat, v_hat = m / (1 - 0.25), v / (1 - 0.5625)
    assert second == pytest.approx(first - 0.1 * m_hat / (np.sqrt(v_hat) + 1.0))


def test_step_is_in_place_and_reset_clears_state():
    w = np.ones(3)
    params = {"w": w}
    opt = Momentum(lr=0.1)
    opt.step(params, {"w": np.ones(3)})
    assert params["w"] is w and np.allclose(w, 0.9)
    assert opt.state and opt.t == 1
    opt.reset()
    assert opt.state == {} and opt.t == 0


def test_registry_and_errors():
    assert set(NUMPY_OPTIMIZERS) == {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adadelta"}
    assert isinstance(build_optimizer("adam", 0.01), Adam)
    with pytest.raises(ValueError):
        build_optimizer("lbfgs", 0.1)
    with pytest.raises(ValueError):
        SGD(lr=-1.0).step({}, {})
    with pytest.raises(ValueError):
        SGD(lr=0.1).step({"w": np.ones(2)}, {"w": np.ones(3)})


def test_in_place_updates_have_the_bits_of_the_plain_formulas():
    """Adam and RMSProp update through scratch arrays; the numbers are those of the expressions written out."""
    rng = np.random.default_rng(2)
    p0 = rng.normal(size=(40, 7)).astype(np.float32)
    grads = [(rng.normal(size=p0.shape) * 0.1).astype(np.float32) for _ in range(25)]
    adam, rms = {"w": p0.copy()}, {"w": p0.copy()}
    opt_a, opt_r = Adam(lr=0.01), RMSProp(lr=0.01, momentum=0.5)
    p_a, m, v = p0.copy(), np.zeros_like(p0), np.zeros_like(p0)
    p_r, ms, mom = p0.copy(), np.zeros_like(p0), np.zeros_like(p0)
    rho, eps, mu = opt_r.rho, opt_r.epsilon, opt_r.momentum
    for t, g in enumerate(grads, 1):
        opt_a.step(adam, {"w": g})
        opt_r.step(rms, {"w": g})
        m, v = 0.9 * m + (1 - 0.9) * g, 0.999 * v + (1 - 0.999) * g * g
        p_a = p_a - 0.01 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
        ms = rho * ms + (1 - rho) * g * g
        mom = mu * mom + 0.01 * g / np.sqrt(ms + eps)
        p_r = p_r - mom
    assert adam["w"].dtype == np.float32 and np.array_equal(adam["w"], p_a)
    assert np.array_equal(rms["w"], p_r) and not np.array_equal(p_r, p0)
