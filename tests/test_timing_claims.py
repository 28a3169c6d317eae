"""The timing benchmark's batch-size and saving arms (``bench.timing``) and their ledger rules
(generic rules over ``claim_measures``' ``pow2`` for source 002 §6 and ``save_speed`` for source 001)."""
from __future__ import annotations

import json
from functools import partial

import pytest

from paddle_mnist.bench import timing
from paddle_mnist.studies.claim_rules import CONTRADICTED, INCONCLUSIVE, NOT_MEASURED, REPRODUCED
from paddle_mnist.studies.claims import claims_ledger, verdict

# generic rules (claim_specs), called as the ledger does
pow2_speed, save_params_speed = partial(verdict, "batch-pow2-speed"), partial(verdict, "save-params-speed")


def _batch_rounds(per_k: dict) -> list[dict]:
    """Rounds whose arm ``batch-p`` takes ``per_k[p][size][r]`` CPU seconds per 1,000 samples in round ``r``."""
    n = len(next(iter(next(iter(per_k.values())).values())))
    return [{f"batch-{p}": {"power": p, "sizes": {str(s): {"cpu_s_per_1000": v[r], "wall_s_per_1000": 1.5 * v[r]}
                                                  for s, v in sizes.items()}}
             for p, sizes in per_k.items()} for r in range(n)]


def _save_rounds(params: list, whole: list, bytes_params=797_390, bytes_whole=800_265) -> list[dict]:
    def m(cpu, size):
        return {"cpu_s_per_save": cpu, "wall_s_per_save": 2 * cpu, "bytes": size, "first_cpu_s": 3 * cpu,
                "first_wall_s": 4 * cpu}
    return [{"save-params": m(p, bytes_params), "save-whole": m(w, bytes_whole)} for p, w in zip(params, whole)]


def _record(rounds: list[dict]) -> dict:
    return {"timing": {"rounds": rounds, **timing.summarise(rounds, tuple(rounds[0]))}}


FAST, SLOW = [1.0, 1.0, 1.1, 1.0, 1.0], [1.2, 1.1, 1.2, 1.3, 1.2]
MIXED = [0.9, 1.2, 1.0, 1.2, 1.2]  # the power of 2's own: some rounds above, some below


@pytest.mark.parametrize("k64, k128, verdict", [
    ({63: SLOW, 64: FAST, 65: SLOW}, {127: SLOW, 128: FAST, 129: SLOW}, REPRODUCED),
    ({63: SLOW, 64: FAST, 65: SLOW}, {127: FAST, 128: SLOW, 129: FAST}, CONTRADICTED),
    ({63: SLOW, 64: FAST, 65: FAST}, {127: SLOW, 128: FAST, 129: SLOW}, INCONCLUSIVE),  # 65 ties: 1.1 vs 1.1
    ({63: SLOW, 64: MIXED, 65: SLOW}, {127: FAST, 128: SLOW, 129: SLOW}, INCONCLUSIVE),  # slower than one only
])
def test_pow2_rule_reaches_every_outcome(k64, k128, verdict):
    res = pow2_speed(_record(_batch_rounds({64: k64, 128: k128})))
    assert res["verdict"] == verdict and len(res["comparisons"]) == 4
    c = res["comparisons"][0]
    assert (c["a"], c["b"], c["unit"]) == ("batch 63", "batch 64", "ms")
    assert c["ratio"] == pytest.approx(sorted(a / b for a, b in zip(k64[63], k64[64]))[2])  # per-round ratios
    assert c["mean_a"] == pytest.approx(1000 * sorted(k64[63])[2]) and c["wall_a"] == pytest.approx(1.5 * c["mean_a"])


@pytest.mark.parametrize("params, whole, sizes, verdict", [
    ([1.0] * 5, [60.0, 58.0, 61.0, 70.0, 59.0], (797_390, 800_265), REPRODUCED),
    ([1.0] * 5, [60.0] * 5, (800_265, 800_265), CONTRADICTED),  # not smaller
    ([2.0] * 5, [1.0, 1.5, 1.2, 1.9, 1.0], (797_390, 800_265), CONTRADICTED),  # slower in every round
    ([1.0] * 5, [0.9, 1.5, 1.2, 1.9, 1.0], (797_390, 800_265), INCONCLUSIVE),  # one round slower
])
def test_save_rule_reaches_every_outcome(params, whole, sizes, verdict):
    res = save_params_speed(_record(_save_rounds(params, whole, *sizes)))
    assert res["verdict"] == verdict
    c = res["comparisons"][0]
    assert c["ratio"] == pytest.approx(sorted(w / p for w, p in zip(whole, params))[2])
    assert c["mean_b"] == pytest.approx(1000 * sorted(params)[2]) and c["unit"] == "ms"
    assert res["checks"][0]["holds"] is (sizes[0] < sizes[1])
    assert f"{sizes[0]:,}" in res["facts"][0]["value"]


