"""The assignment's studies (2.2, 2.6, 2.7): pipelines, analyses and the claims ledger.

``loss`` and ``dropout`` are plain grids of engine runs; their ``post`` hooks add
the analysis (iterations and seconds to 95%/97% valid accuracy, loss floors,
generalisation gaps, seconds per epoch). ``optimizers`` and ``hparams`` are
``custom`` pipelines of several stages:

* ``optimizers``: the report's settings x seeds, plus a one-seed learning-rate
  sweep per optimizer; the tuned rate is chosen on ``valid`` only, then run x seeds.
* ``hparams``: a one-seed grid over learning rate (at a few hidden sizes), then
  hidden size 50..700 at the best rate; (lr, hidden, epochs) is chosen by valid
  accuracy (epochs = the best epoch of the run's valid curve); only then is the
  chosen configuration trained x seeds and scored once on ``eval``.

Runs that only serve a choice (the sweep and the grid) never score ``eval``:
their configs carry ``score_eval=False``, so ``engine.fit`` never touches that split.

``claims_ledger(records)`` turns the results into verdicts on the original
report's claims; ``study_report`` renders it.

    python -m paddle_mnist train optimizers --quick
"""
from __future__ import annotations

import dataclasses
import math
import statistics
from dataclasses import dataclass, field

THRESHOLDS = (0.95, 0.97)
# Cross entropy after a softmax output: the best case puts probability 1 on the true class,
# so the loss is -log(e / (e + 9)) = ln(1 + 9/e).
DOUBLE_SOFTMAX_FLOOR = math.log(1.0 + 9.0 / math.e)

# ---------------------------------------------------------------- settings of the multi-stage studies
# One-seed learning-rate sweep per optimizer (log grids, factor ~3), SWEEP_EPOCHS epochs per run.
OPTIMIZER_GRIDS = {
    "sgd": (0.01, 0.03, 0.1, 0.3, 1.0),
    "momentum": (0.003, 0.01, 0.03, 0.1, 0.3),
    "adagrad": (0.001, 0.003, 0.01, 0.03, 0.1),
    "rmsprop": (0.0001, 0.0003, 0.001, 0.003, 0.01),
    "adam": (0.0001, 0.0003, 0.001, 0.003, 0.01),
}
SWEEP_EPOCHS = 2
QUICK_SWEEP_POINTS = (1, 3)  # --quick: the 2nd and 4th rate of each grid

# hparams: lr grid at a few hidden sizes, then hidden 50..700 by 50 (as in the report) at the best lr.
HPARAMS_LRS = (0.01, 0.03, 0.1, 0.3, 1.0)
HPARAMS_LR_HIDDEN = (100, 200, 400)
HPARAMS_HIDDEN = tuple(range(50, 701, 50))
QUICK_HPARAMS = {"lrs": (0.03, 0.1, 0.3), "lr_hidden": (50, 100), "hidden": (50, 100, 150)}


# ---------------------------------------------------------------- small helpers
def mean_std(values):
    values = [float(v) for v in values if v is not None and math.isfinite(v)]
    if not values:
        return None, None
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def _mean(values):
    return mean_std(values)[0]


def ok_runs(runs, variant=None, stage=None):
    return [r for r in runs if r["status"] == "ok" and (variant is None or r["variant"] == variant)
            and (stage is None or r.get("stage") == stage)]


def variants_in(runs) -> list[str]:
    return list(dict.fromkeys(r["variant"] for r in runs))


def first_reach(run: dict, threshold: float):
    """First epoch whose valid accuracy is >= ``threshold``: ``{epoch, steps, seconds}`` or None.

    Valid accuracy is measured once per epoch, so this has epoch resolution.
    """
    h = run["history"]
    for i, acc in enumerate(h.get("valid_acc", [])):
        if acc >= threshold:
            steps = (i + 1) * run.get("steps_per_epoch", 0)
            return {"epoch": i + 1, "steps": min(steps, run.get("steps", steps)) if steps else None,
                    "seconds": float(sum(h["seconds"][:i + 1]))}
    return None


def reach_summary(runs: list[dict], threshold: float) -> dict:
    hits = [first_reach(r, threshold) for r in runs]
    got = [h for h in hits if h]
    return {"threshold": threshold, "n": len(runs), "n_reached": len(got),
            "epoch_mean": _mean([h["epoch"] for h in got]), "steps_mean": _mean([h["steps"] for h in got]),
            "seconds_mean": _mean([h["seconds"] for h in got])}


def roughness(run: dict):
    """Mean |change| between consecutive logged train losses after the first epoch, over their mean.

    A dimensionless measure of how much the per-iteration loss jumps around (None if too few points).
    """
    it = run.get("iterations") or {}
    spe = run.get("steps_per_epoch") or 0
    pts = [v for s, v in zip(it.get("step", []), it.get("train_loss", [])) if s > spe and math.isfinite(v)]
    if len(pts) < 3:
        return None
    diffs = [abs(b - a) for a, b in zip(pts, pts[1:])]
    return statistics.fmean(diffs) / max(statistics.fmean(pts), 1e-12)


def best_valid(run: dict):
    return max(run["history"]["valid_acc"]) if run["history"].get("valid_acc") else None


def _seeds(exp, seeds, quick):
    return tuple(seeds) if seeds else (exp.seeds[:1] if quick else exp.seeds)


def study_config(exp, variant: dict, *, quick: bool, overrides: dict | None, drop=(), cap_epochs=None):
    """Base + variant, then ``--quick`` settings, then the command-line overrides (minus ``drop``)."""
    cfg = dataclasses.replace(exp.base, **variant)
    if quick:
        cfg = dataclasses.replace(cfg, **exp.quick)
    ov = {k: v for k, v in (overrides or {}).items() if k not in drop}
    if ov:
        cfg = dataclasses.replace(cfg, **ov)
    if cap_epochs is not None and cfg.epochs > cap_epochs:
        cfg = dataclasses.replace(cfg, epochs=cap_epochs)
    return cfg


