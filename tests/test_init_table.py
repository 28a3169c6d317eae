"""Source 003's 表1 (initialisation methods): the ``init`` study's extra nets, the activation shapes its words are
measured by, the seven ledger rules' outcomes on synthetic records, and the verdicts of the committed record.

    python -m pytest tests/test_init_table.py -q -p no:cacheprovider
"""
from __future__ import annotations

import json
from functools import partial

import numpy as np
import pytest
from conftest import REPO

from paddle_mnist.engine.experiment import Settings, planned_jobs
from paddle_mnist.engine.overrides import name_settings
from paddle_mnist.errors import PaddleMnistError
from paddle_mnist.paths import RESULTS
from paddle_mnist.report.context import Context
from paddle_mnist.report.init import _table1_part
from paddle_mnist.studies import EXPERIMENTS, claim_rules as R, claims
from paddle_mnist.studies.claims_table import T1_SECTION
from paddle_mnist.studies.init import (GRID_NET, MAJORITY_CLASS, TABLE1, activation_histograms, grid_runs,
                                       table1_shapes, table1_variant)

ROWS = ("init-1layer-zero", "init-2layer-zero", "init-2layer-random", "init-multi-sigmoid", "init-multi-tanh-xavier",
        "init-multi-relu-xavier", "init-multi-relu-msra")  # generic rules (claim_specs), called as the ledger does
RULES = (one_layer_zero, two_layer_zero, two_layer_random, multi_sigmoid_normal, multi_tanh_xavier, multi_relu_xavier,
         multi_relu_msra) = tuple(partial(claims.verdict, i) for i in ROWS)


def test_the_plan_trains_every_table1_net_at_every_seed_and_the_grid_at_the_first():
    exp = EXPERIMENTS["init"]
    jobs = [j for _, j in planned_jobs(exp, Settings.resolve(exp, (3, 4, 5)))]
    assert len({j.name for j in jobs}) == len(jobs)
    for net, act, init in TABLE1:
        runs = [j for j in jobs if j.variant == table1_variant(net, act, init)]
        assert sorted(j.config.seed for j in runs) == [3, 4, 5], (net, act, init)
        for j in runs:  # the name says what trained: the net, the activation, the weights, SGD 0.1, the seed
            cfg = j.config
            assert (cfg.optimizer, cfg.lr, cfg.init, j.extra["net"]) == ("sgd", 0.1, init, net)
            assert cfg.model == ("softmax" if net == "784-10" else "mlp") and j.name.endswith(f"-seed{cfg.seed}")
            assert cfg.model == "softmax" or cfg.hidden == {"784-100-10": (100,), GRID_NET: (100,) * 5}[net]
            assert act == "none" or (cfg.activation == act and act in j.name.split("-"))
            said = name_settings(j.name)
            assert said.get("hidden", "100x100x100x100x100") == "x".join(str(h) for h in cfg.hidden) or \
                cfg.model == "softmax"
            assert said.get("model", "mlp") == cfg.model
    grid = [j for j in jobs if j.extra["net"] == GRID_NET and (j.config.optimizer == "adam" or j.config.init in
                                                                ("zero", "normal_small"))]
    assert grid and {j.config.seed for j in grid} == {3}


@pytest.mark.parametrize("key, value", [("hidden", (50,)), ("model", "softmax"), ("dropout", 0.2)])
def test_a_net_setting_is_refused_in_one_line(key, value):
    with pytest.raises(PaddleMnistError) as err:
        Settings.resolve(EXPERIMENTS["init"], (0,), False, {key: value})
    assert "\n" not in str(err.value) and "784-10" in str(err.value)


def test_shapes_are_the_initial_weights_of_the_runs(tiny_data):
    shapes = table1_shapes((0, 1), str(tiny_data))
    assert set(shapes) == {f"{a}/{i}" for net, a, i in TABLE1 if net == GRID_NET}
    assert table1_shapes((0,), str(tiny_data)) == {k: v[:1] for k, v in shapes.items()}  # same seed, same numbers
    hist = activation_histograms(0, str(tiny_data))
    for key, per_seed in shapes.items():
        act, init = key.split("/")
        assert [s["seed"] for s in per_seed] == [0, 1] and per_seed[0]["layers"] != per_seed[1]["layers"]
        assert [lay["std"] for lay in per_seed[0]["layers"]] == pytest.approx([h["std"] for h in hist[act][init]])
        for lay in per_seed[0]["layers"]:
            want = {"sigmoid": {"std", "edge", "centre"}, "relu": {"std", "near_zero"}}.get(act, {"std"})
            assert set(lay) == want
            assert all(0 <= lay[k] <= 1 for k in ("edge", "centre", "near_zero") if k in lay)


