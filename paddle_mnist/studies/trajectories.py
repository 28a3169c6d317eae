"""The ``trajectories`` study (source 003): six optimizers on z = x^2/10 + y^2, in numpy and in ``paddle.optimizer``;
and (source 000 §2.7) SGD vs Momentum from seeded starts near the saddle of z = x^2 + y^4/4 - y^2/2.

    python -m paddle_mnist train trajectories
"""
from __future__ import annotations

import numpy as np

from paddle_mnist.engine.config import TrainConfig
from paddle_mnist.engine.experiment import Experiment, Job, Stage
from paddle_mnist.scratch.trajectories import (SADDLE, START, STEPS, TRAJECTORY_SETTINGS, run_trajectories,
                                              saddle_escape, saddle_start, toy_loss)
from paddle_mnist.studies.registry import register

SGD_EXPECTED = (-0.1035, 0.2432)


def trajectory_run(job: dict) -> dict:
    """One optimizer's numpy and Paddle paths from ``START``, ``STEPS`` steps."""
    name = job["optimizer"]
    entry = run_trajectories({name: job["lr"]})[name]
    ours, theirs = np.array(entry["numpy"]), np.array(entry["paddle"])
    return {"name": name, "status": "ok", "optimizer": name, "lr": entry["lr"], "steps": STEPS,
            "start": list(START),
            "numpy": entry["numpy"], "paddle": entry["paddle"], "final": entry["final"],
            "paddle_final": theirs[-1].tolist(), "final_loss": float(toy_loss(*ours[-1])),
            "max_abs_diff": float(np.abs(ours - theirs).max()),
            "loss_path": [float(toy_loss(px, py)) for px, py in ours]}


def trajectories_plan(exp, s):
    jobs = [Job(name, name, {"optimizer": name, "lr": lr}) for name, lr in TRAJECTORY_SETTINGS.items()]
    runs = yield Stage("toy-loss paths", jobs, fn=trajectory_run)
    return runs, {}


def saddle_study(seeds) -> dict:
    """SGD and Momentum (same rate) from each seed's start near the saddle, and from a start on its x axis."""
    runs = [{**saddle_escape(name, start), "seed": seed} for seed in seeds
            for start in [saddle_start(seed)] for name in ("sgd", "momentum")]
    on_axis = [saddle_escape(name, (SADDLE["x_range"], 0.0)) for name in ("sgd", "momentum")]
    for r in on_axis:
        r.pop("path")
    return {"settings": {k: (list(v) if isinstance(v, tuple) else v) for k, v in SADDLE.items()}, "runs": runs,
            "on_axis": on_axis}


def trajectories_post(exp, runs, s) -> dict:
    """The exact check: plain SGD (lr 0.95) ends at (-0.1035, 0.2432), in numpy and in Paddle; the saddle runs."""
    sgd = next(r for r in runs if r["optimizer"] == "sgd")
    got = [round(v, 4) for v in sgd["final"]]
    got_paddle = [round(v, 4) for v in sgd["paddle_final"]]
    return {"check": {"sgd_final": got, "sgd_paddle_final": got_paddle, "expected": list(SGD_EXPECTED),
                      "passed": got == list(SGD_EXPECTED) and got_paddle == list(SGD_EXPECTED),
                      "max_numpy_paddle_diff": max(r["max_abs_diff"] for r in runs)},
            "saddle": saddle_study(s.seeds)}



@register
def trajectories() -> Experiment:
    return Experiment(
        name="trajectories", title="Optimizer trajectories on z = x^2/10 + y^2", section="source 003",
        base=TrainConfig(), seeds=(0, 1, 2, 3, 4),
        plan=trajectories_plan,
        settable=("device",),
        analyse=trajectories_post,
        description="20 steps from (-7, 2) on the toy loss z = x^2/10 + y^2 with SGD 0.95, Momentum 0.1, "
                    "Nesterov 0.1, AdaGrad 1.5, RMSProp 0.5 and Adam 0.5 (Paddle's other defaults), once with the "
                    "numpy optimizers and once with paddle.optimizer on a 2-parameter float64 layer. Near the "
                    "saddle of z = x^2 + y^4/4 - y^2/2: numpy SGD and Momentum (0.9) at lr 0.01 from one seeded "
                    "start per seed (|x| < 0.3, |y| between 1e-4 and 1e-3).",
    )
