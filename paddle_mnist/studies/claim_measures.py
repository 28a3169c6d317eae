"""What the claim specs (``claim_specs``) name besides metrics, registered in ``rules``' tables: pair generators
(``PAIRS``), facts (``FACTS``), deterministic measurements (``MEASURES``) and record views (``VIEWS``).

    python -c "from paddle_mnist.studies import claim_measures, rules; print(sorted(rules.MEASURES))"
"""
from __future__ import annotations

from paddle_mnist.studies.claim_rules import (CONTRADICTED, INCONCLUSIVE, NUMPY_LR_TO_SOURCE, SOURCE_DROPOUT, check,
                                              compare_summary, fact, not_measured, ok_runs, per_run, result)
from paddle_mnist.studies.claim_rules_opt import adadelta_lr_zero
from paddle_mnist.studies.claim_rules_timing import (TIMING_MISSING, loss_at_step, pow2_comparisons, ratio_comparison,
                                                     steps_in)
from paddle_mnist.studies.claim_rules_traj import NAMES, TRAJ_MISSING, traj_runs
from paddle_mnist.studies.rules import FACTS, MEASURES, PAIRS, VIEWS, register, values
from paddle_mnist.studies.stats import mean_std


@register(PAIRS, "dropout")
def _dropout_pairs(rec, p) -> list[tuple]:
    """p = 0 against the dropout rates of the record's analysis (``part``: its ``dropout`` part, the course's):
    ``rates`` "source" takes source 000's rate alone (``SOURCE_DROPOUT``, the one that decides), "others" every
    other rate (reported beside), unset every rate."""
    a = (rec or {}).get("analysis", {})
    a = a.get("dropout", {}) if p.get("part") else a
    base = next((k for k, v in a.items() if v["dropout"] == 0.0), None)
    drops = [(k, v["dropout"]) for k, v in a.items() if v["dropout"] > 0]
    if not base or not drops:
        return []
    rates = p.get("rates")
    drops = [(k, f"p={r:g}") for k, r in drops
             if rates is None or (abs(r - SOURCE_DROPOUT) < 1e-9) == (rates == "source")]
    return [(k, lab, base, "p=0") if p["drop_first"] else (base, "p=0", k, lab) for k, lab in drops]


def _tuned(rec) -> list[str]:
    names = sorted({r["variant"][6:] for r in (rec or {}).get("runs", []) if r.get("stage") == "tuned"})
    return names if "adam" in names else []


@register(PAIRS, "tuned_vs_adam")
def _tuned_vs_adam(rec, p) -> list[tuple]:
    return [(f"tuned_{n}", n, "tuned_adam", "Adam") for n in _tuned(rec) if n != "adam"]


@register(PAIRS, "adam_vs_best")
def _adam_vs_best(rec, p) -> list[tuple]:
    """Tuned Adam against the other tuned optimizer with the best mean test accuracy."""
    names = [n for n in _tuned(rec) if n != "adam"]
    if not names:
        return []
    t = {n: values(rec, f"tuned_{n}", "test_acc", "tuned") for n in names}
    best = max(names, key=lambda n: sum(t[n]) / max(len(t[n]), 1))
    return [("tuned_adam", "Adam", f"tuned_{best}", f"best other ({best})")]


@register(FACTS, "kfold_choices")
def _kfold_choices(rec, records) -> list[dict]:
    runs = ok_runs(rec, "kfold")
    return [fact("seeds where 5-fold CV picked the grid's best rate", sum(r["kfold_choice"] == r["grid_best"]
                                                                        for r in runs)),
            fact("seeds where the held-out split picked it", sum(r["holdout_choice"] == r["grid_best"] for r in runs)),
            fact("seeds", len(runs))]


@register(FACTS, "max_standardised_pixel")
def _max_pixel(rec, records) -> list[dict]:
    return [fact("largest absolute standardised pixel in the train split",
                 max(values(rec, "input-standardised", "max_abs_input"), default=None))]


