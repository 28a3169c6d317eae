"""Toy-loss trajectories: the exact SGD path, numpy vs Paddle agreement for every optimizer, and source 003's words
and counts measured (steps to z <= 0.005, zig-zag, turns, overshoot, AdaGrad's falling rate) with their rules."""
from __future__ import annotations

import json
from functools import partial

import numpy as np
import pytest

from paddle_mnist.paths import RESULTS
from paddle_mnist.scratch.trajectories import (TARGET_LOSS, TRAJECTORY_SETTINGS, adagrad_rates, numpy_path, overshoot,
                                              paddle_path, path_words, run_trajectories, steps_to_loss, toy_loss)
from paddle_mnist.studies import claim_rules, claims
from paddle_mnist.studies.claims import verdict


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
    # every optimizer makes progress on the bowl with these settings; AdaDelta (no rate) starts slowly
    assert toy_loss(*ours[-1]) < (0.99 if name == "adadelta" else 0.5) * toy_loss(*ours[0])


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


# ----------------------------------------------------------- source 003's words and counts, measured
def test_steps_to_loss_matches_the_closed_form_sgd_path():
    k = np.arange(200)
    z = 4.9 * 0.81 ** (2 * k) + 4.0 * 0.81**k  # x = -7 * 0.81^k, y = 2 * (-0.9)^k
    assert steps_to_loss("sgd", 0.95) == int(np.flatnonzero(z <= TARGET_LOSS)[0])
    assert steps_to_loss("sgd", 0.95, max_steps=5) is None  # not within the budget
    assert steps_to_loss("sgd", 1.2, max_steps=300) is None  # y *= -1.4: the path grows, never reaches the target


def test_path_words_measure_zigzag_and_turns():
    zig = path_words(numpy_path("sgd", 0.95))  # y flips sign every step
    assert zig["y_flip_share"] == 1.0 and zig["max_turn_deg"] > 170
    straight = path_words([[0, 0], [1, 1], [2, 2], [3, 3]])
    assert straight["y_flip_share"] == 0.0 and straight["max_turn_deg"] == pytest.approx(0.0, abs=1e-5)
    right_angle = path_words([[0, 0], [1, 0], [1, 1]])
    assert right_angle["max_turn_deg"] == pytest.approx(90.0)


def test_overshoot_crossing_peak_and_return():
    assert not overshoot("sgd", 0.95)["crosses"]  # x shrinks by 0.81 per step, never past 0
    o = overshoot("momentum", 0.1)
    xs = numpy_path("momentum", 0.1, o["steps"])[:, 0]
    assert xs[o["cross_step"] - 1] < 0 < xs[o["cross_step"]]
    assert o["cross_step"] < o["peak_step"] < o["back_step"]
    assert xs[o["peak_step"]] == pytest.approx(o["excursion"] * 7.0) and xs[o["back_step"]] < 0


def test_adagrad_effective_rate_only_falls():
    rates = np.array(adagrad_rates(1.5))
    assert rates.shape == (20, 2)
    np.testing.assert_allclose(rates[0], 1.5 / (np.abs([-7 / 5, 2 * 2.0]) + 1e-6))
    assert (np.diff(rates, axis=0) <= 0).all() and (rates[-1] < rates[0]).all()


def _record(words=None, steps=None, over=None, status="ok", small=(85, 3777)):
    names = ("sgd", "momentum", "rmsprop", "adam", "adagrad")
    words = words or {"sgd": (1.0, 174.0), "momentum": (0.1, 28.0)}
    steps = steps or {"sgd": 148, "momentum": 128, "rmsprop": 130, "adam": 107, "adagrad": 26}
    over = over or {"crosses": True, "cross_step": 14, "excursion": 0.3, "peak_step": 23, "back_step": 38, "steps": 100}
    runs = [{"optimizer": n, "lr": 0.1, "status": status if n == "sgd" else "ok", "overshoot": over,
             "words": dict(zip(("y_flip_share", "max_turn_deg"), words.get(n, (0.0, 0.0)))),
             "effective_rates": [[1.0, 0.5], [0.8, 0.4]]} for n in names]
    return {"trajectories": {"runs": runs, "steps_to_target": {
        "target": 0.005, "max_steps": 10_000, "ours": steps, "source": dict(steps),
        "rmsprop_small_lr": {"lr": 0.1, "steps": small[0]}, "adagrad_small_lr": {"lr": 0.1, "steps": small[1]}}}}