# ---------------------------------------------------------------- the rules on synthetic records
def _layers(act, std_last=1.0, edge=0.0, centre=0.0, nz_growth=0.0):
    out = []
    for k in range(5):
        lay = {"std": 1.0 + (std_last - 1.0) * k / 4}
        if act == "sigmoid":
            lay.update(edge=edge, centre=centre)
        if act == "relu":
            lay["near_zero"] = 0.5 + nz_growth * k / 4
        out.append(lay)
    return out


def _record(acc: dict, shape: dict | None = None, seeds=(0, 1, 2, 3, 4), status: dict | None = None) -> dict:
    """An ``init`` record: row -> per-seed test accuracies (a number: base + a small seed wobble); row -> shape."""
    runs = []
    for row, a in acc.items():
        for s in seeds:
            st = (status or {}).get(row, "ok")
            runs.append({"variant": table1_variant(*TABLE1[row - 1]), "seed": s, "status": st,
                         "test_acc": (a if isinstance(a, list) else [a + 0.002 * (s % 3)] * 5)[s] if st == "ok"
                         else None, "diverged_step": 3 if st != "ok" else None})
    shapes = {}
    for row, kw in (shape or {}).items():
        net, act, init = TABLE1[row - 1]
        shapes[f"{act}/{init}"] = [{"seed": s, "layers": _layers(act, **kw)} for s in seeds]
    return {"init": {"runs": runs, "table1": {"shapes": shapes}}}


GOOD = {5: {"std_last": 0.7}, 7: {"std_last": 0.9, "nz_growth": 0.01}}


@pytest.mark.parametrize("rule, rec, verdict", [
    (one_layer_zero, _record({1: 0.85}), R.REPRODUCED),
    (one_layer_zero, _record({1: 0.08}), R.CONTRADICTED),
    (one_layer_zero, _record({1: [0.05, 0.3, 0.1, 0.12, 0.02]}), R.INCONCLUSIVE),
    (one_layer_zero, _record({1: [0.5] * 5}), R.UNTESTABLE),
    (one_layer_zero, _record({1: 0.85}, status={1: "diverged"}), R.NOT_MEASURED),
    (two_layer_zero, _record({2: 0.3, 3: 0.85}), R.REPRODUCED),
    (two_layer_zero, _record({2: 0.9, 3: 0.85}), R.CONTRADICTED),
    (two_layer_zero, _record({2: [0.3, 0.9, 0.6, 0.2, 0.8], 3: 0.6}), R.INCONCLUSIVE),
    (two_layer_zero, _record({2: 0.3, 3: 0.85}, status={3: "diverged"}), R.NOT_MEASURED),
    (two_layer_random, _record({3: 0.85}), R.REPRODUCED),
    (multi_sigmoid_normal, _record({4: 0.6, 5: 0.93, 7: 0.94}, {4: {"edge": 0.6, "centre": 0.05}, **GOOD}),
     R.REPRODUCED),
    (multi_sigmoid_normal, _record({4: 0.6, 5: 0.93, 7: 0.94}, {4: {"edge": 0.05, "centre": 0.6}, **GOOD}),
     R.CONTRADICTED),  # not U-shaped
    (multi_sigmoid_normal, _record({4: 0.95, 5: 0.93, 7: 0.94}, {4: {"edge": 0.6, "centre": 0.05}, **GOOD}),
     R.CONTRADICTED),  # trains better than a 正确 net
    (multi_sigmoid_normal, _record({4: 0.6, 5: [0.9, 0.3, 0.6, 0.95, 0.4], 7: 0.94},
                                      {4: {"edge": 0.6, "centre": 0.05}, **GOOD}), R.INCONCLUSIVE),
    (multi_sigmoid_normal, _record({4: 0.6, 5: 0.93, 7: 0.94}, {4: {"edge": 0.6, "centre": 0.05}, **GOOD},
                                      status={7: "diverged"}), R.NOT_MEASURED),
    (multi_tanh_xavier, _record({5: 0.93}, GOOD), R.REPRODUCED),
    (multi_tanh_xavier, _record({5: 0.93}, {5: {"std_last": 0.2}}), R.CONTRADICTED),
    (multi_tanh_xavier, _record({5: [0.05, 0.3, 0.1, 0.12, 0.02]}, GOOD), R.INCONCLUSIVE),
    (multi_relu_msra, _record({7: 0.94}, GOOD), R.REPRODUCED),
    (multi_relu_msra, _record({7: 0.1}, GOOD), R.CONTRADICTED),
    (multi_relu_xavier, _record({6: 0.90, 7: 0.94}, {6: {"std_last": 0.2, "nz_growth": 0.2}, **GOOD}),
     R.REPRODUCED),
    (multi_relu_xavier, _record({6: 0.90, 7: 0.94}, {6: {"std_last": 0.2, "nz_growth": 0.0}, **GOOD}),
     R.CONTRADICTED),  # no lean to 0
    (multi_relu_xavier, _record({6: [0.9, 0.95, 0.93, 0.96, 0.91], 7: 0.94},
                                   {6: {"std_last": 0.2, "nz_growth": 0.2}, **GOOD}), R.INCONCLUSIVE),
    (multi_relu_xavier, _record({6: 0.90, 7: 0.94}, status={6: "diverged"}), R.NOT_MEASURED),
])
def test_each_rule_has_its_outcomes(rule, rec, verdict):
    assert rule(rec)["verdict"] == verdict