@register(MEASURES, "adadelta")
def _adadelta(records, p) -> dict:
    return adadelta_lr_zero()


@register(MEASURES, "save_restore")
def _save_restore(records, p) -> dict | None:
    rec = records.get("save_restore")
    if not rec:
        return None
    m = rec["analysis"]
    return {**m, "agree": m["max_abs_diff"] <= m["tolerance"] and m["same_predictions"]}


@register(MEASURES, "traj_word")
def _traj_word(records, p) -> dict:
    """One measured word of a toy-loss path (``p["key"]`` of its ``words``), a rival's beside it."""
    runs, missing = traj_runs(records, p["name"], p["rival"])
    if missing:
        return missing
    me, rival = runs[p["name"]], runs[p["rival"]]
    return {"name": NAMES[p["name"]], "lr": me["lr"], "value": me["words"][p["key"]], "rival": NAMES[p["rival"]],
            "rival_lr": rival["lr"], "rival_value": rival["words"][p["key"]]}


@register(MEASURES, "traj_steps")
def _traj_steps(records, p) -> dict:
    """Steps to the target loss per optimizer (ours and the source's), with their rates."""
    runs, missing = traj_runs(records, *p["order"])
    if missing:
        return missing
    st = records["trajectories"]["steps_to_target"]
    return {"counts": st["ours"], "source": st["source"], "names": NAMES, "lr": {n: runs[n]["lr"] for n in runs},
            "target": st["target"], "max_steps": st["max_steps"]}


@register(MEASURES, "rmsprop_small")
def _rmsprop_small(records, p) -> dict:
    """RMSProp at lr 0.1: its steps to the target against AdaGrad's at the same rate, and how many of SGD, Momentum,
    Adam and AdaGrad (at their rates) it is no slower than, each of those a check shown beside ("never within the
    limit" counts as slower than any count); a path that never gets there is inconclusive outright."""
    rivals = ("sgd", "momentum", "adam", "adagrad")
    runs, missing = traj_runs(records, *rivals)
    if missing:
        return missing
    st = records["trajectories"]["steps_to_target"]
    mine, ada = st["rmsprop_small_lr"], st.get("adagrad_small_lr")
    if ada is None:
        return not_measured(TRAJ_MISSING)
    never = st["max_steps"] + 1
    m, a = mine["steps"] or never, ada["steps"] or never
    if m == never:
        return result(INCONCLUSIVE, facts=[fact(f"RMSProp lr {mine['lr']:g}: never within {st['max_steps']:,} steps",
                                                "", "text")])
    shown = [check(f"RMSProp lr {mine['lr']:g} ({m} steps) no slower than {NAMES[n]} lr {runs[n]['lr']:g} "
                   f"({st['ours'][n] or 'never'})", m, st["ours"][n] or never, m <= (st["ours"][n] or never))
             for n in rivals]
    return {"lr": mine["lr"], "steps": m, "adagrad": a, "adagrad_text": ada["steps"] or "never", "shown": shown,
            "held": sum(c["holds"] for c in shown), "rivals": len(shown), "half": len(shown) / 2,
            "rmsprop": st["ours"].get("rmsprop")}


@register(MEASURES, "adagrad_rates")
def _adagrad_rates(records, p) -> dict:
    """AdaGrad's per-coordinate effective rate along its toy-loss path: how often it rises, where it starts and ends."""
    runs, missing = traj_runs(records, "adagrad")
    if missing:
        return missing
    out = {"lr": runs["adagrad"]["lr"]}
    for i, axis in enumerate("xy"):
        seq = [r[i] for r in runs["adagrad"]["effective_rates"]]
        rises = sum(b > a for a, b in zip(seq, seq[1:]))
        out.update({f"rises_{axis}": rises, f"first_{axis}": seq[0], f"last_{axis}": seq[-1],
                    f"falls_{axis}": rises == 0 and seq[-1] < seq[0]})
    return out


