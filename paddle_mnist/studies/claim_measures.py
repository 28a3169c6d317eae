"""What the claim specs (``claim_specs``) name besides metrics, registered in ``rules``' tables: pair generators
(``PAIRS``), facts (``FACTS``), deterministic measurements (``MEASURES``) and record views (``VIEWS``).

    python -c "from paddle_mnist.studies import claim_measures, rules; print(sorted(rules.MEASURES))"
"""
from __future__ import annotations

from paddle_mnist.studies.claim_rules import PICKS, fact, hparams_grid, numpy_grid, ok_runs
from paddle_mnist.studies.claim_rules_opt import adadelta_lr_zero
from paddle_mnist.studies.claim_rules_timing import loss_at_step, steps_in
from paddle_mnist.studies.claim_rules_traj import NAMES, traj_runs
from paddle_mnist.studies.rules import FACTS, MEASURES, PAIRS, VIEWS, register, values


@register(PAIRS, "dropout")
def _dropout_pairs(rec, p) -> list[tuple]:
    """p = 0 against each dropout rate of the record's analysis (``part``: its ``dropout`` part, the course's)."""
    a = (rec or {}).get("analysis", {})
    a = a.get("dropout", {}) if p.get("part") else a
    base = next((k for k, v in a.items() if v["dropout"] == 0.0), None)
    drops = [(k, f"p={v['dropout']:g}") for k, v in a.items() if v["dropout"] > 0]
    if not base or not drops:
        return []
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


@register(MEASURES, "hparams_grid")
def _hparams_grid(records, p) -> dict:
    return hparams_grid(records, PICKS[p["pick"]], p["label"], p["rate"])


@register(MEASURES, "numpy_grid")
def _numpy_grid(records, p) -> dict:
    return numpy_grid(records, PICKS[p["pick"]], p["label"])


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
            out.append(fact(f"{arm[3:]}: share of steps whose batch loss rose (mean over seeds)", sum(rises) / len(rises)))
    return out
