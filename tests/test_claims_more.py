"""The further optimizer claims (``studies.claim_rules_more``): every outcome of each rule on synthetic records, the
toy parts they read (``scratch.plateau``), and the verdicts on the committed records.

    python -m pytest tests/test_claims_more.py -q -p no:cacheprovider
"""
from __future__ import annotations

import json
from functools import partial
import re

import numpy as np
import pytest

from paddle_mnist.paths import RESULTS
from paddle_mnist.scratch.plateau import OSCILLATION, flip_share, oscillation_start, oscillation_study, plateau_study
from paddle_mnist.scratch.trajectories import toy_grad
from paddle_mnist.studies import claim_rules as R
from paddle_mnist.studies import claim_rules_more as M
from paddle_mnist.studies import claims
from paddle_mnist.studies.numpy_nets import SOURCE_004

NEW = ("sgd-no-acceleration", "plateau-escape", "momentum-damps", "standardise-speed", *M.NUMPY_PRINTED)
# the rows decided by generic rules (``claim_specs``), called as the ledger calls them
sgd_no_acceleration, plateau_escape, momentum_damps, standardise_speed = (partial(claims.verdict, i) for i in (
    "sgd-no-acceleration", "plateau-escape", "momentum-damps", "standardise-speed"))


@pytest.fixture(scope="module")
def records():
    return {n: json.loads((RESULTS / f"{n}.json").read_text()) for n in claims.RESULT_NAMES
            if (RESULTS / f"{n}.json").is_file()}


@pytest.fixture(scope="module")
def ledger(records):
    return {c["id"]: c["arms"] for c in claims.claims_ledger(records)}


def _jitter(base, spread, n=5):
    return [base + spread * (i - (n - 1) / 2) for i in range(n)]


# ---------------------------------------------------------------- 001: SGD has no acceleration
def _tuned(losses, status="ok"):
    runs = [{"variant": f"tuned_{o}", "stage": "tuned", "status": status if o == "adam" else "ok", "name": f"{o}-{i}",
             "history": {"train_loss": [v, v / 2]}} for o, vals in losses.items() for i, v in enumerate(vals)]
    return {"optimizers": {"runs": runs, "analysis": {"tuned": {o: {"lr": 0.1} for o in losses}}}}


@pytest.mark.parametrize("rival_loss, verdict", [
    (0.28, R.REPRODUCED),  # every rival lower after epoch 1 beyond noise
    (0.35, R.CONTRADICTED),  # Adam higher than SGD beyond noise
    (0.319, R.INCONCLUSIVE),  # Adam within noise of SGD
])
def test_sgd_no_acceleration_outcomes(rival_loss, verdict):
    losses = {"sgd": _jitter(0.32, 0.002), "momentum": _jitter(0.26, 0.002), "rmsprop": _jitter(0.26, 0.002),
              "adam": _jitter(rival_loss, 0.002)}
    res = sgd_no_acceleration(_tuned(losses))
    assert res["verdict"] == verdict and len(res["comparisons"]) == 3
    assert sgd_no_acceleration(_tuned(losses, status="diverged"))["verdict"] == R.NOT_MEASURED
    del losses["rmsprop"]
    assert sgd_no_acceleration(_tuned(losses))["verdict"] == R.NOT_MEASURED  # a rival named is missing


def test_sgd_no_acceleration_is_untestable_on_a_constant_metric():
    same = {o: [0.3] * 5 for o in ("sgd", "momentum", "rmsprop", "adam")}
    assert sgd_no_acceleration(_tuned(same))["verdict"] == R.UNTESTABLE


# ---------------------------------------------------------------- 002 §1.2: the plateau
def _plateau(steps, status="ok"):
    runs = [{"optimizer": o, "seed": i, "escape_step": s, "status": status if o == "adam" else "ok"}
            for o, vals in steps.items() for i, s in enumerate(vals)]
    return {"trajectories": {"plateau": {"settings": {"radius": 0.5, "lr": 0.01, "max_steps": 3000}, "runs": runs}}}


@pytest.mark.parametrize("adam, verdict", [(_jitter(40, 2), R.REPRODUCED), (_jitter(900, 20), R.CONTRADICTED),
                                           ([700, 100, 1400, 300, 1200], R.INCONCLUSIVE)])
def test_plateau_escape_outcomes(adam, verdict):
    steps = {"sgd": _jitter(750, 40), "momentum": _jitter(120, 10), "rmsprop": _jitter(21, 1), "adam": adam}
    assert plateau_escape(_plateau(steps))["verdict"] == verdict
    assert plateau_escape(_plateau(steps, status="diverged"))["verdict"] == R.NOT_MEASURED
    never = dict(steps, sgd=[None] * 5)  # never left: counted as the step limit
    assert plateau_escape(_plateau(never))["comparisons"][0]["mean_a"] == 3000
    assert plateau_escape(_plateau({o: [50] * 5 for o in steps}))["verdict"] == R.UNTESTABLE
    assert plateau_escape({})["verdict"] == R.NOT_MEASURED


