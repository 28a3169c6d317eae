"""What the specs (``claim_specs``) of source 003's 表1 (几种初始化方法的应用场景) name, on the ``init`` record: rows
1-3 are a one-sample interval against chance and a Welch difference (with the fact ``zero_vs_chance``); rows 4-7
are this module's measurements (``init_sigmoid``, ``init_correct``, ``init_relu_xavier``): per-seed activation checks
and comparisons of accuracies, decided by ``rules.diff`` with ``per_seed`` checks.

Each row is judged on its net trained with SGD 0.1 for one epoch (500 steps of batch 100) at every seed
(``studies.init.TABLE1``) and, for the multi-layer rows, on its initial weights' activations per seed
(the record's ``table1.shapes``). The source's words, measured:

- "可以" / trains: test accuracy after one epoch above the eval split's majority class (``CHANCE``) beyond seed noise;
- "错误，不能进行正确的反向传播": below the same net with N(0, 1) weights beyond seed noise;
- "凹形": the deepest sigmoid layer holds more activations in [0, 0.1) ∪ (0.9, 1] than in [0.4, 0.6] (equal widths);
- "偏向0": the share of ReLU activations at or below 0.1 x the first hidden layer's std grows by at least
  ``NEAR_ZERO_GROWTH`` from the first hidden layer to the deepest;
- "正确" (the activations): the deepest layer's std within a factor ``SPREAD_FACTOR`` of the first's;
- "不利于反向传播": lower accuracy after one epoch than the 正确 rows' nets (rows 5 and 7; row 6 against row 7).

A row whose runs did not all train (status not ``ok``) is ``not measured``; a metric that is one value in every
run is ``untestable here``.

    python -c "from paddle_mnist.studies import claim_rules_init as I; print(I._correct({}, {'row': 7})['verdict'])"
"""
from __future__ import annotations

from paddle_mnist.studies.claim_rules import (check, compare, compare_value, fact, not_measured, per_run, test_acc,
                                              untrained)
from paddle_mnist.studies.init import GRID_NET, MAJORITY_CLASS as CHANCE, TABLE1, table1_variant
from paddle_mnist.studies.rules import FACTS, MEASURES, register

INIT_MISSING = "the `init` study's 表1 runs (python -m paddle_mnist reproduce --only init)"
SPREAD_FACTOR = 2.0  # "正确": deepest layer's std / first layer's std within [1/2, 2]
NEAR_ZERO_GROWTH = 0.05  # "偏向0": the near-zero share rises by at least 5 points from layer 1 to the deepest
ACC = "test accuracy after one epoch"
ROW = {i + 1: table1_variant(*row) for i, row in enumerate(TABLE1)}  # 表1 row number -> the init record's variant
LABEL = {i + 1: f"{net} {act}/{init}" if act != "none" else f"{net} (no hidden layer) {init}"
         for i, (net, act, init) in enumerate(TABLE1)}


def _rec(records, *rows):
    """``(record, None)`` when every run of ``rows`` trained, else ``(None, not-measured verdict)``."""
    rec = records.get("init") or {}
    variants = [ROW[r] for r in rows]
    if not all(any(x["variant"] == v for x in rec.get("runs", [])) for v in variants):
        return None, not_measured(INIT_MISSING)
    bad = untrained(rec, *variants, setting=" (SGD 0.1, one epoch)")
    if bad:
        return None, not_measured("runs that train at this setting (none committed)", facts=bad)
    return rec, None


def _acc(rec, row):
    return per_run(rec, ROW[row], test_acc)


def _vs_chance(rec, row) -> dict:
    vals = _acc(rec, row)
    c = compare_value(ACC, "acc", LABEL[row], vals, "the majority class (chance)", CHANCE)
    c["constant"] = len(vals) >= 2 and len(set(vals)) == 1
    return c


def _shapes(rec, row) -> list[dict]:
    net, act, init = TABLE1[row - 1]
    if net != GRID_NET:
        return []
    return ((rec.get("table1") or {}).get("shapes") or {}).get(f"{act}/{init}", [])


# ---------------------------------------------------------------- rows 1-3: one and two layers (specs)
@register(FACTS, "zero_vs_chance")
def _zero_vs_chance(rec, records) -> list[dict]:
    """Row 2's net (two layers from zero weights) against chance, beside its comparison with row 3's."""
    return [fact(f"{LABEL[2]} minus chance ({CHANCE:.2%}), test accuracy", _vs_chance(rec, 2)["diff"], "acc")]


