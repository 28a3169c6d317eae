"""Decision rules of the further optimizer claims (data only): 001's "SGD has no acceleration", 002's plateau,
zig-zag and standardised-input speed, and source 004's five other printed accuracies.

Each rule returns a verdict dict built with ``claim_rules``' helpers from a committed record: ``optimizers`` (the
tuned runs), ``trajectories`` (its ``plateau`` and ``oscillation`` parts, ``scratch.plateau``), ``practice`` (the
input study) and ``numpy`` (source 004's net). A run whose status is not ``ok`` decides nothing.

    python -c "from paddle_mnist.studies.claim_rules_more import plateau_escape; print(plateau_escape({})['verdict'])"
"""
from __future__ import annotations

import math
from functools import partial

from paddle_mnist.studies.claim_rules import (CONTRADICTED, INCONCLUSIVE, REPRODUCED, UNTESTABLE, all_above, check,
                                              compare, compare_value, epoch1_train_loss, fact, from_checks,
                                              not_measured, per_run, result, test_acc, unless_untrained)
from paddle_mnist.studies.claim_rules_opt import OPT_MISSING, OPT_NAMES
from paddle_mnist.studies.numpy_nets import SOURCE_004
from paddle_mnist.studies.stats import mean_std

TRAJ_MISSING = "the `trajectories` study (python -m paddle_mnist reproduce --only trajectories)"
ACCELERATED = ("momentum", "rmsprop", "adam")  # 001 names them right after SGD, each an "upgrade" of the one before


# ---------------------------------------------------------------- 001: SGD has no acceleration
def sgd_no_acceleration(records):
    """Tuned SGD's train loss after epoch 1 minus each accelerated optimizer's (tuned): reproduced if every interval
    lies above 0; 001's shared rate 0.01 (the report runs) alongside as facts."""
    rec = records.get("optimizers")
    tuned = {r["variant"] for r in (rec or {}).get("runs", []) if r.get("stage") == "tuned"}
    names = [f"tuned_{n}" for n in ("sgd", *ACCELERATED)]
    if not rec or not set(names) <= tuned:
        return not_measured(OPT_MISSING + " (its tuned stage)")
    lr = {n: (rec.get("analysis", {}).get("tuned", {}).get(n) or {}).get("lr") for n in ("sgd", *ACCELERATED)}
    label = {n: f"{OPT_NAMES[n]} (tuned lr {lr[n]:g})" if lr[n] else OPT_NAMES[n] for n in lr}
    sgd = per_run(rec, "tuned_sgd", epoch1_train_loss, "tuned")
    comps = [compare("train loss after epoch 1 (each optimizer at its tuned rate)", "loss", label["sgd"], sgd,
                     label[n], per_run(rec, f"tuned_{n}", epoch1_train_loss, "tuned")) for n in ACCELERATED]
    facts = []
    for n in ("momentum", "adam"):  # 001 ran all four at 0.01; the study's 0.01 runs hold these two (RMSProp: 0.001)
        a, b = per_run(rec, "sgd_0.01", epoch1_train_loss), per_run(rec, f"{n}_0.01", epoch1_train_loss)
        if a and b:
            facts.append(fact(f"at 001's shared rate 0.01: SGD minus {OPT_NAMES[n]}, train loss after epoch 1 "
                              "(mean over seeds)", mean_std(a)[0] - mean_std(b)[0], "loss"))
    return unless_untrained(rec, names, lambda: all_above(comps, facts=facts,
                                                          missing=OPT_MISSING + " with 2+ seeds"))


# ---------------------------------------------------------------- 002 §1.2: leaving the plateau near a saddle
def plateau_escape(records):
    """Steps to get farther than the radius from the saddle: plain gradient descent minus Momentum, RMSProp and Adam
    (each at the same rate), Welch over the seeded starts; every interval above 0: reproduced."""
    part = (records.get("trajectories") or {}).get("plateau")
    if not part or not part.get("runs"):
        return not_measured(TRAJ_MISSING + ", its plateau part")
    st = part["settings"]
    bad = [fact(f"{r['optimizer']} from seed {r['seed']}'s start", f"{r['status']}, so it decides nothing", "text")
           for r in part["runs"] if r["status"] != "ok"]
    if bad:
        return not_measured("paths that stay finite at this setting", facts=bad)

    def steps(name):  # never within max_steps counts as max_steps (a lower bound on its true count)
        return [float(st["max_steps"] if r["escape_step"] is None else r["escape_step"])
                for r in part["runs"] if r["optimizer"] == name]

    metric = (f"steps to get farther than {st['radius']:g} from the saddle, all at lr {st['lr']:g} "
              f"(never: {st['max_steps']:,})")
    comps = [compare(metric, "raw", "gradient descent", steps("sgd"), OPT_NAMES[n], steps(n)) for n in ACCELERATED]
    never = sum(r["escape_step"] is None for r in part["runs"])
    facts = [fact("paths that never left within the step limit", never)] if never else []
    return all_above(comps, facts=facts, missing=TRAJ_MISSING + " with 2+ starts")


# ---------------------------------------------------------------- 002 §8: Momentum damps the zig-zag
def _osc(part, rate, arm, key):
    return [r[key] for r in part["runs"] if r["rate"] == rate and r["arm"] == arm and r["status"] == "ok"]