# ---------------------------------------------------------------- running jobs
@dataclass
class Job:
    name: str  # run name (its folder)
    variant: str
    config: object  # TrainConfig
    stage: str
    score_eval: bool = True
    extra: dict = field(default_factory=dict)


def run_jobs(name: str, jobs: list[Job], **opts) -> list[dict]:
    """``runner.run_configs`` over jobs; a job with ``score_eval=False`` never touches ``eval``."""
    from .runner import run_configs

    configs = [(j.name, j.variant, dataclasses.replace(j.config, score_eval=j.score_eval),
                {"stage": j.stage, **j.extra}) for j in jobs]
    return run_configs(name, configs, **opts)


def _opts(kw: dict) -> dict:
    return {k: kw[k] for k in ("runs_dir", "quick", "resume", "workers", "progress", "log") if k in kw}


# ---------------------------------------------------------------- loss study (2.6.1-2.6.2)
def label_stats(data_path: str = "", train_subset: int = 0) -> dict:
    """Mean, variance and second moment of the train labels, and the accuracy of always predicting round(mean)."""
    import numpy as np

    from .data import read_arrays

    y = np.asarray(read_arrays(data_path or None)["train"][1], dtype=np.float64)
    if train_subset:
        y = y[:train_subset]
    mean = float(y.mean())
    const = int(min(max(round(mean), 0), 9))
    return {"n": int(len(y)), "mean": mean, "variance": float(y.var()), "second_moment": float((y ** 2).mean()),
            "constant_prediction": const, "constant_accuracy": float((y == const).mean())}


def loss_analysis(runs: list[dict]) -> dict:
    out = {}
    for label in variants_in(runs):
        group = [r for r in runs if r["variant"] == label]
        ok = [r for r in group if r["status"] == "ok"]
        cfg = group[0]["config"]
        t_mean, t_std = mean_std([r["test_acc"] for r in ok])
        first = [r["iterations"]["train_loss"][0] for r in group if r.get("iterations", {}).get("train_loss")]
        lowest = [min(r["iterations"]["train_loss"]) for r in ok if r.get("iterations", {}).get("train_loss")]
        out[label] = {
            "loss": cfg["loss"], "optimizer": cfg["optimizer"], "lr": cfg["lr"], "out_features": cfg["out_features"],
            "double_softmax": cfg["double_softmax"], "n_runs": len(group), "n_ok": len(ok),
            "statuses": sorted({r["status"] for r in group}),
            "test_acc_mean": t_mean, "test_acc_std": t_std,
            "valid_acc_epoch1_mean": _mean([r["history"]["valid_acc"][0] for r in ok if r["history"]["valid_acc"]]),
            "reach": {f"{t:.2f}": reach_summary(ok, t) for t in THRESHOLDS},
            "initial_loss_mean": _mean(first),
            "lowest_logged_loss_mean": _mean(lowest),
            "lowest_logged_loss_min": min(lowest) if lowest else None,
            "final_train_loss_mean": _mean([r["history"]["train_loss"][-1] for r in ok if r["history"]["train_loss"]]),
            "final_valid_loss_mean": _mean([r["history"]["valid_loss"][-1] for r in ok if r["history"]["valid_loss"]]),
            "diverged": [{"run": r["name"], "step": r["diverged_step"], "last_finite_loss": r["last_finite_loss"]}
                         for r in group if r["status"] == "diverged"],
        }
    return out


def loss_post(exp, runs, **kw) -> dict:
    cfg = runs[0]["config"]
    return {"analysis": loss_analysis(runs),
            "reference": {"double_softmax_floor": DOUBLE_SOFTMAX_FLOOR,
                          "labels": label_stats(cfg.get("data_path", ""), cfg.get("train_subset", 0))}}


# ---------------------------------------------------------------- dropout study (2.6.3-2.6.4)
def _per_epoch_mean(runs, key):
    series = [r["history"][key] for r in runs if r["history"].get(key)]
    if not series:
        return []
    n = min(len(s) for s in series)
    return [statistics.fmean(s[i] for s in series) for i in range(n)]


def dropout_analysis(runs: list[dict]) -> dict:
    out = {}
    for label in variants_in(runs):
        group = [r for r in runs if r["variant"] == label]
        ok = [r for r in group if r["status"] == "ok"]
        curves = {k: _per_epoch_mean(ok, k) for k in ("train_loss", "valid_loss", "train_acc", "valid_acc")}
        secs = [s for r in ok for s in r["history"]["seconds"]]
        s_mean, s_std = mean_std(secs)
        t_mean, t_std = mean_std([r["test_acc"] for r in ok])
        vl = curves["valid_loss"]
        i_min = min(range(len(vl)), key=vl.__getitem__) if vl else None
        out[label] = {
            "dropout": group[0]["config"]["dropout"], "n_runs": len(group), "n_ok": len(ok),
            "test_acc_mean": t_mean, "test_acc_std": t_std, "curves": curves,
            "loss_gap": [v - t for v, t in zip(curves["valid_loss"], curves["train_loss"])],
            "acc_gap": [t - v for t, v in zip(curves["train_acc"], curves["valid_acc"])],
            "seconds_per_epoch_mean": s_mean, "seconds_per_epoch_std": s_std,
            "min_valid_loss": vl[i_min] if vl else None, "min_valid_loss_epoch": (i_min + 1) if vl else None,
            "final_valid_loss": vl[-1] if vl else None,
            "valid_loss_rise": (vl[-1] - vl[i_min]) if vl else None,
            "final_train_loss": curves["train_loss"][-1] if curves["train_loss"] else None,
            "final_loss_gap": (vl[-1] - curves["train_loss"][-1]) if vl else None,
            "final_acc_gap": (curves["train_acc"][-1] - curves["valid_acc"][-1]) if curves["valid_acc"] else None,
            "reach": {f"{t:.2f}": reach_summary(ok, t) for t in THRESHOLDS},
        }
    return out