@register(MEASURES, "overshoot")
def _overshoot(records, p) -> dict:
    """Momentum's overshoot along x (its ``overshoot`` and the steps it takes to turn back), Momentum's and Adam's
    crossings as facts; a path that never crosses x = 0 contradicts the claim outright."""
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
    return {**o, "turn": o["peak_step"] - o["cross_step"], "facts": facts}


@register(VIEWS, "saddle")
def _saddle(records) -> dict | None:
    """The saddle toy's starts as runs: steps to leave (never: the settings' ``max_steps``), distance after N steps."""
    sad = (records.get("trajectories") or {}).get("saddle")
    if not sad or not sad.get("runs"):
        return None
    st = sad["settings"]
    return {**sad, "runs": [{"variant": r["optimizer"], "status": "ok", "distance": r["distance"],
                             "escape": st["max_steps"] if r["escape_step"] is None else r["escape_step"]}
                            for r in sad["runs"]]}


@register(FACTS, "on_axis")
def _on_axis(rec, records) -> list[dict]:
    return [fact(f"start on the saddle's x axis (y = 0), {r['optimizer']}: distance after {rec['settings']['steps']} "
                 "steps", r["distance"]) for r in rec.get("on_axis", [])]


PLATEAU_EPOCHS = 5  # near its floor: the constant-rate loss rose at least once over its last 5 epochs, in every seed


def _rises(r) -> int:
    h = r["history"]["train_loss"][-1 - PLATEAU_EPOCHS:]
    return sum(b > a for a, b in zip(h, h[1:]))


@register(MEASURES, "plateau")
def _plateau(records, p) -> dict:
    """Whether the constant-rate runs bounce near their floor: in every seed the per-epoch train loss rose at least
    once over the last ``PLATEAU_EPOCHS`` epochs (its steps' noise as large as its descent), the regime lr-decay's
    claim is about (settling near the minimum); a loss still falling epoch after epoch is not that regime."""
    rec = records.get("practice")
    rises = per_run(rec, "lr-constant", _rises)
    if rises and min(rises) >= 1:
        return {"holds": True, "facts": [fact(f"epochs among the last {PLATEAU_EPOCHS} in which a constant-rate seed's "
                                              "loss rose (fewest over seeds; near its floor)", min(rises), "count")]}
    curve = [sum(v) / len(v) for v in zip(*(r["history"]["train_loss"] for r in ok_runs(rec, "lr-constant")))]
    tail = " → ".join(f"{x:.4f}" for x in curve[-1 - PLATEAU_EPOCHS:])
    return {"holds": False, "experiment": "a budget in which the constant-rate loss bounces near its floor (it rises "
            f"at least once over its last {PLATEAU_EPOCHS} epochs in every seed)",
            "facts": [fact(f"constant-rate train loss at epochs {len(curve) - PLATEAU_EPOCHS}-{len(curve)} (mean over "
                           f"seeds, {tail}): still descending; epochs in which a seed's loss rose, fewest over seeds",
                           min(rises, default=None), "count")]}


@register(VIEWS, "gd")
def _gd(records) -> dict | None:
    """The practice record, each batch-size run with its probe loss after the CPU seconds the mini-batch arm needs for
    one epoch (the timing benchmark's medians of CPU seconds per step; the losses are the runs' own, by step)."""
    rec, bench = records.get("practice"), records.get("timing")
    if not rec:
        return None
    try:
        epoch = bench["arms"]["gd-mini-batch"]["cpu_s_per_epoch"]["median"]
    except (KeyError, TypeError):
        return rec
    return {**rec, "runs": [{**r, "loss_at_mini_epoch": loss_at_step(r, steps_in(bench, r["variant"], epoch))}
                            if r["variant"].startswith("gd-") else r for r in rec["runs"]]}


