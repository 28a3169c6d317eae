"""The ledger's timing comparisons, from the timing benchmark (``reports/bench/timing.json``).

Seconds are never read from the training runs' wall clocks (they share the cores with whatever else runs). The
benchmark (``bench.timing``) measures each arm in a fresh process, one at a time, the arms alternated round by
round; a comparison is the median of its per-round ratios of CPU seconds (claimed slower arm over claimed
faster arm), its interval the min to max over the rounds (with 5 rounds the range of 5 ratios covers their
median with probability 1 − 2/2⁵ ≈ 94%). Wall seconds are stated beside. Verdict per comparison: the claim
holds if every round's ratio is above 1, fails if every round's is below 1, otherwise inconclusive. The dropout
speed rows, 001's parameters-only saving and 002 §6's power-of-2 batches (``claim_measures``' ``save_speed``,
``pow2``, over ``ratio_comparison`` and ``pow2_comparisons``) are generic rules (``claim_specs``).

    python -c "from paddle_mnist.studies.claim_rules_timing import ratio_comparison as r; print(r({}, 'x', 'a', 'b'))"
"""
from __future__ import annotations

TIMING_MISSING = "the timing benchmark (python -m paddle_mnist bench timing)"
METRIC = "CPU seconds per epoch (timing benchmark)"


def ratio_comparison(bench: dict, name: str, a_label: str, b_label: str, metric: str = METRIC,
                     unit: str = "s") -> dict | None:
    """The benchmark's comparison ``name`` as a ledger comparison: medians per arm, the per-round ratio (slower
    arm over faster arm) with ``low``/``high`` its min/max over the rounds, wall seconds beside; None if absent.
    Per epoch, or per save (the record's ``per``); ``unit`` "ms" gives milliseconds."""
    r = (bench or {}).get("ratios", {}).get(name)
    if not r:
        return None
    per = r.get("per", "epoch")
    a, b = (bench["arms"][r[k]] for k in ("slower", "faster"))
    return rounds_comparison(metric, a_label, b_label, {k: a[f"{k}_s_per_{per}"] for k in ("cpu", "wall")},
                             {k: b[f"{k}_s_per_{per}"] for k in ("cpu", "wall")}, r, unit)


def rounds_comparison(metric: str, a_label: str, b_label: str, a: dict, b: dict, r: dict, unit: str = "s") -> dict:
    """A ledger comparison of arm ``a`` over arm ``b``: ``a``/``b`` hold the stats of their CPU and wall seconds
    (``{"cpu": ..., "wall": ...}``), ``r`` the per-round ratios' stats (``{"cpu": ..., "wall": ...}``)."""
    cpu, wall, scale = r["cpu"], r["wall"], 1000.0 if unit == "ms" else 1.0
    return {"metric": metric, "unit": unit, "a": a_label, "b": b_label,
            "mean_a": scale * a["cpu"]["median"], "mean_b": scale * b["cpu"]["median"],
            "n_a": cpu["n"], "n_b": cpu["n"], "rounds": cpu["n"],
            "diff": scale * (a["cpu"]["median"] - b["cpu"]["median"]),
            "ratio": cpu["median"], "low": cpu["min"], "high": cpu["max"], "reference": 1.0,
            "beyond_noise": cpu["min"] > 1 or cpu["max"] < 1,
            "wall_a": scale * a["wall"]["median"], "wall_b": scale * b["wall"]["median"],
            "wall_ratio": wall["median"], "wall_low": wall["min"], "wall_high": wall["max"]}


def steps_in(bench: dict, arm: str, seconds: float) -> float:
    """How many of ``arm``'s steps the benchmark's median CPU seconds per step fit in ``seconds``."""
    return seconds / bench["arms"][arm]["cpu_s_per_step"]["median"]


def loss_at_step(run: dict, steps: float):
    """The probe train loss at the last checkpoint a run had reached within ``steps`` steps."""
    h = run["history"]
    done = [loss for s, loss in zip(h["step"], h["train_loss"]) if s <= steps]
    return done[-1] if done else None


# ---------------------------------------------------------------- 002 §6: mini-batch sizes that are powers of 2
def pow2_comparisons(bench: dict) -> list[list[dict]]:
    """Per ``batch-2^k`` arm of the benchmark: its two neighbours as ledger comparisons, CPU ms per 1,000 samples
    of batch 2^k ± 1 over batch 2^k, per round (above 1: the power of 2 is faster per sample)."""
    out = []
    for arm in (bench or {}).get("batch_sizes", {}).values():
        p, sizes = str(arm["power"]), arm["sizes"]
        fig = {n: {k: sizes[n][f"{k}_s_per_1000"] for k in ("cpu", "wall")} for n in sizes}
        out.append([rounds_comparison("CPU milliseconds per 1,000 samples (timing benchmark)", f"batch {n}",
                                      f"batch {p}", fig[n], fig[p], r, "ms") for n, r in arm["ratios"].items()])
    return out