def dropout_post(exp, runs, **kw) -> dict:
    return {"analysis": dropout_analysis(runs)}


# ---------------------------------------------------------------- optimizers study (2.7)
def sweep_grid(quick: bool) -> dict:
    if not quick:
        return dict(OPTIMIZER_GRIDS)
    return {opt: tuple(grid[i] for i in QUICK_SWEEP_POINTS) for opt, grid in OPTIMIZER_GRIDS.items()}


def choose_learning_rates(sweep_runs: list[dict]) -> dict:
    """Per optimizer, the sweep's rate with the best valid accuracy (diverged/failed rates are out).

    Ties go to the smaller rate. ``at_edge`` flags a choice at either end of the grid.
    """
    out = {}
    for opt in dict.fromkeys(r["config"]["optimizer"] for r in sweep_runs):
        mine = [r for r in sweep_runs if r["config"]["optimizer"] == opt]
        grid = sorted({r["config"]["lr"] for r in mine})
        scored = [(best_valid(r), r["config"]["lr"]) for r in mine if r["status"] == "ok" and best_valid(r) is not None]
        if not scored:
            out[opt] = {"lr": None, "valid_acc": None, "at_edge": False, "grid": grid}
            continue
        acc, lr = max(scored, key=lambda t: (t[0], -t[1]))
        out[opt] = {"lr": lr, "valid_acc": acc, "at_edge": lr in (grid[0], grid[-1]) and len(grid) > 1, "grid": grid}
    return out


def optimizers_run(exp, *, seeds=None, overrides=None, quick=False, log=print, **kw) -> list[dict]:
    """Report settings x seeds and the lr sweep (valid only), then each optimizer's tuned rate x seeds."""
    seeds = _seeds(exp, seeds, quick)
    if overrides and "lr" in overrides:
        log(f"[{exp.name}] --lr ignored: the learning rate is what this study varies")
    opts = dict(_opts(kw), quick=quick, log=log)
    jobs = []
    for label, variant in exp.variants:
        cfg = study_config(exp, variant, quick=quick, overrides=overrides, drop=("lr",))
        for s in seeds:
            jobs.append(Job(f"{label}-seed{s}", label, dataclasses.replace(cfg, seed=s), "report",
                            extra={"optimizer": cfg.optimizer, "lr": cfg.lr}))
    for opt, grid in sweep_grid(quick).items():
        for lr in grid:
            cfg = study_config(exp, {"optimizer": opt, "lr": lr}, quick=quick, overrides=overrides, drop=("lr",),
                               cap_epochs=SWEEP_EPOCHS)
            label = f"sweep_{opt}_{lr:g}"
            jobs.append(Job(f"{label}-seed{seeds[0]}", label, dataclasses.replace(cfg, seed=seeds[0]), "sweep",
                            score_eval=False, extra={"optimizer": opt, "lr": lr}))
    runs = run_jobs(exp.name, jobs, **opts)
    choice = choose_learning_rates([r for r in runs if r["stage"] == "sweep"])
    done = {(r["seed"], _key(r["config"])): r for r in runs if r["stage"] == "report"}
    tuned_jobs, tuned = [], []
    for opt, c in choice.items():
        if c["lr"] is None:
            log(f"[{exp.name}] {opt}: every rate of the sweep diverged or failed; no tuned run")
            continue
        cfg = study_config(exp, {"optimizer": opt, "lr": c["lr"]}, quick=quick, overrides=overrides, drop=("lr",))
        for s in seeds:
            c_s = dataclasses.replace(cfg, seed=s)
            same = done.get((s, _key(c_s.to_dict())))
            if same is not None:  # the tuned rate is one of the report's settings: reuse those runs
                tuned.append(dict(same, variant=f"tuned_{opt}", name=f"tuned_{opt}-seed{s}", stage="tuned",
                                  reused_from=same["name"]))
            else:
                tuned_jobs.append(Job(f"tuned_{opt}-seed{s}", f"tuned_{opt}", c_s, "tuned",
                                      extra={"optimizer": opt, "lr": c["lr"]}))
    tuned += run_jobs(exp.name, tuned_jobs, **opts) if tuned_jobs else []
    order = {f"tuned_{o}": i for i, o in enumerate(choice)}
    tuned.sort(key=lambda r: (order[r["variant"]], r["seed"]))
    return runs + tuned


def _key(config: dict) -> tuple:
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in config.items() if k != "seed"))


