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
                                              not_measured, per_run, result, test_acc)
from paddle_mnist.studies.numpy_nets import SOURCE_004
from paddle_mnist.studies.stats import abs_roughness, mean_std
from paddle_mnist.scratch.optim import AdaDelta

OPT_MISSING = "the `optimizers` study (python -m paddle_mnist train optimizers)"
FALL_RATIO = 0.9  # "the loss did not fall": final-epoch train loss >= 0.9 x the first logged loss


COURSE_OPT_MISSING = "the `course` study (python -m paddle_mnist train course)"


def _report(records, *variants, course=False):
    """The record holding ``variants``: the course arm's (source 000's model) or the done-right ``optimizers``."""
    rec = records.get("course" if course else "optimizers")
    have = {r["variant"] for r in (rec or {}).get("runs", [])}
    return rec if rec and all(v in have for v in variants) else None


def sgd_small(records, course=False):
    rec = _report(records, "sgd_0.0001", "sgd_0.01", course=course)
    if not rec:
        return not_measured(COURSE_OPT_MISSING if course else OPT_MISSING)
    return all_above([compare("final-epoch train loss", "loss", "SGD 0.0001", per_run(rec, "sgd_0.0001",
                              final_train_loss), "SGD 0.01", per_run(rec, "sgd_0.01", final_train_loss))])


def sgd_large(records, course=False):
    """Oscillation: the absolute roughness (mean |step-to-step change| of the logged train loss after epoch 1)."""
    rec = _report(records, "sgd_0.9", "sgd_0.01", course=course)
    if not rec:
        return not_measured(COURSE_OPT_MISSING if course else OPT_MISSING)
    div = [r for r in rec["runs"] if r["variant"] == "sgd_0.9" and r["status"] == "diverged"]
    c = compare("absolute roughness of the train loss", "loss", "SGD 0.9", per_run(rec, "sgd_0.9", abs_roughness),
                "SGD 0.01", per_run(rec, "sgd_0.01", abs_roughness))
    if div:
        return result(REPRODUCED, [c], facts=[fact("SGD 0.9 runs that diverged", len(div))])
    return all_above([c])


def _did_not_fall(records, variant, course=False):
    rec = _report(records, variant, course=course)
    if not rec:
        return not_measured(COURSE_OPT_MISSING if course else OPT_MISSING)
    checks = []
    for r in rec["runs"]:
        if r["variant"] != variant:
            continue
        first = (r.get("iterations") or {}).get("train_loss", [None])[0]
        if r["status"] == "diverged":
            checks.append(check(f"{r['name']}: diverged", None, None, True))
        elif r["status"] == "ok" and first is not None:
            last = final_train_loss(r)
            checks.append(check(f"{r['name']}: final-epoch train loss vs {FALL_RATIO:g} x first logged loss",
                                last, FALL_RATIO * first, last >= FALL_RATIO * first, "loss"))
    return from_checks(checks, n_min=len(checks))


def adagrad_stuck(records, course=False):
    return _did_not_fall(records, "adagrad_0.01", course)


def adam_stuck(records, course=False):
    return _did_not_fall(records, "adam_0.01", course)


def _rate_pair(records, low, high, name, course=False):
    rec = _report(records, low, high, course=course)
    if not rec:
        return not_measured(COURSE_OPT_MISSING if course else OPT_MISSING)
    return all_above([compare("test accuracy", "acc", f"{name} {low.split('_')[1]}", per_run(rec, low, test_acc),
                              f"{name} {high.split('_')[1]}", per_run(rec, high, test_acc))])


def adagrad_rate(records, course=False):
    return _rate_pair(records, "adagrad_0.001", "adagrad_0.01", "Adagrad", course)


def adam_rate(records, course=False):
    return _rate_pair(records, "adam_0.001", "adam_0.01", "Adam", course)


def momentum(records, course=False):
    rec = _report(records, "momentum_0.01", "sgd_0.01", course=course)
    if not rec:
        return not_measured(COURSE_OPT_MISSING if course else OPT_MISSING)
    return all_above([compare("train loss after epoch 1", "loss", "SGD 0.01", per_run(rec, "sgd_0.01",
                              epoch1_train_loss), "Momentum 0.01", per_run(rec, "momentum_0.01", epoch1_train_loss))])


def _tuned(records):
    rec = records.get("optimizers")
    names = sorted({r["variant"][6:] for r in (rec or {}).get("runs", []) if r.get("stage") == "tuned"})
    return (rec, names) if "adam" in names else (None, [])


def adam_fast_well(records):
    """Fast: epoch-1 train loss below tuned SGD's beyond noise; well: test accuracy not below the best other's."""
    rec, names = _tuned(records)
    if not rec:
        return not_measured(OPT_MISSING + " (its tuned stage)")
    t = {n: per_run(rec, f"tuned_{n}", test_acc, "tuned") for n in names}
    best = max((n for n in names if n != "adam"), key=lambda n: sum(t[n]) / max(len(t[n]), 1))
    fast = compare("train loss after epoch 1 (tuned)", "loss", "SGD", per_run(rec, "tuned_sgd", epoch1_train_loss,
                   "tuned"), "Adam", per_run(rec, "tuned_adam", epoch1_train_loss, "tuned"))
    well = compare("test accuracy (tuned)", "acc", "Adam", t["adam"], f"best other ({best})", t[best])
    if fast["low"] is None or well["low"] is None:
        return not_measured(OPT_MISSING + " with 2+ seeds")
    if fast["high"] < 0 or well["high"] < 0:
        v = CONTRADICTED
    else:
        v = REPRODUCED if fast["low"] > 0 else INCONCLUSIVE
    return result(v, [fast, well])


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
    if any(c["low"] > 0 for c in comps):
        return result(REPRODUCED, comps)
    return result(CONTRADICTED if all(c["high"] < 0 for c in comps) else INCONCLUSIVE, comps)


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
    return result(CONTRADICTED if c["high"] < 0 else REPRODUCED, [c], n_min=len(ours),  # our seeds
                  facts=[fact("std of our test accuracy over seeds", mean_std(ours)[1], "acc")])