def test_without_the_new_fields_the_rows_are_not_measured():
    old = _record([{"dropout-0": {"cpu_s_per_epoch": 1.0, "wall_s_per_epoch": 1.0, "cpu_s_per_step": 0.01}}])
    for rule in (pow2_speed, save_params_speed):
        assert rule({})["verdict"] == NOT_MEASURED
        assert rule(old)["verdict"] == NOT_MEASURED
        assert "bench timing" in rule({})["experiment"]
    arms = {c["id"]: c["arms"] for c in claims_ledger({})}
    for row in ("batch-pow2-speed", "save-params-speed"):
        assert arms[row]["own"]["verdict"] == NOT_MEASURED and arms[row]["source"] is None


def test_the_ledger_renders_milliseconds_and_more_decimals_near_one():
    from paddle_mnist.report.claims import comparison_text

    rec = _record(_batch_rounds({64: {63: [1.05, 1.04, 1.05], 64: [1.0] * 3, 65: [1.2] * 3}}))
    res = pow2_speed(rec)
    near, far = (comparison_text(c) for c in res["comparisons"])
    assert "batch 63 1050.000 ms vs batch 64 1000.000 ms" in near and "wall milliseconds 1575.000" in near
    assert "ratio 1.050, the median of 3 per-round ratios, range [1.040, 1.050]" in near  # three decimals near 1
    assert "ratio 1.20," in far and res["verdict"] == REPRODUCED


def test_bench_summarises_the_new_arms_from_their_rounds(tmp_path):
    rounds = _batch_rounds({64: {63: SLOW, 64: FAST, 65: SLOW}})
    saves = _save_rounds([1.0] * 5, [60.0] * 5)
    calls = []

    def stub(arm, steps):
        r = sum(a == arm for a in calls)
        calls.append(arm)
        return (rounds[r] | saves[r])[arm]

    path = timing.bench_timing(repeats=5, steps=7, arms=("batch-64", "save-params", "save-whole"), out_dir=tmp_path,
                               runner=stub, show=lambda s: 0)
    rec = json.loads(path.read_text())
    assert rec["steps"] == {"batch-64": round(timing.BATCH_SAMPLES * 7 / 200), "save-params": 1, "save-whole": 1}
    b = rec["batch_sizes"]["batch-64"]
    assert b["power"] == 64 and set(b["ratios"]) == {"63", "65"}
    assert b["ratios"]["63"]["cpu"]["values"] == pytest.approx([s / f for s, f in zip(SLOW, FAST)])
    assert rec["ratios"]["save whole / parameters"]["per"] == "save"
    assert rec["arms"]["save-whole"]["bytes"]["median"] == 800_265 and "batch-64" not in rec["arms"]


def test_the_new_arms_run_in_process_on_tiny_settings():
    m = timing.measure("batch-64", 130)  # 3 steps of 63 and of 65, 3 of 64, after the warm-up
    assert m["power"] == 64 and set(m["sizes"]) == {"63", "64", "65"}
    for n, s in m["sizes"].items():
        assert s["steps"] == -(-130 // int(n)) and s["samples"] == s["steps"] * int(n)
        assert s["cpu_s_per_1000"] > 0 and s["wall_s_per_1000"] > 0
    whole, params = timing.measure("save-whole", 2), timing.measure("save-params", 2)
    assert params["steps"] == whole["steps"] == 2
    # the whole network's files hold the same parameters plus its program
    assert 784 * 200 * 4 < params["bytes"] < whole["bytes"]
    assert whole["first_cpu_s"] > 0 and params["cpu_s_per_save"] > 0
    assert "bytes" in timing.line("save-whole", whole) and "per 1,000 samples" in timing.line("batch-64", m)


def test_interleaved_chunks_alternate_the_arms_chunk_by_chunk():
    order = []
    out = timing.interleaved_chunks({"a": lambda k: order.append(("a", k)), "b": lambda k: order.append(("b", k))},
                                    {"a": 10, "b": 4}, n=2)
    assert order == [("a", 5), ("b", 2), ("b", 2), ("a", 5)]
    assert out["a"]["steps"] == 10 and out["b"]["chunk_steps"] == 2


def test_the_performance_section_shows_the_new_tables_from_the_record():
    from paddle_mnist.report.performance import _timing_part

    rounds = [a | b for a, b in zip(_batch_rounds({64: {63: SLOW, 64: FAST, 65: SLOW}}),
                                    _save_rounds([0.001] * 5, [0.06, 0.06, 0.07, 0.06, 0.06]))]
    rec = {"command": "python -m paddle_mnist bench timing", "repeats": 5, "rounds": rounds,
           **timing.summarise(rounds, tuple(rounds[0]))}
    text = "\n".join(_timing_part(rec))
    assert "| 63 | 1200.00 ms (1100.00 – 1300.00) | 1800.00 ms (1650.00 – 1950.00) | 1.200 (1.091 – 1.300) |" in text
    assert "| 64 | 1000.00 ms" in text and "60.0x the parameters' CPU time (per round 60.0x – 70.0x)" in text
    assert "| 1.00 ms (1.00 – 1.00) | 2.00 ms (2.00 – 2.00) | 3.0 ms | 797,390 |" in text
    old = _record([{"dropout-0": {"cpu_s_per_epoch": 1.0, "wall_s_per_epoch": 1.0, "cpu_s_per_step": 0.01}}])
    assert _timing_part(old["timing"]) == []