def test_trajectory_rules_have_every_outcome():
    V = claim_rules
    assert verdict("traj-sgd-zigzag", _record())["verdict"] == V.REPRODUCED
    assert verdict("traj-sgd-zigzag", _record(words={"sgd": (0.1, 10.0)}))["verdict"] == V.CONTRADICTED
    assert verdict("traj-sgd-zigzag", _record(words={"sgd": (0.3, 10.0)}))["verdict"] == V.INCONCLUSIVE
    assert verdict("traj-momentum-smooth", _record())["verdict"] == V.REPRODUCED
    assert verdict("traj-momentum-smooth", _record(words={"momentum": (0.1, 120.0)}))["verdict"] == V.CONTRADICTED
    assert verdict("traj-momentum-smooth", _record(words={"momentum": (0.1, 60.0)}))["verdict"] == V.INCONCLUSIVE
    assert verdict("traj-momentum-overshoot", _record())["verdict"] == V.REPRODUCED
    assert verdict("traj-momentum-overshoot", _record(over={"crosses": False, "steps": 100, "cross_step": None}))["verdict"] == \
        V.CONTRADICTED
    late = {"crosses": True, "cross_step": 14, "excursion": 0.3, "peak_step": 40, "back_step": 60, "steps": 100}
    assert verdict("traj-momentum-overshoot", _record(over=late))["verdict"] == V.INCONCLUSIVE
    assert verdict("traj-steps-005", _record())["verdict"] == V.REPRODUCED
    swapped = {"sgd": 100, "momentum": 128, "rmsprop": 130, "adam": 107, "adagrad": 26}
    assert verdict("traj-steps-005", _record(steps=swapped))["verdict"] == V.CONTRADICTED
    tie = {"sgd": 148, "momentum": 128, "rmsprop": 128, "adam": 107, "adagrad": 26}
    assert verdict("traj-steps-005", _record(steps=tie))["verdict"] == V.INCONCLUSIVE
    assert verdict("traj-rmsprop-small-lr", _record(small=(20, 3777)))["verdict"] == V.REPRODUCED
    assert verdict("traj-rmsprop-small-lr", _record(small=(5000, 3777)))["verdict"] == V.CONTRADICTED
    assert verdict("traj-rmsprop-small-lr", _record(small=(500, 3777)))["verdict"] == V.INCONCLUSIVE
    assert verdict("opt-adagrad-decay", _record())["verdict"] == V.REPRODUCED
    for rule in [partial(verdict, i) for i in ("traj-sgd-zigzag", "traj-momentum-smooth", "traj-steps-005",
                                               "traj-rmsprop-small-lr")]:
        assert rule(_record(status="diverged"))["verdict"] == V.NOT_MEASURED  # a path that left the numbers
        assert rule({})["verdict"] == V.NOT_MEASURED


def test_trajectory_rows_on_the_committed_record():
    rec = json.loads((RESULTS / "trajectories.json").read_text())
    assert [r["optimizer"] for r in rec["runs"]][-1] == "adadelta"  # 003's seventh optimizer is drawn too
    st = rec["steps_to_target"]
    assert st["source"] == {"sgd": 148, "momentum": 128, "rmsprop": 130, "adam": 107}  # as 003 §3.2 printed them
    assert st["ours"] == {n: steps_to_loss(n, lr) for n, lr in TRAJECTORY_SETTINGS.items()}
    verdicts = {c["id"]: c["arms"] for c in claims.claims_ledger({"trajectories": rec})}
    assert verdicts["traj-sgd-zigzag"]["source"]["verdict"] == claim_rules.REPRODUCED
    assert verdicts["traj-steps-005"]["own"]["verdict"] == claim_rules.CONTRADICTED  # RMSProp 12 < SGD 32 < ...
