"""Study 2.2, hyperparameter tuning on ``valid``: an lr grid, a hidden-size sweep, the choice, then seeds on ``eval``.

(lr, hidden units, epochs) is chosen on valid accuracy alone (epochs = the best
epoch of the run's valid curve); only the chosen point is trained over every seed
and scored once on ``eval``.

    python -m paddle_mnist train hparams --quick --dry-run
"""
from __future__ import annotations

import dataclasses

from paddle_mnist.engine.config import TrainConfig
from paddle_mnist.engine.experiment import QUICK, Experiment, Job, Stage
from paddle_mnist.studies.registry import register
from paddle_mnist.studies.stats import best_valid, run_summary

# lr grid at a few hidden sizes, then hidden 50..700 by 50 (as in the report) at the best lr.
HPARAMS_LRS = (0.01, 0.03, 0.1, 0.3, 1.0)
HPARAMS_LR_HIDDEN = (100, 200, 400)
HPARAMS_HIDDEN = tuple(range(50, 701, 50))
QUICK_HPARAMS = {"lrs": (0.03, 0.1, 0.3), "lr_hidden": (50, 100), "hidden": (50, 100, 150)}


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


HPARAMS_WHY = ("chooses lr, hidden units and epochs on valid; to train one point use `train mlp --set lr=... "
               "--set hidden=... --epochs N`")


def _grid_label(lr, hidden) -> str:
    return f"grid_lr{lr:g}_h{hidden}"



def hparams_plan(exp, s):
    """lr grid, then the hidden sweep at the best lr (one seed, valid only); choose; then chosen x seeds on eval."""
    grid = hparams_grid(s.quick)

    def job(lr, h, stage):
        cfg = s.config(exp, {"lr": lr, "hidden": (h, h)})
        label = _grid_label(lr, h)
        return Job(f"{label}-seed{s.seeds[0]}", label, dataclasses.replace(cfg, seed=s.seeds[0], score_eval=False),
                   {"stage": stage, "lr": lr, "hidden_units": h})

    runs = yield Stage("lr grid", [job(lr, h, "grid-lr") for h in grid["lr_hidden"] for lr in grid["lrs"]],
                       subdir="grid")
    lr_star = best_lr_of(runs)
    if lr_star is None:  # every run of the lr grid diverged or failed: nothing to choose
        return runs, {}
    todo = [job(lr_star, h, "grid-hidden") for h in grid["hidden"] if h not in grid["lr_hidden"]]
    runs += yield Stage("hidden sweep", todo, subdir="grid")
    choice = choose_hparams(runs)  # fixed here, before anything reads eval
    h = choice["hidden"]
    cfg = s.config(exp, {"lr": choice["lr"], "hidden": (h, h)})
    cfg = dataclasses.replace(cfg, epochs=choice["epochs"])
    final = [Job(f"chosen-seed{seed}", "chosen", dataclasses.replace(cfg, seed=seed),
                 {"stage": "final", "lr": choice["lr"], "hidden_units": h}) for seed in s.seeds]
    runs += yield Stage("chosen point x seeds", final, subdir="final")
    return runs, {}


def hparams_analysis(runs: list[dict]) -> dict:
    grid_runs = [r for r in runs if r.get("stage", "").startswith("grid")]
    choice = choose_hparams(grid_runs)
    table = [{"lr": r["config"]["lr"], "hidden": r["config"]["hidden"][0], "stage": r["stage"], "status": r["status"],
              "valid_acc": best_valid(r) if r["status"] == "ok" else None,
              "best_epoch": r.get("best_epoch"), "curve": r["history"].get("valid_acc", []),
              "seconds": r["seconds"], "eval_scored": r.get("eval_scored", False)} for r in grid_runs]
    final = [r for r in runs if r.get("stage") == "final"]
    return {"choice": choice, "best_lr_stage1": best_lr_of([r for r in grid_runs if r["stage"] == "grid-lr"]),
            "grid": table, "final": run_summary(final) if final else None,
            "grid_runs_scored_on_eval": sum(1 for r in grid_runs if r.get("eval_scored"))}



def hparams_post(exp, runs, s) -> dict:
    return {"analysis": hparams_analysis(runs)}


@register
def hparams() -> Experiment:
    return Experiment(
        name="hparams", title="Hyperparameter tuning on the validation split", section="2.2",
        base=TrainConfig(model="mlp", hidden=(200, 200), optimizer="sgd", lr=0.1, epochs=3, histograms=False),
        variants=(("chosen", {}),),
        seeds=(0, 1, 2, 3, 4),
        quick=dict(QUICK, log_every=10),
        plan=hparams_plan,
        analyse=hparams_post,
        fixed={k: HPARAMS_WHY for k in ("lr", "hidden", "epochs")}
        | {"score_eval": "scores eval on its chosen point only, never on the grid"},
        description="ReLU MLP with two equal hidden layers, cross entropy, SGD, batch 100. One seed: learning rate "
                    "0.01-1 at 100, 200 and 400 hidden units, then hidden units 50-700 by 50 at the best rate, each "
                    "run up to 3 epochs; (learning rate, hidden units, epochs) is chosen by valid accuracy alone "
                    "(epochs = the best epoch of the run's valid curve), then trained over every seed and scored "
                    "once on eval.",
    )