def _run_summary(group: list[dict]) -> dict:
    ok = [r for r in group if r["status"] == "ok"]
    t_mean, t_std = mean_std([r["test_acc"] for r in ok])
    v_mean, v_std = mean_std([r["best_valid_acc"] for r in ok])
    cfg = group[0]["config"]
    return {
        "optimizer": cfg["optimizer"], "lr": cfg["lr"], "epochs": cfg["epochs"], "n_runs": len(group),
        "n_ok": len(ok), "statuses": sorted({r["status"] for r in group}),
        "test_acc_mean": t_mean, "test_acc_std": t_std, "valid_acc_mean": v_mean, "valid_acc_std": v_std,
        "train_loss_epoch1_mean": _mean([r["history"]["train_loss"][0] for r in ok if r["history"]["train_loss"]]),
        "final_train_loss_mean": _mean([r["history"]["train_loss"][-1] for r in ok if r["history"]["train_loss"]]),
        "valid_acc_epoch1_mean": _mean([r["history"]["valid_acc"][0] for r in ok if r["history"]["valid_acc"]]),
        "initial_loss_mean": _mean([r["iterations"]["train_loss"][0] for r in group
                                    if r.get("iterations", {}).get("train_loss")]),
        "roughness_mean": _mean([roughness(r) for r in ok]),
        "reach": {f"{t:.2f}": reach_summary(ok, t) for t in THRESHOLDS},
        "seconds_per_epoch_mean": _mean([s for r in ok for s in r["history"]["seconds"]]),
        "diverged": [{"run": r["name"], "step": r["diverged_step"], "last_finite_loss": r["last_finite_loss"]}
                     for r in group if r["status"] == "diverged"],
        "reused_from": sorted({r["reused_from"] for r in group if r.get("reused_from")}),
    }


def optimizers_analysis(runs: list[dict]) -> dict:
    report = {v: _run_summary([r for r in runs if r["variant"] == v])
              for v in variants_in([r for r in runs if r.get("stage") == "report"])}
    sweep_runs = [r for r in runs if r.get("stage") == "sweep"]
    choice = choose_learning_rates(sweep_runs)
    sweep = {}
    for opt in choice:
        sweep[opt] = [{"lr": r["config"]["lr"], "status": r["status"], "valid_acc": best_valid(r),
                       "diverged_step": r["diverged_step"]}
                      for r in sorted(sweep_runs, key=lambda r: r["config"]["lr"]) if r["config"]["optimizer"] == opt]
    tuned = {v[len("tuned_"):]: _run_summary([r for r in runs if r["variant"] == v])
             for v in variants_in([r for r in runs if r.get("stage") == "tuned"])}
    scored = {o: t["test_acc_mean"] for o, t in tuned.items() if t["test_acc_mean"] is not None}
    best = max(scored, key=scored.get) if scored else None
    for o, t in tuned.items():
        t["gap_to_best"] = (scored[best] - t["test_acc_mean"]) if best and t["test_acc_mean"] is not None else None
    sweep_epochs = sweep_runs[0]["config"]["epochs"] if sweep_runs else None
    return {"report": report, "sweep": sweep, "choice": choice, "sweep_epochs": sweep_epochs, "tuned": tuned,
            "best_tuned": best}


def optimizers_post(exp, runs, **kw) -> dict:
    return {"analysis": optimizers_analysis(runs)}


# ---------------------------------------------------------------- hparams study (2.2)
def hparams_grid(quick: bool) -> dict:
    if quick:
        return dict(QUICK_HPARAMS)
    return {"lrs": HPARAMS_LRS, "lr_hidden": HPARAMS_LR_HIDDEN, "hidden": HPARAMS_HIDDEN}


def grid_points(grid_runs: list[dict]) -> list[dict]:
    """Every (lr, hidden, epoch) point of the grid with its valid accuracy (ok runs only)."""
    pts = []
    for r in grid_runs:
        if r["status"] != "ok":
            continue
        for e, acc in zip(r["history"]["epoch"], r["history"]["valid_acc"]):
            pts.append({"lr": r["config"]["lr"], "hidden": r["config"]["hidden"][0], "epochs": e, "valid_acc": acc,
                        "run": r["name"]})
    return pts


def choose_hparams(grid_runs: list[dict]) -> dict | None:
    """The (lr, hidden, epochs) with the best valid accuracy; ties go to fewer units, fewer epochs, smaller lr.

    Reads only the grid runs' valid curves.
    """
    pts = grid_points(grid_runs)
    if not pts:
        return None
    best = max(pts, key=lambda p: (p["valid_acc"], -p["hidden"], -p["epochs"], -p["lr"]))
    return dict(best, n_points=len(pts), n_runs=len({p["run"] for p in pts}))


def best_lr_of(grid_runs: list[dict]):
    by_lr = {}
    for p in grid_points(grid_runs):
        by_lr[p["lr"]] = max(by_lr.get(p["lr"], 0.0), p["valid_acc"])
    return max(by_lr, key=lambda lr: (by_lr[lr], -lr)) if by_lr else None


def _grid_label(lr, hidden) -> str:
    return f"grid_lr{lr:g}_h{hidden}"


def hparams_run(exp, *, seeds=None, overrides=None, quick=False, log=print, **kw) -> list[dict]:
    """lr grid, then the hidden sweep at the best lr (one seed, valid only); choose; then chosen x seeds on eval."""
    seeds = _seeds(exp, seeds, quick)
    if overrides and "lr" in overrides:
        log(f"[{exp.name}] --lr ignored: the learning rate is one of the tuned hyperparameters")
    opts = dict(_opts(kw), quick=quick, log=log)
    grid = hparams_grid(quick)

    def job(lr, h):
        cfg = study_config(exp, {"lr": lr, "hidden": (h, h)}, quick=quick, overrides=overrides, drop=("lr",))
        label = _grid_label(lr, h)
        return Job(f"{label}-seed{seeds[0]}", label, dataclasses.replace(cfg, seed=seeds[0]), "grid-lr",
                   score_eval=False, extra={"lr": lr, "hidden_units": h})

    runs = run_jobs(exp.name, [job(lr, h) for h in grid["lr_hidden"] for lr in grid["lrs"]], subdir="grid", **opts)
    lr_star = best_lr_of(runs)
    if lr_star is None:
        log(f"[{exp.name}] every run of the lr grid diverged or failed; nothing to choose")
        return runs
    todo = [job(lr_star, h) for h in grid["hidden"] if h not in grid["lr_hidden"]]
    for j in todo:
        j.stage = "grid-hidden"
    runs += run_jobs(exp.name, todo, subdir="grid", **opts)
    choice = choose_hparams(runs)  # fixed here, before anything reads eval
    log(f"[{exp.name}] chosen on valid: lr={choice['lr']:g} hidden={choice['hidden']} epochs={choice['epochs']} "
        f"(valid {100 * choice['valid_acc']:.2f}%)")
    h = choice["hidden"]
    cfg = study_config(exp, {"lr": choice["lr"], "hidden": (h, h)}, quick=quick, overrides=overrides,
                       drop=("lr", "epochs"))
    cfg = dataclasses.replace(cfg, epochs=choice["epochs"])
    final = [Job(f"chosen-seed{s}", "chosen", dataclasses.replace(cfg, seed=s), "final",
                 extra={"lr": choice["lr"], "hidden_units": h}) for s in seeds]
    return runs + run_jobs(exp.name, final, subdir="final", **opts)


