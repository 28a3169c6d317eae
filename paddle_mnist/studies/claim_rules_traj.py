"""Source 003's toy-loss paths for the ledger: ``traj_runs`` (the paths a row reads, none decided from a path that
left the finite numbers) and the one row with its own rule, ``rmsprop_small_lr``; the zig-zag, turn, overshoot,
steps-order and AdaGrad-rate rows are generic rules (``claim_specs``, ``claim_measures``).

The ``trajectories`` record (``studies.trajectories``) holds one deterministic numpy path per optimizer on
z = x²/10 + y² from (-7, 2), so a rule compares numbers with thresholds (no seeds, no intervals).

    python -c "from paddle_mnist.studies.claim_rules_traj import rmsprop_small_lr; print(rmsprop_small_lr({})['verdict'])"
"""
from __future__ import annotations

from paddle_mnist.studies.claim_rules import (CONTRADICTED, INCONCLUSIVE, REPRODUCED, check, fact, not_measured,
                                              result)

TRAJ_MISSING = "the `trajectories` study (python -m paddle_mnist reproduce --only trajectories)"
NAMES = {"sgd": "SGD", "momentum": "Momentum", "rmsprop": "RMSProp", "adam": "Adam", "adagrad": "AdaGrad",
         "nesterov": "Nesterov", "adadelta": "AdaDelta"}


def traj_runs(records, *names):
    """``({optimizer: run}, None)`` when every run of ``names`` is there and finite, else ``(None, verdict)``."""
    rec = records.get("trajectories") or {}
    runs = {r["optimizer"]: r for r in rec.get("runs", [])}
    if not all(n in runs and "words" in runs[n] for n in names):
        return None, not_measured(TRAJ_MISSING)
    bad = [fact(f"{NAMES[n]} lr {runs[n]['lr']:g}", f"{runs[n]['status']}, so it decides nothing", "text")
           for n in names if runs[n]["status"] != "ok"]
    return (None, not_measured("a path that stays finite at this setting", facts=bad)) if bad else (runs, None)


def rmsprop_small_lr(records):
    """RMSProp at lr 0.1 "收敛也会快": (a) fewer steps to 0.005 than AdaGrad at the same 0.1 (the rival named, whose
    decaying rate it fixes); (b) no slower than at least half of SGD, Momentum, Adam and AdaGrad at their rates."""
    rivals = ("sgd", "momentum", "adam", "adagrad")
    runs, missing = traj_runs(records, *rivals)
    if missing:
        return missing
    st = records["trajectories"]["steps_to_target"]
    mine, ada = st["rmsprop_small_lr"], st.get("adagrad_small_lr")
    if ada is None:
        return not_measured(TRAJ_MISSING)
    never = st["max_steps"] + 1  # "never within max_steps" counts as slower than any count
    m, a = mine["steps"] or never, ada["steps"] or never
    if m == never:
        return result(INCONCLUSIVE, facts=[fact(f"RMSProp lr {mine['lr']:g}: never within {st['max_steps']:,} steps",
                                                "", "text")])
    others = [check(f"RMSProp lr {mine['lr']:g} ({m} steps) no slower than {NAMES[n]} lr {runs[n]['lr']:g} "
                    f"({st['ours'][n] or 'never'})", m, st["ours"][n] or never, m <= (st["ours"][n] or never))
              for n in rivals]
    held = sum(c["holds"] for c in others)
    parts = [check(f"(a) RMSProp lr {mine['lr']:g} ({m} steps) faster than AdaGrad at the same lr ({ada['steps'] or 'never'})",
                   m, a, m < a),
             check(f"(b) no slower than at least half of the four at their rates ({held} of {len(others)})", held,
                   len(others) / 2, held * 2 >= len(others))]
    ok = sum(c["holds"] for c in parts)
    v = REPRODUCED if ok == 2 else CONTRADICTED if ok == 0 else INCONCLUSIVE
    return result(v, checks=parts + others, facts=[fact("RMSProp lr 0.5, steps", st["ours"].get("rmsprop"))],
                  n_min=None)
