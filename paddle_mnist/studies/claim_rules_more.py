"""What the further optimizer claims' specs (``claim_specs``) name, registered in ``rules``' tables: 001's "SGD has no
acceleration" (its rivals as pairs, 001's shared rate as facts), 002's plateau (the ``trajectories`` record's
``plateau`` part as runs) and zig-zag damping (the ``oscillation`` part measured per rate, for ``exact``), and
source 004's printed runs (``NUMPY_PRINTED``). The standardised-input speed is a spec alone.

    python -c "from paddle_mnist.studies import claim_rules_more as M; print(M._zigzag_damping({}, {})['verdict'])"
"""
from __future__ import annotations

from paddle_mnist.studies.claim_rules import epoch1_train_loss, fact, not_measured, per_run
from paddle_mnist.studies.claim_rules_opt import OPT_NAMES
from paddle_mnist.studies.claim_rules_traj import TRAJ_MISSING
from paddle_mnist.studies.rules import FACTS, MEASURES, PAIRS, VIEWS, register
from paddle_mnist.studies.stats import mean_std

ACCELERATED = ("momentum", "rmsprop", "adam")  # 001 names them right after SGD, each an "upgrade" of the one before
NUMPY_PRINTED = {  # source 004's five other printed runs: row id -> (variant in the numpy record, optimizer, its rate)
    "numpy-sgd": ("sgd", "sgd", 0.1), "numpy-adagrad": ("adagrad", "adagrad", 0.001),
    "numpy-rmsprop": ("rmsprop", "rmsprop", 0.001), "numpy-momentum": ("momentum", "momentum", 0.001),
    "numpy-nesterov": ("nesterov", "nesterov", 0.001),
}


# ---------------------------------------------------------------- 001: SGD has no acceleration
@register(PAIRS, "sgd_vs_accelerated")
def _sgd_vs_accelerated(rec, p) -> list[tuple]:
    """Tuned SGD against each accelerated optimizer (tuned), each labelled with its tuned rate."""
    if not rec:
        return []
    lr = {n: (rec.get("analysis", {}).get("tuned", {}).get(n) or {}).get("lr") for n in ("sgd", *ACCELERATED)}
    label = {n: f"{OPT_NAMES[n]} (tuned lr {lr[n]:g})" if lr[n] else OPT_NAMES[n] for n in lr}
    return [("tuned_sgd", label["sgd"], f"tuned_{n}", label[n]) for n in ACCELERATED]


@register(FACTS, "rate_001")
def _rate_001(rec, records) -> list[dict]:
    """001 ran all four at 0.01; the study's 0.01 runs hold SGD, Momentum and Adam (RMSProp: 0.001)."""
    out = []
    for n in ("momentum", "adam"):
        a, b = per_run(rec, "sgd_0.01", epoch1_train_loss), per_run(rec, f"{n}_0.01", epoch1_train_loss)
        if a and b:
            out.append(fact(f"at 001's shared rate 0.01: SGD minus {OPT_NAMES[n]}, train loss after epoch 1 "
                            "(mean over seeds)", mean_std(a)[0] - mean_std(b)[0], "loss"))
    return out


# ---------------------------------------------------------------- 002 §1.2: leaving the plateau near a saddle
@register(VIEWS, "plateau")
def _plateau(records) -> dict | None:
    """The plateau part's seeded starts as runs: steps to get farther than the radius (never within the step limit
    counts as ``max_steps``, a lower bound on its true count); a path that is not ``ok`` makes it not measured."""
    part = (records.get("trajectories") or {}).get("plateau")
    if not part or not part.get("runs"):
        return None
    bad = [fact(f"{r['optimizer']} from seed {r['seed']}'s start", f"{r['status']}, so it decides nothing", "text")
           for r in part["runs"] if r["status"] != "ok"]
    if bad:
        return not_measured("paths that stay finite at this setting", facts=bad)
    most = part["settings"]["max_steps"]
    return {**part, "runs": [{"variant": r["optimizer"], "status": "ok", "never": r["escape_step"] is None,
                              "escape": most if r["escape_step"] is None else r["escape_step"]}
                             for r in part["runs"]]}


@register(FACTS, "never_left")
def _never_left(rec, records) -> list[dict]:
    never = sum(r["never"] for r in rec["runs"])
    return [fact("paths that never left within the step limit", never)] if never else []


# ---------------------------------------------------------------- 002 §8: Momentum damps the zig-zag
def _osc(part, rate, arm, key):
    return [r[key] for r in part["runs"] if r["rate"] == rate and r["arm"] == arm and r["status"] == "ok"]


@register(MEASURES, "zigzag_damping")
def _zigzag_damping(records, p) -> dict:
    """Per rate where gradient descent zig-zags (``each``): the highest share of y flips of 002's Momentum (the averaged
    rule) over the starts and the lowest of gradient descent; ``arises``: gradient descent zig-zags at some rate.
    Loss rises and Paddle's rule at the same number are facts beside."""
    part = (records.get("trajectories") or {}).get("oscillation")
    if not part or not part.get("runs"):
        return not_measured(TRAJ_MISSING + ", its oscillation part")
    bad = [fact(f"{r['arm']} at lr {r['rate']:g} from seed {r['seed']}'s start", f"{r['status']}, so it decides "
                "nothing", "text") for r in part["runs"] if r["status"] != "ok"]
    if bad:
        return not_measured("paths that stay finite at these rates", facts=bad)
    each, facts = [], []
    for rate in part["settings"]["rates"]:
        gd, mo = _osc(part, rate, "gd", "y_flip_share"), _osc(part, rate, "momentum-002", "y_flip_share")
        if not gd or not mo:
            return not_measured(TRAJ_MISSING + ", its oscillation part")
        each.append({"rate": rate, "starts": len(mo), "momentum_max": max(mo), "gd_min": min(gd)})
        pad = _osc(part, rate, "momentum-paddle", "y_flip_share")
        rises = {a: _osc(part, rate, a, "rise_share") for a in ("gd", "momentum-002")}
        facts += [fact(f"lr {rate:g}: the same share for Paddle's Momentum at the same number (mean over starts)",
                       sum(pad) / len(pad), "share"),
                  fact(f"lr {rate:g}: share of steps at which the loss rose, gradient descent / 002's Momentum (means "
                       "over starts)", f"{mean_std(rises['gd'])[0]:.2f} / {mean_std(rises['momentum-002'])[0]:.2f}",
                       "text")]
    return {"each": each, "facts": facts, "arises": any(x["gd_min"] != 0 for x in each)}