def hparams_analysis(runs: list[dict]) -> dict:
    grid_runs = [r for r in runs if r.get("stage", "").startswith("grid")]
    choice = choose_hparams(grid_runs)
    table = [{"lr": r["config"]["lr"], "hidden": r["config"]["hidden"][0], "stage": r["stage"], "status": r["status"],
              "valid_acc": best_valid(r) if r["status"] == "ok" else None,
              "best_epoch": r.get("best_epoch"), "curve": r["history"].get("valid_acc", []),
              "seconds": r["seconds"], "eval_scored": r.get("eval_scored", False)} for r in grid_runs]
    final = [r for r in runs if r.get("stage") == "final"]
    return {"choice": choice, "best_lr_stage1": best_lr_of([r for r in grid_runs if r["stage"] == "grid-lr"]),
            "grid": table, "final": _run_summary(final) if final else None,
            "grid_runs_scored_on_eval": sum(1 for r in grid_runs if r.get("eval_scored"))}


def hparams_post(exp, runs, **kw) -> dict:
    return {"analysis": hparams_analysis(runs)}


# ---------------------------------------------------------------- claims ledger
VERDICTS = ("reproduced", "not reproduced", "depends", "no data")


def _p(x, digits=2):
    return "n/a" if x is None else f"{100 * x:.{digits}f}%"


def _pts(x):
    return "n/a" if x is None else f"{100 * x:+.2f} points"


def _reach_text(a: dict, thr="0.97"):
    r = a["reach"][thr]
    if not r["n_reached"]:
        return "never"
    return (f"epoch {r['epoch_mean']:.1f} ({r['steps_mean']:.0f} it, {r['seconds_mean']:.1f} s; "
            f"{r['n_reached']}/{r['n']} runs)")


def _steps(a: dict, thr: str):
    r = a["reach"][thr]
    return r["steps_mean"] if r["n_reached"] == r["n"] and r["n"] else math.inf


def _claim(cid, source, claim, evidence, verdict):
    assert verdict in VERDICTS, verdict
    return {"id": cid, "source": source, "claim": claim, "evidence": evidence, "verdict": verdict}


def _loss_claims(rec):
    src = "000 §2.6.2"
    c1 = "Cross entropy converges faster than squared error."
    c2 = "Cross entropy gives a higher accuracy than squared error."
    c3 = "The double-softmax loss cannot fall below ln(1 + 9/e) ≈ 1.46."
    c4 = "The single-output squared-error regressor mostly learns the mean label."
    a = rec["analysis"] if rec else {}
    ce, oh, rg, ds = (a.get(k) for k in ("cross_entropy", "square_error_onehot", "square_error_regression",
                                         "double_softmax"))
    if not (ce and oh and rg):
        return [_claim(i, s, c, "no results of `loss`", "no data") for i, s, c in
                (("loss-speed", src, c1), ("loss-acc", src, c2), ("loss-floor", "README", c3),
                 ("loss-mean", "README", c4))]
    out = []
    def faster(o):  # at epoch resolution: never later, and earlier for at least one threshold
        pairs = [(_steps(ce, t), _steps(o, t)) for t in ("0.95", "0.97")]
        return all(a <= b for a, b in pairs) and any(a < b for a, b in pairs)

    e1 = (f"97% valid reached at: cross entropy {_reach_text(ce)}, squared error one-hot {_reach_text(oh)}, "
          f"single-output regression {_reach_text(rg)}; valid acc after epoch 1: {_p(ce['valid_acc_epoch1_mean'])} vs "
          f"{_p(oh['valid_acc_epoch1_mean'])} vs {_p(rg['valid_acc_epoch1_mean'])}")
    wins = [faster(oh), faster(rg)]
    v1 = "reproduced" if all(wins) else ("depends" if any(wins) else "not reproduced")
    out.append(_claim("loss-speed", src, c1, e1, v1))
    d_oh = (ce["test_acc_mean"] or 0) - (oh["test_acc_mean"] or 0)
    d_rg = (ce["test_acc_mean"] or 0) - (rg["test_acc_mean"] or 0)
    noise = max(ce["test_acc_std"] or 0, oh["test_acc_std"] or 0, 0.0005)
    e2 = (f"test acc: cross entropy {_p(ce['test_acc_mean'])} ± {_p(ce['test_acc_std'])}, one-hot squared error "
          f"{_p(oh['test_acc_mean'])} ({_pts(-d_oh)}), single-output regression {_p(rg['test_acc_mean'])} "
          f"({_pts(-d_rg)})")
    if d_rg > 0 and d_oh > 2 * noise:
        v2 = "reproduced"
    elif d_rg > 0:
        v2 = "depends"  # higher than the regressor, not clearly higher than the fair one-hot comparison
    else:
        v2 = "not reproduced"
    out.append(_claim("loss-acc", src, c2, e2, v2))
    if ds:
        lowest = ds["lowest_logged_loss_min"]
        window = rec["runs"][0]["config"]["log_every"]
        e3 = (f"lowest logged double-softmax train loss {lowest:.4f} (mean of {window}-step windows), final epoch "
              f"{ds['final_train_loss_mean']:.4f}; floor {DOUBLE_SOFTMAX_FLOOR:.4f}; test acc "
              f"{_p(ds['test_acc_mean'])} vs {_p(ce['test_acc_mean'])} with cross entropy on logits")
        out.append(_claim("loss-floor", "README / issue 4", c3, e3,
                          "reproduced" if lowest is not None and lowest >= DOUBLE_SOFTMAX_FLOOR - 1e-3
                          else "not reproduced"))
    lab = rec.get("reference", {}).get("labels", {})
    var = lab.get("variance")
    fin = rg["final_train_loss_mean"]
    if var and fin is not None:
        e4 = (f"first logged loss {rg['initial_loss_mean']:.2f} (≈ E[y²] = {lab['second_moment']:.2f}); "
              f"predicting the mean label would give the label variance {var:.2f} and "
              f"{_p(lab['constant_accuracy'])} accuracy; the regressor ends at train loss {fin:.3f} and "
              f"{_p(rg['test_acc_mean'])} test accuracy")
        v4 = "reproduced" if fin > 0.5 * var else ("depends" if (rg["test_acc_mean"] or 0) < 0.9 else "not reproduced")
        out.append(_claim("loss-mean", "README", c4, e4, v4))
    return out


