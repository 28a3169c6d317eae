"""Decision rules of source 002's practice claims, source 000 §2.2's k-fold remark and §2.7's saddle point (data only).

Each rule reads the ``practice`` record (``studies.practice``) or the ``trajectories`` record's ``saddle`` part
and returns a verdict dict built with ``claim_rules``' helpers; ``report.practice`` and ``report.claims`` render
it. Every comparison is a Welch 95% interval over seeds.

    python -c "from paddle_mnist.studies.claim_rules_practice import ewa_bias; print(ewa_bias({})['verdict'])"
"""
from __future__ import annotations

import math

from paddle_mnist.studies.claim_rules import (CONTRADICTED, NOT_MEASURED, REPRODUCED, all_above, compare, fact,
                                              not_measured, ok_runs, per_run, result, untrained)
from paddle_mnist.studies.claim_rules_timing import TIMING_MISSING, decide, loss_at_step, ratio_comparison, steps_in

PRACTICE_MISSING = "the `practice` study (python -m paddle_mnist train practice)"
SADDLE_MISSING = "the `trajectories` study's saddle runs (python -m paddle_mnist train trajectories)"


def _rec(records, *variants):
    """``(record, None)`` when every run of ``variants`` trained, else ``(None, the not-measured verdict)``."""
    rec = records.get("practice")
    have = {r["variant"] for r in (rec or {}).get("runs", []) if r["status"] == "ok"}
    if not rec or not all(v in have for v in variants):
        return None, not_measured(PRACTICE_MISSING)
    bad = untrained(rec, *variants)
    return (None, not_measured("runs that train at this setting (none committed)", facts=bad)) if bad else (rec, None)


# ---------------------------------------------------------------- 002 §7: exponentially weighted averages
def _beta(rec, beta, key):
    return per_run(rec, "ewa", lambda r: r["betas"][f"{beta:g}"][key])


def ewa_smooth(records):
    """Roughness falls and lag grows from beta 0.5 to 0.9 to 0.98 (bias-corrected averages, days 60-365)."""
    rec, stop = _rec(records, "ewa")
    if stop:
        return stop
    pairs = ((0.5, 0.9), (0.9, 0.98))
    comps = [compare("roughness (mean absolute day-to-day change of the average, °F)", "raw", f"β={lo:g}",
                     _beta(rec, lo, "roughness"), f"β={hi:g}", _beta(rec, hi, "roughness")) for lo, hi in pairs]
    comps += [compare("lag behind the noise-free curve (days)", "raw", f"β={hi:g}", _beta(rec, hi, "lag"),
                      f"β={lo:g}", _beta(rec, lo, "lag")) for lo, hi in pairs]
    return all_above(comps, missing=PRACTICE_MISSING + " with 2+ seeds")


def ewa_bias(records):
    """For every beta: the first 10 values are further from the noise-free curve without the correction."""
    rec, stop = _rec(records, "ewa")
    if stop:
        return stop
    comps = [compare(f"β={beta:g}: mean absolute error of the first 10 values (°F)", "raw", "uncorrected",
                     _beta(rec, beta, "first_error"), "corrected", _beta(rec, beta, "first_error_corrected"))
             for beta in (0.5, 0.9, 0.98)]
    return all_above(comps, missing=PRACTICE_MISSING + " with 2+ seeds")


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


# ---------------------------------------------------------------- 002 §11: learning-rate decay
PLATEAU_EPOCHS, PLATEAU_FALL = 3, 0.005  # levelled off: under 0.5% lower over the last 3 epochs, in every seed


def plateau_falls(rec) -> list[float]:
    """Per constant-rate seed: the relative fall of its per-epoch train loss over its last ``PLATEAU_EPOCHS`` epochs."""
    return per_run(rec, "lr-constant", lambda r: (r["history"]["train_loss"][-1 - PLATEAU_EPOCHS]
                                                   - r["history"]["train_loss"][-1])
                   / r["history"]["train_loss"][-1 - PLATEAU_EPOCHS])


def lr_decay(records):
    """Decided by the final train loss (constant minus decayed), only once the constant-rate run has levelled off
    (the claim is about settling near the minimum): while its loss still falls the row is not measured and the
    end-of-budget comparison is a finding. Test accuracy reported alongside."""
    rec, stop = _rec(records, "lr-constant", "lr-decayed")
    if stop:
        return stop
    loss = compare("final train loss (whole train split)", "loss", "constant rate",
                   per_run(rec, "lr-constant", lambda r: r["final_train_loss"]), "decayed rate",
                   per_run(rec, "lr-decayed", lambda r: r["final_train_loss"]))
    acc = compare("test accuracy", "acc", "decayed rate", per_run(rec, "lr-decayed", lambda r: r["test_acc"]),
                  "constant rate", per_run(rec, "lr-constant", lambda r: r["test_acc"]))
    falls = plateau_falls(rec)
    if not falls or max(falls) >= PLATEAU_FALL:
        curve = [sum(v) / len(v) for v in zip(*(r["history"]["train_loss"] for r in ok_runs(rec, "lr-constant")))]
        tail = " → ".join(f"{x:.4f}" for x in curve[-1 - PLATEAU_EPOCHS:])
        return result(NOT_MEASURED, [loss, acc], experiment=f"a budget in which the constant-rate loss levels off "
                      f"(under {PLATEAU_FALL:.1%} lower over its last {PLATEAU_EPOCHS} epochs in every seed)",
                      facts=[fact(f"constant-rate train loss at epochs {len(curve) - PLATEAU_EPOCHS}-{len(curve)} "
                                  f"(mean over seeds, {tail}): still falling, the largest fall of a seed over those "
                                  f"{PLATEAU_EPOCHS} epochs", max(falls, default=None), "pct")])
    v = all_above([loss], missing=PRACTICE_MISSING + " with 2+ seeds")["verdict"]
    missing = PRACTICE_MISSING + " with 2+ seeds"
    return result(v, [loss, acc], facts=[fact(f"largest fall of a constant-rate seed's loss over its last "
                                              f"{PLATEAU_EPOCHS} epochs (levelled off)", max(falls), "pct")],
                  experiment=missing if v == "not measured" else None)