@register(FACTS, "gd_facts")
def _gd_facts(rec, records) -> list[dict]:
    out = [fact("batch over mini-batch CPU seconds per epoch (timing benchmark, median of the per-round ratios)",
                records["timing"]["ratios"]["batch / mini-batch"]["cpu"]["median"])]
    for arm in ("gd-batch", "gd-mini-batch", "gd-stochastic"):
        rises = values(rec, arm, ("rise_share",))  # the run's own field, not METRICS["rise_share"]
        if rises:
            out.append(fact(f"{arm[3:]}: share of steps whose batch loss rose (mean over seeds)",
                            sum(rises) / len(rises)))
    return out


# ---------------------------------------------------------------- 000 §2.2: the tuning grids
HP_MISSING = "the `hparams` study (python -m paddle_mnist train hparams)"


def _best_minus(table, key, choice, rate):
    """Per hidden size: the grid best's rate minus ``rate`` (single runs), for the facts of the learning-rate claim."""
    at = {t["hidden"]: t[key] for t in table if abs(t["lr"] - rate) < 1e-12}
    best = {t["hidden"]: t[key] for t in table if abs(t["lr"] - choice["lr"]) < 1e-12}
    return [best[h] - at[h] for h in sorted(at) if h in best and best[h] is not None and at[h] is not None]


@register(MEASURES, "hparams_grid")
def hparams_grid(records, p) -> dict:
    """The done-right grid (``hparams``): its best valid accuracy against the best under the claim (``PICKS``), a
    single-run comparison whose spread is the chosen setting's over its seeds; or the not-measured verdict."""
    pick, label, rate = PICKS[p["pick"]], p["label"], p["rate"]
    rec = records.get("hparams")
    a = (rec or {}).get("analysis", {})
    table, choice, final = [t for t in a.get("grid", []) if t["valid_acc"] is not None], a.get("choice"), a.get("final")
    if not table or not choice or not final or (final.get("n_ok") or 0) < 2:
        return not_measured(HP_MISSING)
    mine = [t["valid_acc"] for t in table if pick(t, choice)]
    if not mine:
        return not_measured(f"{HP_MISSING} with {label} in its grid")
    c = compare_summary("best valid accuracy (single-seed grid points; spread from the chosen setting's seeds)",
                        "acc", f"grid best (lr {choice['lr']:g}, {choice['hidden']} units)", choice["valid_acc"],
                        label, max(mine), final["valid_acc_std"], final["n_ok"] - 1)
    facts = []
    if rate is not None and abs(choice["lr"] - rate) > 1e-12:
        d = _best_minus(table, "valid_acc", choice, rate)
        facts = [fact(f"hidden sizes where lr {choice['lr']:g} beats lr {rate:g} on valid (single runs), of "
                      f"{len(d)}; differences {', '.join(f'{x * 100:+.2f}' for x in d)} points", sum(x > 0 for x in d))]
    return {"comparisons": [c], "facts": facts}


def _at_lr_01(t, c):
    return abs(t["lr"] - 0.1) < 1e-12


def _units_150_200(t, c):
    return 150 <= t["hidden"] <= 200 and abs(t["lr"] - c["lr"]) < 1e-12


NUMPY_MISSING = "the `numpy` study's assignment-net search (python -m paddle_mnist train numpy)"
NUMPY_UNITS = ("rates in source 000's units: this net's gradient is 2·diff/n where the source's is diff/n, so its "
               "lr x 2 is the source's")


