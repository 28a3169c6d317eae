"""Decision rules of the ledger's timing claims, from the timing benchmark (``reports/bench/timing.json``).

Seconds are never read from the training runs' wall clocks (they share the cores with whatever else runs). The
benchmark (``bench.timing``) measures each arm in a fresh process, one at a time, the arms alternated round by
round; a comparison is the median of its per-round ratios of CPU seconds (claimed slower arm over claimed
faster arm), its interval the min to max over the rounds (with 5 rounds the range of 5 ratios covers their
median with probability 1 − 2/2⁵ ≈ 94%). Wall seconds are stated beside. Verdict per comparison: the claim
holds if every round's ratio is above 1, fails if every round's is below 1, otherwise inconclusive. The dropout
speed rows are generic rules (``claim_specs``) over ``ratio_comparison``.

    python -c "from paddle_mnist.studies.claim_rules_timing import decide; print(decide([])['verdict'])"
"""
from __future__ import annotations

from paddle_mnist.studies.claim_rules import CONTRADICTED, INCONCLUSIVE, REPRODUCED, not_measured, result

TIMING_MISSING = "the timing benchmark (python -m paddle_mnist bench timing)"
METRIC = "CPU seconds per epoch (timing benchmark)"


def ratio_comparison(bench: dict, name: str, a_label: str, b_label: str, metric: str = METRIC) -> dict | None:
    """The benchmark's comparison ``name`` as a ledger comparison: medians per arm, the per-round ratio (slower
    arm over faster arm) with ``low``/``high`` its min/max over the rounds, wall seconds beside; None if absent."""
    r = (bench or {}).get("ratios", {}).get(name)
    if not r:
        return None
    arms = bench["arms"]
    a, b = arms[r["slower"]], arms[r["faster"]]
    cpu, wall = r["cpu"], r["wall"]
    return {"metric": metric, "unit": "s", "a": a_label, "b": b_label,
            "mean_a": a["cpu_s_per_epoch"]["median"], "mean_b": b["cpu_s_per_epoch"]["median"],
            "n_a": cpu["n"], "n_b": cpu["n"], "rounds": cpu["n"],
            "diff": a["cpu_s_per_epoch"]["median"] - b["cpu_s_per_epoch"]["median"],
            "ratio": cpu["median"], "low": cpu["min"], "high": cpu["max"], "reference": 1.0,
            "beyond_noise": cpu["min"] > 1 or cpu["max"] < 1,
            "wall_a": a["wall_s_per_epoch"]["median"], "wall_b": b["wall_s_per_epoch"]["median"],
            "wall_ratio": wall["median"], "wall_low": wall["min"], "wall_high": wall["max"]}


def side(c: dict) -> int:
    """+1 when the comparison's interval lies above its reference (the claim holds), −1 below, 0 across."""
    ref = c.get("reference", 0.0)
    return 1 if c["low"] > ref else -1 if c["high"] < ref else 0


def decide(comparisons, facts=(), missing=TIMING_MISSING) -> dict:
    """Reproduced if every interval lies above its reference, contradicted if any lies below, else inconclusive;
    ratio comparisons (reference 1) and Welch differences (reference 0) alike."""
    if not comparisons or any(c is None or c["low"] is None for c in comparisons):
        return not_measured(missing, facts=facts)
    sides = [side(c) for c in comparisons]
    v = CONTRADICTED if -1 in sides else REPRODUCED if all(s == 1 for s in sides) else INCONCLUSIVE
    return result(v, comparisons, facts=facts)


def steps_in(bench: dict, arm: str, seconds: float) -> float:
    """How many of ``arm``'s steps the benchmark's median CPU seconds per step fit in ``seconds``."""
    return seconds / bench["arms"][arm]["cpu_s_per_step"]["median"]


def loss_at_step(run: dict, steps: float):
    """The probe train loss at the last checkpoint a run had reached within ``steps`` steps."""
    h = run["history"]
    done = [loss for s, loss in zip(h["step"], h["train_loss"]) if s <= steps]
    return done[-1] if done else None