def _dropout_claims(rec):
    src = "000 §2.6.4"
    c1 = "Dropout speeds up training."
    c2 = "Dropout lowers the loss."
    c3 = "Dropout reduces overfitting."
    c4 = "The overfitting reduction is not visible in this experiment."
    a = rec["analysis"] if rec else {}
    base = next((v for v in a.values() if v["dropout"] == 0.0), None)
    drops = [v for v in a.values() if v["dropout"] > 0]
    if not base or not drops:
        return [_claim(f"dropout-{i}", src, c, "no results of `dropout`", "no data")
                for i, c in enumerate((c1, c2, c3, c4), 1)]
    out = []
    name = {id(v): f"p={v['dropout']:g}" for v in a.values()}
    spe = ", ".join(f"{name[id(v)]} {v['seconds_per_epoch_mean']:.2f} s" for v in a.values())
    reach = ", ".join(f"{name[id(v)]} {_reach_text(v)}" for v in a.values())
    faster_epoch = [d["seconds_per_epoch_mean"] < base["seconds_per_epoch_mean"] * 0.97 for d in drops]
    faster_reach = [_steps(d, "0.97") < _steps(base, "0.97") for d in drops]
    slower_reach = [_steps(d, "0.97") > _steps(base, "0.97") for d in drops]
    v1 = ("reproduced" if all(faster_epoch) and not any(slower_reach) else
          "not reproduced" if not any(faster_epoch) and not any(faster_reach) else "depends")
    out.append(_claim("dropout-speed", src, c1, f"seconds per epoch: {spe}; 97% valid reached at: {reach}", v1))
    tr = ", ".join(f"{name[id(v)]} {v['final_train_loss']:.4f}" for v in a.values())
    va = ", ".join(f"{name[id(v)]} {v['final_valid_loss']:.4f} (min {v['min_valid_loss']:.4f} at epoch "
                   f"{v['min_valid_loss_epoch']})" for v in a.values())
    lower_train = all(d["final_train_loss"] < base["final_train_loss"] for d in drops)
    lower_valid = all(d["final_valid_loss"] < base["final_valid_loss"] for d in drops)
    v2 = ("reproduced" if lower_train and lower_valid else
          "depends" if lower_train or lower_valid else "not reproduced")
    out.append(_claim("dropout-loss", src, c2,
                      f"final-epoch train loss (measured with dropout active): {tr}; valid loss: {va}", v2))
    gaps = ", ".join(f"{name[id(v)]} {v['final_loss_gap']:+.4f} / {_pts(v['final_acc_gap'])}" for v in a.values())
    rises = ", ".join(f"{name[id(v)]} {v['valid_loss_rise']:+.4f}" for v in a.values())
    smaller = [d["final_loss_gap"] < base["final_loss_gap"] and d["valid_loss_rise"] <= base["valid_loss_rise"]
               for d in drops]
    v3 = "reproduced" if all(smaller) else ("depends" if any(smaller) else "not reproduced")
    out.append(_claim("dropout-overfit", src, c3,
                      f"final gap valid − train loss / train − valid acc: {gaps}; valid-loss rise from its minimum "
                      f"to the last epoch: {rises}", v3))
    visible = base["valid_loss_rise"] > 0.01 and any(smaller)
    e4 = (f"without dropout the valid loss rises {base['valid_loss_rise']:+.4f} from its minimum at epoch "
          f"{base['min_valid_loss_epoch']} while the train loss keeps falling; with dropout: {rises}")
    out.append(_claim("dropout-visible", src, c4, e4, "not reproduced" if visible else "reproduced"))
    return out