def test_no_record_is_not_measured():
    assert all(rule({})["verdict"] == R.NOT_MEASURED for rule in RULES)


# ---------------------------------------------------------------- the committed record
@pytest.fixture(scope="module")
def record():
    return json.loads((RESULTS / "init.json").read_text())


def test_the_majority_class_is_the_eval_splits(record):
    counts = json.loads((RESULTS / "data.json").read_text())["splits"]["eval"]["label_counts"]
    assert MAJORITY_CLASS == max(counts) / sum(counts)
    assert {r["test_acc"] for r in grid_runs(record) if r["init"] == "zero"} == {MAJORITY_CLASS}


def test_the_committed_record_gives_the_verdicts(record):
    rows = [c for c in claims.CLAIMS if c.section == T1_SECTION]
    assert [c.arm for c in rows] == ["own"] * 7 and [c.original.split("|")[1] for c in rows] == list("1234567")
    got = {c.id: c.arms({"init": record})[c.arm] for c in rows}
    assert all(v["n_min"] >= 5 and not v["provisional"] for v in got.values())
    assert {k: v["verdict"] for k, v in got.items()} == {
        "init-1layer-zero": R.REPRODUCED, "init-2layer-zero": R.REPRODUCED, "init-2layer-random": R.REPRODUCED,
        "init-multi-sigmoid": R.REPRODUCED, "init-multi-tanh-xavier": R.REPRODUCED,
        "init-multi-relu-xavier": R.INCONCLUSIVE,  # leans to 0 in 5/5 seeds; 1.05 points below MSRA, within noise
        "init-multi-relu-msra": R.REPRODUCED}
    zero = got["init-2layer-zero"]  # the zero-initialised two-layer net never leaves the majority class
    assert zero["facts"][0]["value"] == 0.0 and zero["comparisons"][0]["mean_b"] == MAJORITY_CLASS
    xavier = got["init-multi-relu-xavier"]
    gap = xavier["comparisons"][0]
    assert all(c["holds"] for c in xavier["checks"]) and gap["low"] < 0 < gap["diff"]
    assert all(c["holds"] for c in got["init-multi-sigmoid"]["checks"])  # U-shaped in every seed
    assert got["init-multi-sigmoid"]["facts"][-1]["value"] == MAJORITY_CLASS  # sigmoid/Xavier stays at chance


def test_the_report_sets_each_source_row_beside_our_numbers(record, tmp_path):
    ctx = Context(RESULTS, tmp_path / "figures", tmp_path, tmp_path)
    text = "\n".join(_table1_part(ctx, record))
    lines = [line for line in text.splitlines() if line.startswith("| ") and line[2].isdigit()]
    rows = [c for c in claims.CLAIMS if c.section == T1_SECTION]
    assert len(lines) == len(rows) == 7
    for line, c in zip(lines, rows):
        _, depth, init, act, words = c.original.strip("|").split("|")
        verdict = c.arms({"init": record})[c.arm]["verdict"]
        assert f"| {depth} / {init} / {act} | {words} |" in line and f"**{verdict}**" in line, line
    assert "(n = 5)" in lines[0] and "U-shaped in 5/5 seeds" in lines[3]
    assert (tmp_path / "figures" / "init_table1.png").stat().st_size > 10_000
