"""AdaDelta: the numpy rule against ``paddle.optimizer.Adadelta``, and source 003's "the rate can be 0" claim.

    python -m pytest tests/test_adadelta.py -q -p no:cacheprovider
"""
from __future__ import annotations

import numpy as np
import pytest

from paddle_mnist.scratch.optim import AdaDelta
from paddle_mnist.studies.claim_rules_opt import adadelta_lr_zero
from test_numpy_optim import _gradients, _numpy_run, _paddle_run


@pytest.mark.parametrize("lr, kwargs", [(0.1, {}), (1.0, {}), (0.5, {"rho": 0.8, "epsilon": 0.01})])
def test_adadelta_matches_paddle(lr, kwargs):
    p0, grads = _gradients(2)
    ours = _numpy_run("adadelta", lr, kwargs, p0, grads)
    theirs = _paddle_run("adadelta", lr, kwargs, p0, grads)
    assert np.abs(ours - p0).max() > 1e-5
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-9)


def test_paddle_adadelta_with_rate_zero_does_not_move():
    p0, grads = _gradients(3)
    theirs = _paddle_run("adadelta", 0.0, {}, p0, grads)
    np.testing.assert_array_equal(theirs, p0)  # the rate multiplies the update
    ours = _numpy_run("adadelta", 0.0, {}, p0, grads)
    np.testing.assert_array_equal(ours, p0)


def test_textbook_adadelta_is_paddles_at_rate_one():
    p0, grads = _gradients(4)
    a, b = {"w": p0.copy()}, {"w": p0.copy()}
    tb, one = AdaDelta(lr=0.0, textbook=True), AdaDelta(lr=1.0)
    for g in grads:
        tb.step(a, {"w": g})
        one.step(b, {"w": g})
    np.testing.assert_allclose(a["w"], b["w"], rtol=0, atol=1e-15)
    assert np.abs(a["w"] - p0).max() > 1e-4


def test_lr_zero_measurement_is_what_the_claim_reads():
    m = adadelta_lr_zero()
    assert m["paddle_rule_lr0_max_move"] == 0.0
    assert m["textbook_rule_max_move"] > 0.0
