"""Decision rules of source 003's toy-loss claims and source 000 §2.7's AdaGrad rate (data only).

Each rule reads the ``trajectories`` record (``studies.trajectories``): one deterministic numpy path per optimizer
on z = x²/10 + y² from (-7, 2), so a rule compares numbers with thresholds (no seeds, no intervals) and returns a
verdict dict built with ``claim_rules``' helpers. A path that left the finite numbers (status not ``ok``) decides
nothing: the rule says ``not measured`` with the finding.

    python -c "from paddle_mnist.studies.claim_rules_traj import sgd_zigzag; print(sgd_zigzag({})['verdict'])"
"""
from __future__ import annotations

from paddle_mnist.studies.claim_rules import (CONTRADICTED, INCONCLUSIVE, REPRODUCED, check, fact, not_measured,
                                              result)

TRAJ_MISSING = "the `trajectories` study (python -m paddle_mnist reproduce --only trajectories)"
ORDER = ("adam", "momentum", "rmsprop", "sgd")  # 003 §3.2: 107 < 128 < 130 < 148 steps
ZIGZAG_YES, ZIGZAG_NO = 0.5, 0.2  # share of steps whose y move flips sign
TURN_SMOOTH, TURN_SUDDEN = 45.0, 90.0  # degrees between consecutive steps
OVERSHOOT_MAX, CORRECT_WITHIN = 0.5, 20  # excursion past the centre (share of the start's distance); steps (003's 20)
NAMES = {"sgd": "SGD", "momentum": "Momentum", "rmsprop": "RMSProp", "adam": "Adam", "adagrad": "AdaGrad",
         "nesterov": "Nesterov", "adadelta": "AdaDelta"}


def _runs(records, *names):
    """``({optimizer: run}, None)`` when every run of ``names`` is there and finite, else ``(None, verdict)``."""
    rec = records.get("trajectories") or {}
    runs = {r["optimizer"]: r for r in rec.get("runs", [])}
    if not all(n in runs and "words" in runs[n] for n in names):
        return None, not_measured(TRAJ_MISSING)
    bad = [fact(f"{NAMES[n]} lr {runs[n]['lr']:g}", f"{runs[n]['status']}, so it decides nothing", "text")
           for n in names if runs[n]["status"] != "ok"]
    return (None, not_measured("a path that stays finite at this setting", facts=bad)) if bad else (runs, None)


def steps_order(records):
    """003 §3.2's order (Adam < Momentum < RMSProp < SGD steps to 0.005) on the toy loss at §3.1's rates."""
    runs, missing = _runs(records, *ORDER)
    if missing:
        return missing
    st = records["trajectories"]["steps_to_target"]
    ours, src = st["ours"], st["source"]
    if any(ours.get(n) is None for n in ORDER):
        return result(INCONCLUSIVE, facts=[fact(f"{NAMES[n]}: never within {st['max_steps']:,} steps", "", "text")
                                           for n in ORDER if ours.get(n) is None])
    pairs = list(zip(ORDER, ORDER[1:]))
    checks = [check(f"{NAMES[a]} (lr {runs[a]['lr']:g}) needs fewer steps to z ≤ {st['target']:g} than "
                    f"{NAMES[b]} (lr {runs[b]['lr']:g}): {ours[a]} vs {ours[b]}", ours[a], ours[b], ours[a] < ours[b])
              for a, b in pairs]
    ties = any(ours[a] == ours[b] for a, b in pairs)
    v = REPRODUCED if all(c["holds"] for c in checks) else INCONCLUSIVE if ties else CONTRADICTED
    facts = [fact(f"{NAMES[n]}: ours {ours[n]} steps, source 003's (its linear regression) {src[n]}", ours[n])
             for n in ORDER]
    return result(v, checks=checks, facts=facts, n_min=None)


def _word(records, name, rival, key, label, yes, no, higher):
    """One measured word of ``name``'s 20 steps: reproduced past ``yes``, contradicted past ``no`` the other way,
    inconclusive between; ``higher``: the word holds for high values; ``rival``'s value alongside."""
    runs, missing = _runs(records, name, rival)
    if missing:
        return missing
    val = runs[name]["words"][key]
    holds, fails = (val >= yes, val < no) if higher else (val <= yes, val > no)
    c = check(f"{NAMES[name]} lr {runs[name]['lr']:g}: {label}", val, yes, holds)
    v = REPRODUCED if holds else CONTRADICTED if fails else INCONCLUSIVE
    return result(v, checks=[c], facts=[fact(f"{NAMES[rival]} lr {runs[rival]['lr']:g}, the same", runs[rival]["words"]
                                             [key])], n_min=None)


def sgd_zigzag(records):
    """SGD at 0.95 moves "以折线方式": the share of its 20 steps whose y move flips sign."""
    return _word(records, "sgd", "momentum", "y_flip_share", f"share of steps whose y move flips sign (zig-zag ≥ "
                 f"{ZIGZAG_YES:g}, straight < {ZIGZAG_NO:g})", ZIGZAG_YES, ZIGZAG_NO, higher=True)


def momentum_no_turn(records):
    """Momentum at 0.1 "不会出现突然的转向": the largest angle between consecutive steps of its 20."""
    return _word(records, "momentum", "sgd", "max_turn_deg", f"largest angle between consecutive steps, degrees "
                 f"(smooth ≤ {TURN_SMOOTH:g}, sudden > {TURN_SUDDEN:g})", TURN_SMOOTH, TURN_SUDDEN, higher=False)


def momentum_overshoot(records):
    """Momentum "越过了中心点,但是很快就会得到纠正": crosses x = 0, goes at most half the start's |x| past it and
    turns back within 20 steps of the crossing."""
    runs, missing = _runs(records, "momentum", "adam")
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
    runs, missing = _runs(records, *rivals)
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


def adagrad_decay(records):
    """AdaGrad's "学习率逐渐下降": its per-coordinate effective rate lr / (sqrt(G) + eps) along its 20 steps."""
    runs, missing = _runs(records, "adagrad")
    if missing:
        return missing
    rates = runs["adagrad"]["effective_rates"]
    checks = []
    for i, axis in enumerate("xy"):
        seq = [r[i] for r in rates]
        rises = sum(b > a for a, b in zip(seq, seq[1:]))
        checks.append(check(f"AdaGrad lr {runs['adagrad']['lr']:g}, {axis}: steps at which the effective rate rises "
                            f"(it falls from {seq[0]:.3f} to {seq[-1]:.3f})", rises, 0, rises == 0 and seq[-1] < seq[0]))
    v = REPRODUCED if all(c["holds"] for c in checks) else CONTRADICTED if not any(c["holds"] for c in checks) \
        else INCONCLUSIVE
    return result(v, checks=checks, n_min=None)