@register(MEASURES, "numpy_grid")
def numpy_grid(records, p) -> dict:
    """Source 000's own net (numpy, sigmoid, one output, squared error): its valid-split grid, as ``hparams_grid``."""
    pick, label = PICKS[p["pick"]], p["label"]
    search = (records.get("numpy") or {}).get("search") or {}
    grid = [t for t in search.get("runs", []) if t.get("best_valid_acc") is not None and t.get("status", "ok") == "ok"]
    stopped = [t for t in search.get("runs", []) if t.get("status", "ok") != "ok"]
    facts = [fact("grid points that did not train (stopped as collapsed to the mean label), so decide nothing",
                  ", ".join(f"source lr {t['lr'] * NUMPY_LR_TO_SOURCE:g} x {t['hidden']} units: {t['status']}"
                            for t in stopped), "text")] if stopped else []
    choice = search.get("choice")
    seeds = [r["valid_acc"] for r in (search.get("eval") or {}).get("runs", []) if r.get("valid_acc") is not None]
    if not grid or not choice or len(seeds) < 2:
        return not_measured(NUMPY_MISSING + " with the chosen point over 2+ seeds")
    rates = "/".join(f"{x * NUMPY_LR_TO_SOURCE:g}" for x in sorted({t["lr"] for t in grid}))
    mine = [t["best_valid_acc"] for t in grid if pick(t, choice)]
    if not mine:
        return not_measured(f"{NUMPY_MISSING} with {label} in its grid (its rates are the source's {rates})")
    _, sd = mean_std(seeds)
    c = compare_summary("best valid accuracy (single-seed grid points; spread from the chosen point's seeds; "
                        + NUMPY_UNITS + ")", "acc",
                        f"grid best (source lr {choice['lr'] * NUMPY_LR_TO_SOURCE:g}, {choice['hidden']} units)",
                        choice["valid_acc"], label, max(mine), sd, len(seeds) - 1)
    return {"comparisons": [c], "facts": facts}


def _at_source_lr_01(t, c):
    return abs(t["lr"] * NUMPY_LR_TO_SOURCE - 0.1) < 1e-12


PICKS = {"lr 0.1": _at_lr_01, "150-200 units": _units_150_200, "source lr 0.1": _at_source_lr_01}


# ---------------------------------------------------------------- 001: saving the parameters only
@register(MEASURES, "save_speed")
def _save_speed(records, p) -> dict:
    """The timing benchmark's saving arms: ``paddle.jit.save`` of the whole net over ``paddle.save(state_dict)``, CPU
    ms per save per round (a ratio against 1), with the bytes each writes as a guard check (the parameters-only file
    must be smaller) and the first, untimed save as a fact."""
    bench = records.get("timing")
    c = ratio_comparison(bench, "save whole / parameters", "whole network (paddle.jit.save)",
                         "parameters (paddle.save(state_dict))", "CPU milliseconds per save (timing benchmark)", "ms")
    if c is None:
        return not_measured(TIMING_MISSING)
    params, whole = (bench["arms"][a]["bytes"] for a in ("save-params", "save-whole"))
    first = (1000 * bench["arms"][a]["first_cpu_s"]["median"] for a in ("save-params", "save-whole"))
    facts = [fact("bytes per save", f"parameters {params['median']:,.0f}, whole network {whole['median']:,.0f}",
                  "text"),
             fact("first save (untimed in the ratio; the whole network's converts it to a static program)",
                  "parameters {:.1f} ms, whole network {:.1f} ms CPU".format(*first), "text")]
    return {"comparisons": [c], "facts": facts, "checks": [check(
        "parameters-only file smaller than the whole network's (bytes)", params["max"], whole["min"],
        params["max"] < whole["min"])]}


# ---------------------------------------------------------------- 002 §6: mini-batch sizes that are powers of 2
@register(MEASURES, "pow2")
def _pow2(records, p) -> dict:
    """Per power of 2 of the benchmark, its two neighbours as ratio comparisons (a group of 2 for the test
    ``groups``: contradicted only when the power of 2 is slower than both in every round)."""
    groups = pow2_comparisons(records.get("timing"))
    if not groups or any(len(g) != 2 for g in groups):
        return not_measured(TIMING_MISSING)
    return {"comparisons": [c for g in groups for c in g], "facts": [], "groups": [len(g) for g in groups]}
