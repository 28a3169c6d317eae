"""Decision rules of source 003's toy-loss claims and source 000 §2.7's AdaGrad rate (data only; the zig-zag, turn
steps-order and AdaGrad-rate rows are generic rules in ``claim_specs``, which reads the paths through ``traj_runs``).

Each rule reads the ``trajectories`` record (``studies.trajectories``): one deterministic numpy path per optimizer
on z = x²/10 + y² from (-7, 2), so a rule compares numbers with thresholds (no seeds, no intervals) and returns a
verdict dict built with ``claim_rules``' helpers. A path that left the finite numbers (status not ``ok``) decides
nothing: the rule says ``not measured`` with the finding.

    python -c "from paddle_mnist.studies.claim_rules_traj import momentum_overshoot; print(momentum_overshoot({})['verdict'])"
"""
from __future__ import annotations

from paddle_mnist.studies.claim_rules import (CONTRADICTED, INCONCLUSIVE, REPRODUCED, check, fact, not_measured,
                                              result)

TRAJ_MISSING = "the `trajectories` study (python -m paddle_mnist reproduce --only trajectories)"
OVERSHOOT_MAX, CORRECT_WITHIN = 0.5, 20  # excursion past the centre (share of the start's distance); steps (003's 20)
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


def momentum_overshoot(records):
    """Momentum "越过了中心点,但是很快就会得到纠正": crosses x = 0, goes at most half the start's |x| past it and
    turns back within 20 steps of the crossing."""
    runs, missing = traj_runs(records, "momentum", "adam")
    if missing:
        return missing
    o = runs["momentum"]["overshoot"]
    facts = [fact(f"{NAMES[n]}: crosses x = 0 at step {runs[n]['overshoot']['cross_step']}, farthest past it at step "
                  f"{runs[n]['overshoot']['peak_step']}, back across at step {runs[n]['overshoot']['back_step']}",
                  runs[n]["overshoot"]["excursion"]) for n in ("momentum", "adam") if runs[n]["overshoot"]["crosses"]]
    if not o["crosses"]:
        return result(CONTRADICTED, checks=[check(f"Momentum crosses x = 0 within {o['steps']} steps", 0, 1, False)],
                      facts=facts, n_min=None)
    turn = o["peak_step"] - o["cross_step"]
    checks = [check("Momentum's excursion past the centre, share of the start's distance from it", o["excursion"], OVERSHOOT_MAX,
                    o["excursion"] <= OVERSHOOT_MAX),
              check("steps from crossing x = 0 to the farthest point past it (turning back)", turn, CORRECT_WITHIN,
                    turn <= CORRECT_WITHIN)]
    v = REPRODUCED if all(c["holds"] for c in checks) else CONTRADICTED if not checks[0]["holds"] else INCONCLUSIVE
    return result(v, checks=checks, facts=facts, n_min=None)


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