def _optimizer_claims(rec):
    src = "000 §2.7"
    claims = {
        "sgd-small": "SGD with too small a learning rate (0.0001) converges slowly.",
        "sgd-large": "SGD with too large a learning rate (0.9) oscillates.",
        "adagrad": "Adagrad at 0.01 does not lower the loss, while 0.001 works well.",
        "adam": "Adam at 0.001 works better than at 0.01 (the same problem as Adagrad).",
        "momentum": "Momentum accelerates SGD (same learning rate 0.01).",
        "adam-fastest": "Adam usually converges fastest.",
        "advanced": "A more advanced optimizer is not always better.",
    }
    sources = {"momentum": "002, 000 §2.7", "adam-fastest": "001", "advanced": "001"}
    a = rec["analysis"] if rec else {}
    rep, tuned = a.get("report", {}), a.get("tuned", {})
    need = ("sgd_0.01", "sgd_0.0001", "sgd_0.9", "momentum_0.01", "adagrad_0.01", "adagrad_0.001", "adam_0.001",
            "adam_0.01")
    if not rec or any(k not in rep for k in need):
        return [_claim(f"opt-{k}", sources.get(k, src), c, "no results of `optimizers`", "no data")
                for k, c in claims.items()]

    def desc(label):
        s = rep[label]
        if s["n_ok"] == 0:
            d = s["diverged"][0] if s["diverged"] else {}
            return f"{label}: diverged at step {d.get('step')} (last finite loss {d.get('last_finite_loss')})"
        div = f", {len(s['diverged'])} of {s['n_runs']} diverged" if s["diverged"] else ""
        return (f"{label}: loss {s['train_loss_epoch1_mean']:.3f} after epoch 1, {s['final_train_loss_mean']:.3f} "
                f"after {s['epochs']}, valid {_p(s['valid_acc_mean'])}, roughness {_fmt(s['roughness_mean'])}{div}")

    out = []
    s_ok, s_small, s_big = rep["sgd_0.01"], rep["sgd_0.0001"], rep["sgd_0.9"]
    slow = (s_small["final_train_loss_mean"] or math.inf) > (s_ok["train_loss_epoch1_mean"] or 0) and \
        (s_small["valid_acc_mean"] or 0) < (s_ok["valid_acc_mean"] or 0)
    out.append(_claim("opt-sgd-small", src, claims["sgd-small"],
                      f"{desc('sgd_0.0001')}; {desc('sgd_0.01')}", "reproduced" if slow else "not reproduced"))
    if s_big["diverged"]:
        v = "reproduced"
    elif (s_big["valid_acc_mean"] or 0) >= (s_ok["valid_acc_mean"] or 0) and \
            (s_big["final_train_loss_mean"] or math.inf) <= (s_ok["final_train_loss_mean"] or math.inf):
        rougher = (s_big["roughness_mean"] or 0) > 2 * (s_ok["roughness_mean"] or math.inf)
        v = "depends" if rougher else "not reproduced"
    else:
        v = "depends"
    out.append(_claim("opt-sgd-large", src, claims["sgd-large"], f"{desc('sgd_0.9')}; {desc('sgd_0.01')}", v))
    g1, g3 = rep["adagrad_0.01"], rep["adagrad_0.001"]
    stuck = g1["n_ok"] == 0 or (g1["final_train_loss_mean"] or math.inf) > 0.9 * (g1["initial_loss_mean"] or 0)
    good = (g3["valid_acc_mean"] or 0) > 0.95
    v = "reproduced" if stuck and good else ("depends" if stuck or not good else "not reproduced")
    if not stuck and (g1["valid_acc_mean"] or 0) >= (g3["valid_acc_mean"] or 0):
        v = "not reproduced"
    out.append(_claim("opt-adagrad", src, claims["adagrad"], f"{desc('adagrad_0.01')}; {desc('adagrad_0.001')}", v))
    m3, m2 = rep["adam_0.001"], rep["adam_0.01"]
    d = (m3["test_acc_mean"] or 0) - (m2["test_acc_mean"] or 0)
    noise = max(m3["test_acc_std"] or 0, m2["test_acc_std"] or 0, 0.0005)
    v = "reproduced" if d > 2 * noise else ("not reproduced" if d < -2 * noise else "depends")
    out.append(_claim("opt-adam", src, claims["adam"],
                      f"test acc adam_0.001 {_p(m3['test_acc_mean'])} vs adam_0.01 {_p(m2['test_acc_mean'])} "
                      f"({_pts(d)}); {desc('adam_0.001')}; {desc('adam_0.01')}", v))
    mo = rep["momentum_0.01"]
    faster = (mo["train_loss_epoch1_mean"] or math.inf) < (s_ok["train_loss_epoch1_mean"] or 0) and \
        (mo["valid_acc_mean"] or 0) > (s_ok["valid_acc_mean"] or 0)
    out.append(_claim("opt-momentum", sources["momentum"], claims["momentum"],
                      f"{desc('momentum_0.01')}; {desc('sgd_0.01')}", "reproduced" if faster else "not reproduced"))
    if tuned:
        e1 = {o: t["train_loss_epoch1_mean"] for o, t in tuned.items() if t["train_loss_epoch1_mean"] is not None}
        first = min(e1, key=e1.get) if e1 else None
        reach = {o: _steps(t, "0.97") for o, t in tuned.items()}
        fastest = min(reach.values()) if reach else math.inf
        tied = [o for o, s in reach.items() if s == fastest]
        ev = "tuned runs, train loss after epoch 1: " + ", ".join(
            f"{o} {e1[o]:.4f}" for o in sorted(e1, key=e1.get)) + "; 97% valid reached at: " + ", ".join(
            f"{o} {_reach_text(t)}" for o, t in tuned.items())
        v = ("reproduced" if first == "adam" and tied == ["adam"] else
             "depends" if first == "adam" or "adam" in tied else "not reproduced")
        out.append(_claim("opt-adam-fastest", sources["adam-fastest"], claims["adam-fastest"], ev, v))
        scored = {o: t["test_acc_mean"] for o, t in tuned.items() if t["test_acc_mean"] is not None}
        if "adam" in scored:
            beat = [o for o in scored if o != "adam" and scored[o] >= scored["adam"]]
            runner_up = max((o for o in scored if o != "adam"), key=scored.get, default=None)
            noise = max([tuned[o]["test_acc_std"] or 0 for o in ("adam", runner_up) if o] + [0.0005])
            ev = "tuned test acc (mean ± std): " + ", ".join(
                f"{o} {_p(s)} ± {_p(tuned[o]['test_acc_std'])}"
                for o, s in sorted(scored.items(), key=lambda t: -t[1]))
            if beat:
                v, ev = "reproduced", ev + f"; {', '.join(beat)} match(es) or beat(s) Adam"
            elif runner_up and scored["adam"] - scored[runner_up] <= noise:
                v, ev = "depends", ev + f"; Adam leads {runner_up} by less than one seed std"
            else:
                v = "not reproduced"
            out.append(_claim("opt-advanced", sources["advanced"], claims["advanced"], ev, v))
    return out


