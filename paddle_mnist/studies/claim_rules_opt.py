"""Decision rules of the optimizer claims (000 §2.7, 001, 002, 004's numpy Adam), AdaDelta's rate (003), save/restore.

Verdicts are data (see ``claim_rules``). ``adadelta_lr_zero()`` is the tiny deterministic
measurement behind source 003's claim; ``persistence.measure_save_restore`` writes the one
behind 001's.

    python -c "from paddle_mnist.studies.claim_rules_opt import adadelta_lr_zero; print(adadelta_lr_zero())"
"""
from __future__ import annotations

import numpy as np

from paddle_mnist.studies.claim_rules import (CONTRADICTED, INCONCLUSIVE, REPRODUCED, all_above, check, compare,
                                              compare_value, epoch1_train_loss, fact, final_train_loss, from_checks,
                                              not_measured, per_run, result, test_acc, unless_untrained)
from paddle_mnist.studies.numpy_nets import SOURCE_004
from paddle_mnist.studies.stats import mean_std, rise_share
from paddle_mnist.scratch.optim import AdaDelta

OPT_MISSING = "the `optimizers` study (python -m paddle_mnist train optimizers)"
FALL_RATIO = 0.9  # "the loss did not fall": final-epoch train loss >= 0.9 x the first logged loss


OPT_NAMES = {"sgd": "SGD", "momentum": "Momentum", "adagrad": "Adagrad", "adam": "Adam", "rmsprop": "RMSProp"}
COURSE_OPT_MISSING = "the `course` study (python -m paddle_mnist train course)"


def _report(records, *variants, course=False):
    """The record holding ``variants``: the course arm's (source 000's model) or the done-right ``optimizers``."""
    rec = records.get("course" if course else "optimizers")
    have = {r["variant"] for r in (rec or {}).get("runs", [])}
    return rec if rec and all(v in have for v in variants) else None


def _pair(records, a, b, metric, unit, fn, course=False):
    """Variant ``a`` minus variant ``b`` by ``all_above``; not decided when a run of either did not train."""
    rec = _report(records, a, b, course=course)
    if not rec:
        return not_measured(COURSE_OPT_MISSING if course else OPT_MISSING)
    name = {v: f"{OPT_NAMES[v.split('_')[0]]} {v.split('_')[1]}" for v in (a, b)}
    return unless_untrained(rec, (a, b), lambda: all_above([compare(metric, unit, name[a], per_run(rec, a, fn), name[b],
                                                                    per_run(rec, b, fn))]))


def sgd_small(records, course=False):
    return _pair(records, "sgd_0.0001", "sgd_0.01", "final-epoch train loss", "loss", final_train_loss, course)


RISES = "share of logged train losses after epoch 1 that rose from the previous one (oscillation)"


def sgd_large(records, course=False):
    """Oscillation: the share of logged train losses (50-step means) after epoch 1 that rose, SGD 0.9 minus 0.01."""
    return _pair(records, "sgd_0.9", "sgd_0.01", RISES, "share", rise_share, course)


def _did_not_fall(records, variant, course=False):
    rec = _report(records, variant, course=course)
    if not rec:
        return not_measured(COURSE_OPT_MISSING if course else OPT_MISSING)
    checks = []
    for r in rec["runs"]:
        first = (r.get("iterations") or {}).get("train_loss", [None])[0]
        if r["variant"] == variant and first is not None:
            last = final_train_loss(r)
            checks.append(check(f"{r['name']}: final-epoch train loss vs {FALL_RATIO:g} x first logged loss",
                                last, FALL_RATIO * first, last >= FALL_RATIO * first, "loss"))
    return unless_untrained(rec, (variant,), lambda: from_checks(checks, n_min=len(checks)))


def adagrad_stuck(records, course=False):
    return _did_not_fall(records, "adagrad_0.01", course)


def adam_stuck(records, course=False):
    return _did_not_fall(records, "adam_0.01", course)


def adagrad_rate(records, course=False):
    return _pair(records, "adagrad_0.001", "adagrad_0.01", "test accuracy", "acc", test_acc, course)


def adam_rate(records, course=False):
    return _pair(records, "adam_0.001", "adam_0.01", "test accuracy", "acc", test_acc, course)


def momentum(records, course=False):
    """Less oscillation at the same rate: the share of rising logged losses, SGD 0.01 minus Momentum 0.01."""
    return _pair(records, "sgd_0.01", "momentum_0.01", RISES, "share", rise_share, course)


def _tuned(records):
    rec = records.get("optimizers")
    names = sorted({r["variant"][6:] for r in (rec or {}).get("runs", []) if r.get("stage") == "tuned"})
    return (rec, names) if "adam" in names else (None, [])