def momentum_damps(records):
    """Per rate where gradient descent zig-zags: 002's Momentum (the averaged rule) flips its y step less often than
    gradient descent at every start. Loss rises and Paddle's rule at the same number are facts beside."""
    part = (records.get("trajectories") or {}).get("oscillation")
    if not part or not part.get("runs"):
        return not_measured(TRAJ_MISSING + ", its oscillation part")
    bad = [fact(f"{r['arm']} at lr {r['rate']:g} from seed {r['seed']}'s start", f"{r['status']}, so it decides "
                "nothing", "text") for r in part["runs"] if r["status"] != "ok"]
    if bad:
        return not_measured("paths that stay finite at these rates", facts=bad)
    rates = part["settings"]["rates"]
    checks, facts = [], []
    for rate in rates:
        gd, mo = _osc(part, rate, "gd", "y_flip_share"), _osc(part, rate, "momentum-002", "y_flip_share")
        if not gd or not mo:
            return not_measured(TRAJ_MISSING + ", its oscillation part")
        checks.append(check(f"lr {rate:g}: share of steps whose y move flips sign, 002's Momentum (highest over the "
                            f"{len(mo)} starts) vs gradient descent (lowest)", max(mo), min(gd), max(mo) < min(gd),
                            "share"))
        pad = _osc(part, rate, "momentum-paddle", "y_flip_share")
        rises = {a: _osc(part, rate, a, "rise_share") for a in ("gd", "momentum-002")}
        facts += [fact(f"lr {rate:g}: the same share for Paddle's Momentum at the same number (mean over starts)",
                       sum(pad) / len(pad), "share"),
                  fact(f"lr {rate:g}: share of steps at which the loss rose, gradient descent / 002's Momentum (means "
                       "over starts)", f"{mean_std(rises['gd'])[0]:.2f} / {mean_std(rises['momentum-002'])[0]:.2f}",
                       "text")]
    if all(c["threshold"] == 0 for c in checks):  # gradient descent never zig-zags: the claim's condition never arises
        return result(UNTESTABLE, checks=checks, facts=facts, n_min=None)
    return from_checks(checks, n_min=None, facts=facts)


# ---------------------------------------------------------------- 002 §12: standardised inputs learn faster
PRACTICE_MISSING = "the `practice` study (python -m paddle_mnist train practice)"


def standardise_speed(records):
    """Train loss after the input study's fixed budget of steps, raw minus standardised (Welch over seeds)."""
    rec = records.get("practice")
    variants = ("input-raw", "input-standardised")
    if not rec or not all(any(r["variant"] == v for r in rec.get("runs", [])) for v in variants):
        return not_measured(PRACTICE_MISSING)

    def loss(v):
        return per_run(rec, v, lambda r: r["final_train_loss"])

    c = compare("train loss after the fixed budget of steps (every 10th training image)", "loss", "raw inputs",
                loss("input-raw"), "standardised", loss("input-standardised"))
    return unless_untrained(rec, variants, lambda: all_above([c], missing=PRACTICE_MISSING + " with 2+ seeds"))


# ---------------------------------------------------------------- 004: the five other printed accuracies
NUMPY_MISSING = "the `numpy` study over at least 2 seeds (python -m paddle_mnist train numpy)"
REACH_MARGIN = 0.01  # "reaches X%": at most 1 point below the printed run (beyond seed noise), or above it


def _reach(c):
    """Three outcomes for "reaches the printed accuracy": contradicted if the interval of mean − printed lies below 0,
    reproduced if it does not and its bottom is at most ``REACH_MARGIN`` below 0, otherwise inconclusive."""
    if c["high"] < 0:
        return CONTRADICTED
    return REPRODUCED if c["low"] >= -REACH_MARGIN else INCONCLUSIVE


def numpy_printed(records, variant, optimizer, lr, source_init=False):
    """Our numpy net's test accuracy (mean over seeds) against source 004's one printed run for ``optimizer``: the
    one-sample t interval of mean − printed (``compare_value``), judged by ``_reach``."""
    rec = records.get("numpy")
    ours = per_run(rec, variant, test_acc)
    init = "source 004's N(0, 0.01) weights" if source_init else "Xavier weights"
    c = compare_value("test accuracy", "acc", f"numpy {OPT_NAMES.get(optimizer, optimizer.title())} {lr:g} ({init})",
                      ours, "source 004 (one run)", SOURCE_004[optimizer])
    if c["low"] is None or not all(math.isfinite(v) for v in (c["low"], c["high"])):
        return not_measured(NUMPY_MISSING)
    facts = [fact("std of our test accuracy over seeds", mean_std(ours)[1], "acc")]
    return unless_untrained(rec, (variant,), lambda: result(_reach(c), [c], facts=facts, n_min=len(ours)))


NUMPY_PRINTED = {  # row id -> (variant in the numpy record, source 004's optimizer, its rate)
    "numpy-sgd": ("sgd", "sgd", 0.1), "numpy-adagrad": ("adagrad", "adagrad", 0.001),
    "numpy-rmsprop": ("rmsprop", "rmsprop", 0.001), "numpy-momentum": ("momentum", "momentum", 0.001),
    "numpy-nesterov": ("nesterov", "nesterov", 0.001),
}
NUMPY_RULES = {i: partial(numpy_printed, variant=v, optimizer=o, lr=lr) for i, (v, o, lr) in NUMPY_PRINTED.items()}
# Momentum from source 004's own initial weights (the record's ``momentum-init0.01`` runs): the row's source arm
numpy_momentum_source = partial(numpy_printed, variant="momentum-init0.01", optimizer="momentum", lr=0.001,
                                source_init=True)