# ---------------------------------------------------------------- 002 §12: input standardisation
def input_standardise(records):
    """Decided by the gradient imbalance (raw minus standardised); train loss reported alongside."""
    rec, stop = _rec(records, "input-raw", "input-standardised")
    if stop:
        return stop
    imb = compare("gradient imbalance (absolute log10 of RMS grad of fc1 over RMS grad of the last layer, first steps)", "raw",
                  "raw inputs", per_run(rec, "input-raw", lambda r: r["imbalance"]), "standardised",
                  per_run(rec, "input-standardised", lambda r: r["imbalance"]))
    loss = compare("train loss after the fixed budget", "loss", "raw inputs",
                   per_run(rec, "input-raw", lambda r: r["final_train_loss"]), "standardised",
                   per_run(rec, "input-standardised", lambda r: r["final_train_loss"]))
    facts = [fact("largest absolute standardised pixel in the train split",
                  max(per_run(rec, "input-standardised", lambda r: r["max_abs_input"]), default=None))]
    v = all_above([imb], missing=PRACTICE_MISSING + " with 2+ seeds")["verdict"]
    return result(v, [imb, loss], facts=facts,
                  experiment=PRACTICE_MISSING + " with 2+ seeds" if v == "not measured" else None)


# ---------------------------------------------------------------- 000 §2.2: k-fold instead of a validation set
def hp_kfold(records):
    """Reproduced unless the k-fold protocol's test accuracy lies below the hold-out protocol's beyond seed noise."""
    rec, stop = _rec(records, "kfold")
    if stop:
        return stop
    runs = ok_runs(rec, "kfold")
    protocol = compare("test accuracy of the final model", "acc", "5-fold CV (retrained on the whole subset)",
                       per_run(rec, "kfold", lambda r: r["kfold_test_acc"]), "held-out split (trained without it)",
                       per_run(rec, "kfold", lambda r: r["holdout_test_acc"]))
    choice = compare("test accuracy of the chosen rate, both retrained on the whole subset", "acc", "5-fold choice",
                     per_run(rec, "kfold", lambda r: r["kfold_test_acc"]), "hold-out choice",
                     per_run(rec, "kfold", lambda r: r["holdout_refit_test_acc"]))
    facts = [fact("seeds where 5-fold CV picked the grid's best rate", sum(r["kfold_choice"] == r["grid_best"]
                                                                         for r in runs)),
             fact("seeds where the held-out split picked it", sum(r["holdout_choice"] == r["grid_best"]
                                                                  for r in runs)),
             fact("seeds", len(runs))]
    if protocol["low"] is None:
        return not_measured(PRACTICE_MISSING + " with 2+ seeds", facts=facts)
    return result(CONTRADICTED if protocol["high"] < 0 else REPRODUCED, [protocol, choice], facts=facts)


# ---------------------------------------------------------------- 000 §2.7: Momentum leaves a saddle point
def momentum_saddle(records):
    """Momentum leaves the saddle's neighbourhood in fewer steps and is farther from it after N steps."""
    sad = (records.get("trajectories") or {}).get("saddle")
    if not sad or not sad.get("runs"):
        return not_measured(SADDLE_MISSING)
    st = sad["settings"]

    def vals(name, key):
        out = []
        for r in sad["runs"]:
            if r["optimizer"] == name:
                v = r[key] if not (key == "escape_step" and r[key] is None) else st["max_steps"]
                out.append(float(v))
        return [v for v in out if math.isfinite(v)]

    comps = [compare(f"steps to get farther than {st['radius']:g} from the saddle (never: {st['max_steps']:,})",
                     "raw", "SGD", vals("sgd", "escape_step"), "Momentum", vals("momentum", "escape_step")),
             compare(f"distance from the saddle after {st['steps']} steps", "raw", "Momentum",
                     vals("momentum", "distance"), "SGD", vals("sgd", "distance"))]
    facts = [fact(f"start on the saddle's x axis (y = 0), {r['optimizer']}: distance after {st['steps']} steps",
                  r["distance"]) for r in sad.get("on_axis", [])]
    return all_above(comps, facts=facts, missing=SADDLE_MISSING + " with 2+ seeds")