def _fmt(x, digits=3):
    return "n/a" if x is None else f"{x:.{digits}f}"


def _hparams_claims(rec):
    src = "000 §2.2"
    c1 = "A learning rate of 0.1 suits this task."
    c2 = "150-200 hidden units suit this task."
    a = rec["analysis"] if rec else {}
    table = [t for t in a.get("grid", []) if t["valid_acc"] is not None]
    choice = a.get("choice")
    if not table or not choice:
        return [_claim("hp-lr", src, c1, "no results of `hparams`", "no data"),
                _claim("hp-hidden", src, c2, "no results of `hparams`", "no data")]
    best = choice["valid_acc"]

    def verdict(gap):
        return "reproduced" if gap <= 0.002 else ("depends" if gap <= 0.005 else "not reproduced")

    out = []
    at01 = [t["valid_acc"] for t in table if abs(t["lr"] - 0.1) < 1e-12]
    if at01:
        g = best - max(at01)
        out.append(_claim("hp-lr", src, c1, f"best valid at lr 0.1 {_p(max(at01))}; best of the grid {_p(best)} at "
                          f"lr {choice['lr']:g}, hidden {choice['hidden']}, {choice['epochs']} epoch(s) ({_pts(-g)})",
                          verdict(g)))
    else:
        out.append(_claim("hp-lr", src, c1, "lr 0.1 not in the grid", "no data"))
    mid = [t["valid_acc"] for t in table if 150 <= t["hidden"] <= 200 and abs(t["lr"] - choice["lr"]) < 1e-12]
    if mid:
        g = best - max(mid)
        out.append(_claim("hp-hidden", src, c2, f"best valid with 150-200 units at lr {choice['lr']:g}: "
                          f"{_p(max(mid))}; "
                          f"best of the grid {_p(best)} with {choice['hidden']} units ({_pts(-g)})", verdict(g)))
    else:
        out.append(_claim("hp-hidden", src, c2, "150-200 units not in the grid at the chosen lr", "no data"))
    return out


def claims_ledger(records: dict) -> list[dict]:
    """Every claim with its measured evidence and a verdict computed from the numbers.

    ``records``: results records by experiment name (``loss``, ``dropout``, ``optimizers``, ``hparams``;
    a missing one gives ``no data`` verdicts).
    """
    return (_loss_claims(records.get("loss")) + _dropout_claims(records.get("dropout"))
            + _optimizer_claims(records.get("optimizers")) + _hparams_claims(records.get("hparams")))


def targets(records: dict) -> list[dict]:
    """The issue's targets on the eval split, each with the measured value and whether it is met."""
    out = []
    loss = (records.get("loss") or {}).get("analysis", {})
    ce = loss.get("cross_entropy")
    if ce:
        m = ce["test_acc_mean"]
        out.append({"target": "cross entropy MLP ≥ 98.0%", "measured": f"{_p(m)} ± {_p(ce['test_acc_std'])}",
                    "met": m is not None and m >= 0.98})
        for key, text, ok in (
                ("square_error_onehot", "squared error (one-hot) within 1 point of cross entropy",
                 lambda d: d <= 0.01),
                ("square_error_regression", "single-output regressor visibly worse (≥ 1 point)", lambda d: d >= 0.01),
                ("double_softmax", "double softmax visibly worse (≥ 1 point)", lambda d: d >= 0.01)):
            v = loss.get(key)
            if v and v["test_acc_mean"] is not None and m is not None:
                d = m - v["test_acc_mean"]
                out.append({"target": text, "measured": f"{_p(v['test_acc_mean'])} ({_pts(-d)})", "met": ok(d)})
    drop = (records.get("dropout") or {}).get("analysis", {})
    d0 = next((v for v in drop.values() if v["dropout"] == 0.0), None)
    d2 = next((v for v in drop.values() if abs(v["dropout"] - 0.2) < 1e-9), None)
    if d0 and d2 and d0["test_acc_mean"] is not None and d2["test_acc_mean"] is not None:
        out.append({"target": "dropout 0.2 at least as good as none",
                    "measured": f"{_p(d2['test_acc_mean'])} ± {_p(d2['test_acc_std'])} vs "
                                f"{_p(d0['test_acc_mean'])} ± {_p(d0['test_acc_std'])}",
                    "met": d2["test_acc_mean"] >= d0["test_acc_mean"]})
    tuned = (records.get("optimizers") or {}).get("analysis", {}).get("tuned", {})
    for opt, t in tuned.items():
        if t.get("gap_to_best") is not None:
            out.append({"target": f"{opt} (tuned lr {t['lr']:g}) within 0.5 points of the best tuned optimizer",
                        "measured": f"{_p(t['test_acc_mean'])} ({_pts(-t['gap_to_best'])})",
                        "met": t["gap_to_best"] <= 0.005})
    return out