def test_plateau_study_reuses_the_saddle_runs(records):
    """The plateau part's SGD and Momentum are the saddle part's runs (same starts, same rule); two more optimizers."""
    part = records["trajectories"]["plateau"]
    saddle = {(r["seed"], r["optimizer"]): r["escape_step"] for r in records["trajectories"]["saddle"]["runs"]}
    mine = {(r["seed"], r["optimizer"]): r["escape_step"] for r in part["runs"]}
    assert saddle and all(mine[k] == v for k, v in saddle.items())
    assert {o for _, o in mine} == {"sgd", "momentum", "rmsprop", "adam"}
    assert plateau_study([0])["runs"] == [r for r in part["runs"] if r["seed"] == 0]  # the record is this code's


# ---------------------------------------------------------------- 002 §8: the zig-zag
def _osc(gd, mo, status="ok", rates=(0.6, 0.95)):
    runs = [{"seed": i, "rate": rate, "arm": arm, "status": status if arm == "gd" and i == 0 else "ok",
             "y_flip_share": v, "rise_share": 0.0}
            for rate in rates for arm, vals in (("gd", gd), ("momentum-002", mo), ("momentum-paddle", mo))
            for i, v in enumerate(vals)]
    return {"trajectories": {"oscillation": {"settings": {"rates": list(rates)}, "runs": runs}}}


def test_momentum_damps_outcomes():
    assert momentum_damps(_osc([1.0] * 3, [0.1] * 3))["verdict"] == R.REPRODUCED
    assert momentum_damps(_osc([0.4] * 3, [0.6] * 3))["verdict"] == R.CONTRADICTED
    assert momentum_damps(_osc([1.0] * 3, [0.1, 0.1, 1.0]))["verdict"] == R.CONTRADICTED  # not at every start
    split = _osc([1.0] * 3, [0.1] * 3)
    for r in split["trajectories"]["oscillation"]["runs"]:
        if r["rate"] == 0.6 and r["arm"] == "momentum-002":
            r["y_flip_share"] = 1.0
    assert momentum_damps(split)["verdict"] == R.INCONCLUSIVE  # holds at one rate of two
    assert momentum_damps(_osc([0.0] * 3, [0.0] * 3))["verdict"] == R.UNTESTABLE  # no zig-zag to damp
    assert momentum_damps(_osc([1.0] * 3, [0.1] * 3, status="diverged"))["verdict"] == R.NOT_MEASURED
    assert momentum_damps({})["verdict"] == R.NOT_MEASURED


def test_momentum_002_is_the_averaged_rule():
    """002's Momentum (v = b v + (1 - b) g, w -= a v) is what the record's ``momentum-002`` arm ran."""
    rate, beta, steps = OSCILLATION["rates"][-1], OSCILLATION["momentum"], OSCILLATION["steps"]
    w, v, path = np.array(oscillation_start(0)), np.zeros(2), []
    path.append(w.copy())
    for _ in range(steps):
        v = beta * v + (1 - beta) * toy_grad(w)
        w = w - rate * v
        path.append(w.copy())
    run = next(r for r in oscillation_study([0])["runs"] if r["rate"] == rate and r["arm"] == "momentum-002")
    assert run["y_flip_share"] == flip_share(np.diff(np.array(path)[:, 1]))
    assert flip_share([1, -1, 1]) == 1.0 and flip_share([1, 2, 3]) == 0.0


# ---------------------------------------------------------------- 002 §12: standardised inputs learn faster
def _inputs(raw, std, status="ok"):
    runs = [{"variant": v, "status": status if v == "input-raw" else "ok", "name": f"{v}-{i}", "final_train_loss": x}
            for v, vals in (("input-raw", raw), ("input-standardised", std)) for i, x in enumerate(vals)]
    return {"practice": {"runs": runs}}


def test_standardise_speed_outcomes():
    assert standardise_speed(_inputs(_jitter(2.29, 0.005), _jitter(2.17, 0.01)))["verdict"] == R.REPRODUCED
    assert standardise_speed(_inputs(_jitter(2.10, 0.005), _jitter(2.17, 0.01)))["verdict"] == R.CONTRADICTED
    assert standardise_speed(_inputs(_jitter(2.17, 0.05), _jitter(2.17, 0.05)))["verdict"] == R.INCONCLUSIVE
    assert standardise_speed(_inputs([2.3] * 5, [2.3] * 5))["verdict"] == R.UNTESTABLE
    assert standardise_speed(_inputs(_jitter(2.29, 0.005), _jitter(2.17, 0.01), "diverged"))["verdict"] == \
        R.NOT_MEASURED
    assert standardise_speed({})["verdict"] == R.NOT_MEASURED


