"""Toy-loss trajectories: the exact SGD path and numpy vs Paddle agreement for every optimizer."""
from __future__ import annotations

import json

import numpy as np
import pytest

from paddle_mnist.scratch.trajectories import TRAJECTORY_SETTINGS, numpy_path, paddle_path, run_trajectories, toy_loss


def test_sgd_exact_end_point():
    for path in (numpy_path("sgd", 0.95), paddle_path("sgd", 0.95)):
        assert path.shape == (21, 2)
        np.testing.assert_array_equal(np.round(path[-1], 4), [-0.1035, 0.2432])


def test_sgd_path_closed_form():
    # x <- x (1 - 0.95/5) = 0.81 x,  y <- y (1 - 2*0.95) = -0.9 y
    k = np.arange(21)
    expected = np.stack([-7.0 * 0.81**k, 2.0 * (-0.9) ** k], axis=1)
    np.testing.assert_allclose(numpy_path("sgd", 0.95), expected, rtol=1e-12)


@pytest.mark.parametrize("name", sorted(TRAJECTORY_SETTINGS))
def test_numpy_and_paddle_paths_agree(name):
    lr = TRAJECTORY_SETTINGS[name]
    ours, theirs = numpy_path(name, lr), paddle_path(name, lr)
    assert ours.shape == theirs.shape == (21, 2)
    np.testing.assert_array_equal(ours[0], [-7.0, 2.0])
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-6)
    # every optimizer makes progress on the bowl with these settings
    assert toy_loss(*ours[-1]) < 0.5 * toy_loss(*ours[0])


def test_paths_honour_steps_start_and_kwargs():
    path = numpy_path("momentum", 0.1, steps=3, start=(1.0, -1.0), momentum=0.0)
    np.testing.assert_allclose(path, numpy_path("sgd", 0.1, steps=3, start=(1.0, -1.0)))
    assert path.shape == (4, 2)
    with pytest.raises(ValueError):
        numpy_path("lbfgs", 0.1)  # not a numpy optimizer of this package


def test_run_trajectories_is_json_able():
    result = run_trajectories({"sgd": 0.95, "adam": 0.5}, steps=5)
    assert set(result) == {"sgd", "adam"}
    decoded = json.loads(json.dumps(result))
    assert decoded == result
    for name, entry in result.items():
        assert set(entry) == {"lr", "numpy", "paddle", "final"}
        assert len(entry["numpy"]) == len(entry["paddle"]) == 6
        assert entry["final"] == entry["numpy"][-1]
    assert result["adam"]["lr"] == 0.5
