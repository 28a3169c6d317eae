"""The timing benchmark (``bench.timing``) and the ledger's timing rules (``studies.claim_rules_timing``)."""
from __future__ import annotations

import json

import pytest

from paddle_mnist.bench import timing
from paddle_mnist.studies.claim_rules import CONTRADICTED, INCONCLUSIVE, NOT_MEASURED, REPRODUCED
from paddle_mnist.studies.claims import claims_ledger, verdict as row_verdict


def _bench(cpu: dict, rounds: int = 5, wall_factor: float = 1.3) -> dict:
    """A timing record whose arm ``a`` takes ``cpu[a][r]`` CPU seconds per epoch in round ``r``."""
    rows = [{a: {"cpu_s_per_epoch": v[r], "wall_s_per_epoch": v[r] * wall_factor, "cpu_s_per_step": v[r] / 500}
             for a, v in cpu.items()} for r in range(rounds)]
    return {"rounds": rows, **timing.summarise(rows, tuple(cpu))}


def _dropout(p0, p2, p5):
    return {"timing": _bench({"dropout-0": p0, "dropout-0.2": p2, "dropout-0.5": p5,
                              "course-0": p0, "course-0.5": p5})}


def test_alternation_rotates_the_arms_round_by_round():
    assert timing.schedule(("A", "B"), 4) == [(0, "A"), (0, "B"), (1, "B"), (1, "A"), (2, "A"), (2, "B"),
                                               (3, "B"), (3, "A")]
    order = [a for _, a in timing.schedule(("A", "B", "C"), 3)]
    assert order == ["A", "B", "C", "B", "C", "A", "C", "A", "B"]


def test_bench_on_a_stub_timer_takes_the_median_of_per_round_ratios(tmp_path):
    calls = []
    cpu = {"gd-stochastic": [10.0, 30.0, 12.0], "gd-mini-batch": [1.0, 2.0, 4.0], "gd-batch": [1.0, 1.0, 1.0]}

    def stub(arm, steps):
        r = sum(a == arm for a in calls)
        calls.append(arm)
        return {"cpu_s_per_epoch": cpu[arm][r], "wall_s_per_epoch": 2 * cpu[arm][r], "cpu_s_per_step": cpu[arm][r]}

    path = timing.bench_timing(repeats=3, steps=7, arms=tuple(cpu), out_dir=tmp_path, runner=stub, show=lambda s: 0)
    rec = json.loads(path.read_text())
    assert calls == [a for _, a in timing.schedule(tuple(cpu), 3)]
    r = rec["ratios"]["stochastic / mini-batch"]["cpu"]
    assert r["values"] == [10.0, 15.0, 3.0] and (r["median"], r["min"], r["max"]) == (10.0, 3.0, 15.0)
    # not the ratio of medians (12 / 2 = 6): the ratio of each round's pair
    assert rec["arms"]["gd-mini-batch"]["cpu_s_per_epoch"]["median"] == 2.0
    assert rec["ratios"]["batch / mini-batch"]["wall"]["median"] == 0.5
    assert rec["steps"] == {"gd-stochastic": round(12500 * 7 / 200), "gd-mini-batch": round(500 * 7 / 200),
                            "gd-batch": 1}


@pytest.mark.parametrize("p0, p2, p5, verdict", [
    ([2.0, 2.1, 2.0, 2.2, 2.0], [1.5, 1.6, 1.5, 1.6, 1.5], [1.2, 1.3, 1.2, 1.3, 1.2], REPRODUCED),
    ([1.1, 1.1, 1.2, 1.1, 1.1], [1.5, 1.6, 1.5, 1.6, 1.5], [1.0, 1.0, 1.0, 1.0, 1.0], CONTRADICTED),
    ([1.0, 1.0, 1.0, 1.0, 1.0], [0.9, 1.1, 0.9, 1.1, 0.9], [0.9, 0.9, 0.9, 0.9, 0.9], INCONCLUSIVE),
])
def test_dropout_speed_rule_reaches_every_outcome(p0, p2, p5, verdict):
    res = row_verdict("dropout-speed", _dropout(p0, p2, p5))
    assert res["verdict"] == verdict and len(res["comparisons"]) == 2 and not res["provisional"]
    c = res["comparisons"][1]
    assert c["ratio"] == pytest.approx(sorted(a / b for a, b in zip(p0, p5))[2])
    assert c["wall_a"] == pytest.approx(sorted(p0)[2] * 1.3)


def test_timing_rows_without_the_benchmark_are_not_measured():
    records = _dropout([1.0] * 5, [1.2] * 5, [1.3] * 5)
    course = row_verdict("dropout-speed", records, "source")
    assert course["verdict"] == CONTRADICTED and course["comparisons"][0]["b"] == "p=0.5 after fc1"
    arms = {c["id"]: c["arms"] for c in claims_ledger({})}
    assert arms["dropout-speed"]["right"]["verdict"] == NOT_MEASURED
    assert arms["dropout-speed"]["source"]["verdict"] == NOT_MEASURED
    assert "bench timing" in arms["dropout-speed"]["right"]["experiment"]
    # one comparison missing from the record: not measured, not decided on the rest
    partial = {"timing": _bench({"dropout-0": [1.0] * 5, "dropout-0.2": [0.5] * 5})}
    assert row_verdict("dropout-speed", partial)["verdict"] == NOT_MEASURED


def test_the_ledger_renders_the_rounds_with_wall_seconds_beside():
    from paddle_mnist.report.claims import comparison_text

    c = row_verdict("dropout-speed", _dropout([1.0] * 5, [1.2] * 5, [1.3] * 5))["comparisons"][0]
    text = comparison_text(c)
    assert "median of 5 per-round ratios" in text and "every round below 1" in text and "wall seconds" in text


def test_a_tiny_real_run_in_fresh_processes(tmp_path):
    path = timing.bench_timing(repeats=1, steps=2, arms=("course-0", "gd-batch", "gd-mini-batch"), out_dir=tmp_path,
                               show=lambda s: 0)
    rec = json.loads(path.read_text())
    assert rec["order"] == ["course-0", "gd-batch", "gd-mini-batch"] and rec["steps"]["gd-mini-batch"] == 5
    for arm, m in rec["rounds"][0].items():
        assert m["cpu_s"] > 0 and m["wall_s"] > 0 and m["steps_per_epoch"] in (1, 500), arm
    assert rec["ratios"]["batch / mini-batch"]["cpu"]["n"] == 1