# ---------------------------------------------------------------- 004: the printed accuracies
def _numpy(accs, status="ok"):
    return {"numpy": {"runs": [{"variant": "adagrad", "status": status if i == 0 else "ok", "name": f"a-{i}",
                                "test_acc": a} for i, a in enumerate(accs)]}}


def test_numpy_printed_outcomes():
    rule, ref = partial(claims.verdict, "numpy-adagrad"), SOURCE_004["adagrad"]
    assert rule(_numpy([ref + 0.03, ref + 0.031, ref + 0.032]))["verdict"] == R.REPRODUCED  # above it
    assert rule(_numpy([ref - 0.001, ref, ref + 0.001]))["verdict"] == R.REPRODUCED  # within noise, tight
    assert rule(_numpy([ref - 0.02, ref, ref + 0.02]))["verdict"] == R.INCONCLUSIVE  # too wide to tell
    assert rule(_numpy([ref - 0.03, ref - 0.031, ref - 0.032]))["verdict"] == R.CONTRADICTED  # below it
    assert rule(_numpy([ref]))["verdict"] == R.NOT_MEASURED  # one seed: no interval
    assert rule(_numpy([ref + 0.03, ref + 0.031, ref + 0.032], status="failed"))["verdict"] == R.NOT_MEASURED
    assert rule({})["verdict"] == R.NOT_MEASURED


@pytest.mark.parametrize("row", sorted(M.NUMPY_PRINTED))
def test_each_printed_line_is_its_optimizers_last(row):
    """The quoted line's test accuracy is the last of that optimizer's printed curve (``SOURCE_004``)."""
    c = {c.id: c for c in claims.CLAIMS}[row]
    printed = float(re.search(r"Test acc:(\d\.\d+)", c.original)[1])
    assert printed == pytest.approx(SOURCE_004[M.NUMPY_PRINTED[row][1]], abs=5e-7)
    assert c.judge[0] == "one_sample" and c.judge[1]["figure"] == SOURCE_004[M.NUMPY_PRINTED[row][1]]


# ---------------------------------------------------------------- the committed records
def test_new_rows_on_the_committed_records(records, ledger):
    """Each new row is decided on the committed records, every comparison beyond seed noise in the direction stated."""
    for row in NEW:
        arms = [v for v in ledger[row].values() if v is not None]
        assert arms and all(v["verdict"] == R.REPRODUCED for v in arms), row
        for v in arms:
            assert all(c["low"] > 0 for c in v["comparisons"]) and all(c["holds"] for c in v["checks"]), row
    acc = ledger["sgd-no-acceleration"]["right"]["comparisons"]
    assert {c["b"].split()[0] for c in acc} == {"Momentum", "RMSProp", "Adam"}  # every rival named, not one
    assert ledger["numpy-momentum"]["source"]["comparisons"][0]["a"].endswith("(source 004's N(0, 0.01) weights)")
    # the zig-zag row keeps the other reading beside it: gradient descent's loss never rises at these rates
    rises = [f["value"] for f in ledger["momentum-damps"]["own"]["facts"] if "loss rose" in f["label"]]
    assert rises and all(r.startswith("0.00 / ") and r != "0.00 / 0.00" for r in rises)
    assert {c.id: c for c in claims.CLAIMS}["adadelta-lr0"].section.startswith("§3.2")


# ---------------------------------------------------------------- where the report shows them
def test_report_parts_show_the_new_rows(records, tmp_path):
    from paddle_mnist.report.context import Context
    from paddle_mnist.report.numpy_nets import _claim
    from paddle_mnist.report.plateau import plateau_part

    ctx = Context(tmp_path / "results", tmp_path / "figures", tmp_path / "bench", tmp_path)
    md = plateau_part(ctx, records["trajectories"])
    assert (tmp_path / "figures" / "trajectories_zigzag.png").stat().st_size > 5000
    part = records["trajectories"]["plateau"]
    assert md.count("\n| ") >= len({r["seed"] for r in part["runs"]}) + 9  # a row per seed, per rate and rule
    assert "002 §1.2" in md and "002 §8" in md and md.count("**reproduced**") == 2
    assert plateau_part(ctx, {"runs": []}) == ""
    text = _claim(records["numpy"])
    assert all(f"({c.original})" in text for c in claims.CLAIMS if c.id in M.NUMPY_PRINTED)