# ---------------------------------------------------------------- rows 4-7: multi-layer (784-100x5-10)
def _spread_checks(rec, row) -> list[dict]:
    out = []
    for s in _shapes(rec, row):
        first, last = s["layers"][0]["std"], s["layers"][-1]["std"]
        ratio = last / first if first > 0 else float("inf")
        out.append(check(f"seed {s['seed']}: std of layer {len(s['layers'])} / std of layer 1 (within "
                         f"[1/{SPREAD_FACTOR:g}, {SPREAD_FACTOR:g}])", round(ratio, 3), SPREAD_FACTOR,
                         1 / SPREAD_FACTOR <= ratio <= SPREAD_FACTOR))
    return out


@register(MEASURES, "init_correct")
def _correct(records, p) -> dict:
    """Rows 5 and 7 (正确): the activations keep their spread through the layers (per seed) and the net learns."""
    row = p["row"]
    rec, missing = _rec(records, row)
    if missing:
        return missing
    checks, c = _spread_checks(rec, row), _vs_chance(rec, row)
    if not checks or c["low"] is None:
        return not_measured(INIT_MISSING + " with its activation shapes, at 2+ seeds")
    return {"comparisons": [c], "checks": checks, "facts": [], "n_min": min(len(checks), c["n_a"])}


def _worse_than(rec, row, rivals) -> list[dict]:
    return [compare(ACC, "acc", LABEL[r], _acc(rec, r), LABEL[row], _acc(rec, row)) for r in rivals]


@register(MEASURES, "init_sigmoid")
def _sigmoid_normal(records, p) -> dict:
    """Row 4 (多层, 随机初始化, Sigmoid, 激活值分布成凹形，不利于反向传播): U-shaped deepest layer per seed, and below
    both 正确 nets (rows 5, 7) after one epoch."""
    rec, missing = _rec(records, 4, 5, 7)
    if missing:
        return missing
    checks = []
    for s in _shapes(rec, 4):
        deep = s["layers"][-1]
        checks.append(check(f"seed {s['seed']}: layer {len(s['layers'])}'s share in [0, 0.1) ∪ (0.9, 1] above its "
                            "share in [0.4, 0.6]", deep["edge"], deep["centre"], deep["edge"] > deep["centre"],
                            "share"))
    comps = _worse_than(rec, 4, (5, 7))
    if not checks or any(c["low"] is None for c in comps):
        return not_measured(INIT_MISSING + " with its activation shapes, at 2+ seeds")
    layers = zip(*(s["layers"] for s in _shapes(rec, 4)))
    facts = [fact(f"layer {i + 1}: mean share at the ends / in the middle", f"{_mean(ls, 'edge'):.2f} / "
                  f"{_mean(ls, 'centre'):.2f}", "text") for i, ls in enumerate(layers)]
    grid = [r for r in rec["runs"] if r["variant"] == "sgd/sigmoid/xavier" and r["status"] == "ok"]
    if grid:  # within sigmoid nets under SGD (the grid's one seed), for the reader
        facts.append(fact("784-100x5-10 sigmoid/Xavier, the grid's one seed", grid[0]["test_acc"], "acc"))
    return {"comparisons": comps, "checks": checks, "facts": facts,
            "n_min": min([len(checks)] + [c["n_b"] for c in comps])}


def _mean(layers, key) -> float:
    return sum(x[key] for x in layers) / len(layers)


@register(MEASURES, "init_relu_xavier")
def _relu_xavier(records, p) -> dict:
    """Row 6 (多层, Xavier初始化, ReLU, 激活值分布偏向0，不利于反向传播): the near-zero share grows with depth per seed,
    and below ReLU/MSRA (row 7, the source's fix) after one epoch."""
    rec, missing = _rec(records, 6, 7)
    if missing:
        return missing
    checks = []
    for s in _shapes(rec, 6):
        first, deep = s["layers"][0]["near_zero"], s["layers"][-1]["near_zero"]
        checks.append(check(f"seed {s['seed']}: share near 0 in layer {len(s['layers'])} minus layer 1 (near 0: "
                            "at or below 0.1 x layer 1's std; grows: at least +0.05)", deep - first,
                            NEAR_ZERO_GROWTH, deep - first >= NEAR_ZERO_GROWTH, "share"))
    comps = _worse_than(rec, 6, (7,))
    if not checks or comps[0]["low"] is None:
        return not_measured(INIT_MISSING + " with its activation shapes, at 2+ seeds")
    msra = [s["layers"][-1]["near_zero"] - s["layers"][0]["near_zero"] for s in _shapes(rec, 7)]
    facts = [fact("ReLU/MSRA alongside: the same growth, mean over seeds", sum(msra) / len(msra), "share")] \
        if msra else []
    return {"comparisons": comps, "checks": checks, "facts": facts, "n_min": min(len(checks), comps[0]["n_b"])}