def adam_fast_well(records):
    """Fast: epoch-1 train loss below every other tuned optimizer's beyond noise; well: test accuracy not below the
    best other's."""
    rec, names = _tuned(records)
    if not rec:
        return not_measured(OPT_MISSING + " (its tuned stage)")
    t = {n: per_run(rec, f"tuned_{n}", test_acc, "tuned") for n in names}
    best = max((n for n in names if n != "adam"), key=lambda n: sum(t[n]) / max(len(t[n]), 1))
    adam = per_run(rec, "tuned_adam", epoch1_train_loss, "tuned")
    fast = [compare("train loss after epoch 1 (tuned)", "loss", n, per_run(rec, f"tuned_{n}", epoch1_train_loss,
                    "tuned"), "Adam", adam) for n in names if n != "adam"]
    well = compare("test accuracy (tuned)", "acc", "Adam", t["adam"], f"best other ({best})", t[best])
    comps = fast + [well]
    if any(c["low"] is None for c in comps):
        return not_measured(OPT_MISSING + " with 2+ seeds")
    if any(c["high"] < 0 for c in comps):
        v = CONTRADICTED
    else:
        v = REPRODUCED if all(c["low"] > 0 for c in fast) else INCONCLUSIVE
    return unless_untrained(rec, [f"tuned_{n}" for n in names], lambda: result(v, comps))


def advanced_not_better(records):
    """Reproduced if an older optimizer beats Adam beyond noise; contradicted if Adam beats them all beyond noise."""
    rec, names = _tuned(records)
    if not rec:
        return not_measured(OPT_MISSING + " (its tuned stage)")
    adam = per_run(rec, "tuned_adam", test_acc, "tuned")
    comps = [compare("test accuracy (tuned)", "acc", n, per_run(rec, f"tuned_{n}", test_acc, "tuned"), "Adam", adam)
             for n in names if n != "adam"]
    if any(c["low"] is None for c in comps):
        return not_measured(OPT_MISSING + " with 2+ seeds")
    v = REPRODUCED if any(c["low"] > 0 for c in comps) else \
        CONTRADICTED if all(c["high"] < 0 for c in comps) else INCONCLUSIVE
    return unless_untrained(rec, [f"tuned_{n}" for n in names], lambda: result(v, comps))


# ---------------------------------------------------------------- 003: AdaDelta's learning rate
def adadelta_lr_zero(steps: int = 10, seed: int = 0) -> dict:
    """Largest parameter move of Paddle's AdaDelta rule at lr=0 and of the textbook rule, on fixed gradients.

    The numpy rule is checked against ``paddle.optimizer.Adadelta`` by tests/test_adadelta.py.
    """
    rng = np.random.default_rng(seed)
    p0, grads = rng.normal(size=(3, 4)), [rng.normal(size=(3, 4)) for _ in range(steps)]
    moves = {}
    for key, opt in (("paddle_rule_lr0_max_move", AdaDelta(lr=0.0)),
                     ("textbook_rule_max_move", AdaDelta(lr=0.0, textbook=True))):
        p = {"w": p0.copy()}
        for g in grads:
            opt.step(p, {"w": g})
        moves[key] = float(np.abs(p["w"] - p0).max())
    return {**moves, "steps": steps}


def adadelta_rate(records, course=False):
    """Paddle's rule (done right) moves nothing at lr = 0; 003's own, the textbook rule, has no rate to set."""
    m = adadelta_lr_zero()
    if course:
        c = check(f"textbook AdaDelta rule (no learning rate): largest parameter move after {m['steps']} steps",
                  m["textbook_rule_max_move"], 0.0, m["textbook_rule_max_move"] > 0)
        return from_checks([c], n_min=None)
    c = check("paddle.optimizer.Adadelta rule at lr=0: largest parameter move after "
              f"{m['steps']} steps", m["paddle_rule_lr0_max_move"], 0.0, m["paddle_rule_lr0_max_move"] > 0)
    facts = [fact("textbook rule (no rate): largest parameter move", m["textbook_rule_max_move"])]
    return from_checks([c], n_min=None, facts=facts)


# ---------------------------------------------------------------- 001: save a whole net vs its parameters
def save_restore(records):
    rec = records.get("save_restore")
    if not rec:
        return not_measured("save_restore (python -c 'from paddle_mnist.apps.persistence import "
                            "measure_save_restore; measure_save_restore()')")
    m = rec["analysis"]
    c = check(f"largest absolute output difference over {m['n_images']} eval images, exported whole net vs "
              "dygraph net from its parameters", m["max_abs_diff"], m["tolerance"],
              m["max_abs_diff"] <= m["tolerance"] and m["same_predictions"])
    return from_checks([c], n_min=None, facts=[fact("identical predicted labels", m["same_predictions"])])





# ---------------------------------------------------------------- 004: the numpy net with Adam
NUMPY_MISSING = "the `numpy` study over at least 2 seeds (python -m paddle_mnist train numpy)"


def numpy_adam(records):
    """Reproduced if 98.21% lies inside the 95% t interval of our mean test accuracy or below it, contradicted if
    above it: the interval of mean − 98.21% with source 004's one run taken as exact (``compare_value``)."""
    ours = per_run(records.get("numpy"), "adam", test_acc)
    c = compare_value("test accuracy", "acc", "numpy Adam 0.001", ours, "source 004 (one run)", SOURCE_004["adam"])
    if c["low"] is None:
        return not_measured(NUMPY_MISSING)
    return unless_untrained(records.get("numpy"), ("adam",), lambda: result(
        CONTRADICTED if c["high"] < 0 else REPRODUCED, [c], n_min=len(ours),  # our seeds
        facts=[fact("std of our test accuracy over seeds", mean_std(ours)[1], "acc")]))
