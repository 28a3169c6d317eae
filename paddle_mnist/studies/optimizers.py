"""Study 2.7, optimizers: the report's settings x seeds, a learning-rate sweep per optimizer, the tuned rates x seeds.

Stages: (1) SGD 0.01/0.0001/0.9, Momentum 0.01, Adagrad 0.01/0.001, Adam 0.001/0.01
and RMSProp 0.001 over every seed, with a one-seed sweep of a log grid of rates per
optimizer (``valid`` only); (2) each optimizer at the rate its sweep chose on
``valid``, over every seed (runs of stage 1 with the same config are reused).

    python -m paddle_mnist train optimizers --quick --dry-run
"""
from __future__ import annotations

import dataclasses

from paddle_mnist.engine.config import TrainConfig
from paddle_mnist.engine.experiment import QUICK, Experiment, Job, Stage
from paddle_mnist.studies.registry import register
from paddle_mnist.studies.stats import best_valid, run_summary, variants_in

# Source 000 §2.7's settings (also run on its own double-softmax model by ``studies.course``).
SOURCE_000_SETTINGS = (
    ("sgd_0.01", {"optimizer": "sgd", "lr": 0.01}),
    ("sgd_0.0001", {"optimizer": "sgd", "lr": 0.0001}),
    ("sgd_0.9", {"optimizer": "sgd", "lr": 0.9}),
    ("momentum_0.01", {"optimizer": "momentum", "lr": 0.01}),
    ("adagrad_0.01", {"optimizer": "adagrad", "lr": 0.01}),
    ("adagrad_0.001", {"optimizer": "adagrad", "lr": 0.001}),
    ("adam_0.001", {"optimizer": "adam", "lr": 0.001}),
    ("adam_0.01", {"optimizer": "adam", "lr": 0.01}),
)
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



def optimizers_plan(exp, s):
    """Report settings x seeds and the lr sweep (valid only), then each optimizer's tuned rate x seeds."""
    jobs = []
    for label, variant in exp.variants:
        cfg = s.config(exp, variant)
        jobs += [Job(f"{label}-seed{seed}", label, dataclasses.replace(cfg, seed=seed),
                     {"stage": "report", "optimizer": cfg.optimizer, "lr": cfg.lr}) for seed in s.seeds]
    for opt, grid in sweep_grid(s.quick).items():
        for lr in grid:
            cfg = s.config(exp, {"optimizer": opt, "lr": lr}, cap_epochs=SWEEP_EPOCHS)
            label = f"sweep_{opt}_{lr:g}"
            jobs.append(Job(f"{label}-seed{s.seeds[0]}", label,
                            dataclasses.replace(cfg, seed=s.seeds[0], score_eval=False),
                            {"stage": "sweep", "optimizer": opt, "lr": lr}))
    runs = yield Stage("report settings and sweep", jobs)
    choice = choose_learning_rates([r for r in runs if r["stage"] == "sweep"])
    done = {(r["seed"], _key(r["config"])): r for r in runs if r["stage"] == "report"}
    tuned_jobs, tuned = [], []
    for opt, c in choice.items():
        if c["lr"] is None:
            continue  # every rate of the sweep diverged or failed: no tuned run
        cfg = s.config(exp, {"optimizer": opt, "lr": c["lr"]})
        for seed in s.seeds:
            c_s = dataclasses.replace(cfg, seed=seed)
            same = done.get((seed, _key(c_s.to_dict())))
            if same is not None and not s.dry_run:  # the tuned rate is a report setting: reuse those runs
                tuned.append(dict(same, variant=f"tuned_{opt}", name=f"tuned_{opt}-seed{seed}", stage="tuned",
                                  reused_from=same["name"]))
            else:
                tuned_jobs.append(Job(f"tuned_{opt}-seed{seed}", f"tuned_{opt}", c_s,
                                      {"stage": "tuned", "optimizer": opt, "lr": c["lr"]}))
    tuned += (yield Stage("tuned rates", tuned_jobs)) if tuned_jobs else []
    order = {f"tuned_{o}": i for i, o in enumerate(choice)}
    tuned.sort(key=lambda r: (order[r["variant"]], r["seed"]))
    return runs + tuned, {}


def _key(config: dict) -> tuple:
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in config.items() if k != "seed"))


def optimizers_analysis(runs: list[dict]) -> dict:
    report = {v: run_summary([r for r in runs if r["variant"] == v])
              for v in variants_in([r for r in runs if r.get("stage") == "report"])}
    sweep_runs = [r for r in runs if r.get("stage") == "sweep"]
    choice = choose_learning_rates(sweep_runs)
    sweep = {}
    for opt in choice:
        sweep[opt] = [{"lr": r["config"]["lr"], "status": r["status"], "valid_acc": best_valid(r),
                       "diverged_step": r["diverged_step"]}
                      for r in sorted(sweep_runs, key=lambda r: r["config"]["lr"]) if r["config"]["optimizer"] == opt]
    tuned = {v[len("tuned_"):]: run_summary([r for r in runs if r["variant"] == v])
             for v in variants_in([r for r in runs if r.get("stage") == "tuned"])}
    scored = {o: t["test_acc_mean"] for o, t in tuned.items() if t["test_acc_mean"] is not None}
    best = max(scored, key=scored.get) if scored else None
    for o, t in tuned.items():
        t["gap_to_best"] = (scored[best] - t["test_acc_mean"]) if best and t["test_acc_mean"] is not None else None
    sweep_epochs = sweep_runs[0]["config"]["epochs"] if sweep_runs else None
    return {"report": report, "sweep": sweep, "choice": choice, "sweep_epochs": sweep_epochs, "tuned": tuned,
            "best_tuned": best}



def optimizers_post(exp, runs, s) -> dict:
    return {"analysis": optimizers_analysis(runs)}


@register
def optimizers() -> Experiment:
    return Experiment(
        name="optimizers", title="Optimizers: SGD, Momentum, Adagrad, RMSProp, Adam", section="2.7",
        base=TrainConfig(model="mlp", hidden=(200, 200), optimizer="sgd", lr=0.01, momentum=0.9, epochs=5,
                         histograms=False),
        variants=(*SOURCE_000_SETTINGS, ("rmsprop_0.001", {"optimizer": "rmsprop", "lr": 0.001})),
        seeds=(0, 1, 2, 3, 4),
        quick=dict(QUICK, log_every=10),
        plan=optimizers_plan,
        analyse=optimizers_post,
        fixed={"optimizer": "sets the optimizer per run; use `train mlp --set optimizer=... --set lr=...`",
               "lr": "sets lr per optimizer; use `train mlp --set optimizer=... --set lr=...`",
               "score_eval": "scores eval on its report and tuned runs only, never on the sweep"},
        description="The done-right arm of source 000 §2.7 (its own, on the double-softmax model, is the `course` arm): "
                    "784-200-200-10 ReLU MLP on logits, cross entropy, batch 100, 5 epochs: the report's settings (SGD 0.01, "
                    "0.0001, 0.9; Momentum 0.01 with momentum 0.9; Adagrad 0.01, 0.001; Adam 0.001, 0.01) plus "
                    "RMSProp 0.001; then per optimizer a one-seed sweep over a log grid of learning rates (2 epochs, "
                    "valid only) and the rate with the best valid accuracy run over every seed.",
    )
