"""The decision rule of source 002's batch-size claim (data only; the other practice rows and 000 §2.7's saddle point
are generic rules in ``claim_specs``).

It reads the ``practice`` record (``studies.practice``) and the timing benchmark, and returns a verdict dict built
with ``claim_rules``' helpers; ``report.practice`` and ``report.claims`` render it.

    python -c "from paddle_mnist.studies.claim_rules_practice import gd_batch; print(gd_batch({})['verdict'])"
"""
from __future__ import annotations

from paddle_mnist.studies.claim_rules import compare, fact, not_measured, ok_runs, per_run, untrained
from paddle_mnist.studies.claim_rules_timing import TIMING_MISSING, decide, loss_at_step, ratio_comparison, steps_in

PRACTICE_MISSING = "the `practice` study (python -m paddle_mnist train practice)"


def _rec(records, *variants):
    """``(record, None)`` when every run of ``variants`` trained, else ``(None, the not-measured verdict)``."""
    rec = records.get("practice")
    have = {r["variant"] for r in (rec or {}).get("runs", []) if r["status"] == "ok"}
    if not rec or not all(v in have for v in variants):
        return None, not_measured(PRACTICE_MISSING)
    bad = untrained(rec, *variants)
    return (None, not_measured("runs that train at this setting (none committed)", facts=bad)) if bad else (rec, None)


# ---------------------------------------------------------------- 002 §3-5: batch vs mini-batch vs stochastic
def gd_at_mini_epoch(rec, bench) -> dict:
    """Per arm, per seed: the probe loss after the steps that fit in the CPU seconds the mini-batch arm needs for one
    epoch (the timing benchmark's medians of CPU seconds per step; the losses are the runs' own, by step)."""
    epoch = bench["arms"]["gd-mini-batch"]["cpu_s_per_epoch"]["median"]
    return {arm: [v for r in ok_runs(rec, arm) for v in [loss_at_step(r, steps_in(bench, arm, epoch))]
                  if v is not None] for arm in ("gd-batch", "gd-mini-batch", "gd-stochastic")}


def gd_batch(records):
    """Fast: lower loss than batch and stochastic after the CPU seconds of one mini-batch epoch, and fewer CPU
    seconds per epoch than stochastic (timing benchmark); between: the per-step losses jitter less than
    stochastic's and more than batch's. Without the benchmark the row is not measured."""
    rec, stop = _rec(records, "gd-batch", "gd-mini-batch", "gd-stochastic")
    if stop:
        return stop
    bench = records.get("timing")
    if not bench or "batch / mini-batch" not in bench.get("ratios", {}):
        return not_measured(TIMING_MISSING)
    at = gd_at_mini_epoch(rec, bench)
    when = "train loss after the CPU seconds mini-batch needs for one epoch (timing benchmark)"
    jit = "jitter (mean absolute second difference of the per-step batch losses, second half of the steps)"
    comps = [compare(when, "loss", "batch", at["gd-batch"], "mini-batch", at["gd-mini-batch"]),
             compare(when, "loss", "stochastic", at["gd-stochastic"], "mini-batch", at["gd-mini-batch"]),
             ratio_comparison(bench, "stochastic / mini-batch", "stochastic", "mini-batch"),
             compare(jit, "loss", "stochastic", per_run(rec, "gd-stochastic", lambda r: r["jitter"]), "mini-batch",
                     per_run(rec, "gd-mini-batch", lambda r: r["jitter"])),
             compare(jit, "loss", "mini-batch", per_run(rec, "gd-mini-batch", lambda r: r["jitter"]), "batch",
                     per_run(rec, "gd-batch", lambda r: r["jitter"]))]
    facts = [fact("batch over mini-batch CPU seconds per epoch (timing benchmark, median of the per-round ratios)",
                  bench["ratios"]["batch / mini-batch"]["cpu"]["median"])]
    for arm in ("gd-batch", "gd-mini-batch", "gd-stochastic"):
        rises = per_run(rec, arm, lambda r: r["rise_share"])
        if rises:
            facts.append(fact(f"{arm[3:]}: share of steps whose batch loss rose (mean over seeds)",
                              sum(rises) / len(rises)))
    if any(c["low"] is None for c in comps):
        return not_measured(PRACTICE_MISSING + " with 2+ seeds", facts=facts)
    return decide(comps, facts=facts)
