"""Study 2.6.1-2.6.2, loss functions: cross entropy vs squared error (one-hot and the one-output regressor).

The done-right arm; source 000's own setup (double softmax, SGD 0.1) is ``studies.course``.

    python -m paddle_mnist train loss --quick
"""
from __future__ import annotations

import math
import numpy as np

from paddle_mnist.engine.config import TrainConfig
from paddle_mnist.engine.experiment import QUICK, Experiment
from paddle_mnist.studies.registry import register
from paddle_mnist.studies.stats import THRESHOLDS, mean as _mean, mean_std, reach_summary, variants_in
from paddle_mnist.datafile.store import read_arrays

# Cross entropy after a softmax output: the best case puts probability 1 on the true class,
# so the loss is -log(e / (e + 9)) = ln(1 + 9/e).
DOUBLE_SOFTMAX_FLOOR = math.log(1.0 + 9.0 / math.e)


def label_stats(data_path: str = "", train_subset: int = 0) -> dict:
    """Mean, variance and second moment of the train labels, and the accuracy of always predicting round(mean)."""

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



def loss_reference(runs: list[dict]) -> dict:
    """The double-softmax floor and the train labels' statistics (the regressor's reference levels)."""
    cfg = runs[0]["config"]
    return {"double_softmax_floor": DOUBLE_SOFTMAX_FLOOR,
            "labels": label_stats(cfg.get("data_path", ""), cfg.get("train_subset", 0))}


def loss_post(exp, runs, s) -> dict:
    return {"analysis": loss_analysis(runs), "reference": loss_reference(runs)}


@register
def loss() -> Experiment:
    return Experiment(
        name="loss", title="Loss functions: cross entropy vs squared error", section="2.6.1-2.6.2",
        base=TrainConfig(model="mlp", hidden=(200, 200), optimizer="adam", lr=1e-3, lr_schedule="cosine", epochs=10,
                         histograms=False),
        variants=(
            ("cross_entropy", {}),
            ("square_error_onehot", {"loss": "square_error_onehot"}),
            ("square_error_regression", {"loss": "square_error_regression", "out_features": 1}),
        ),
        seeds=(0, 1, 2, 3, 4),
        quick=dict(QUICK, log_every=10),
        analyse=loss_post,
        description="The done-right arm of source 000 §2.6.1-2.6.2: the 784-200-200 ReLU MLP on logits, trained with "
                    "the headline MLP's recipe (Adam 1e-3 with a per-epoch cosine decay, batch 100) for the source's "
                    "10 epochs; only the loss (and the output layer it needs) changes: cross entropy on logits; "
                    "square_error_cost between softmax probabilities and one-hot targets; the assignment's single "
                    "output unit regressing the digit value (accuracy by rounding and clipping to 0-9). The source's "
                    "own setup (double softmax, SGD 0.1) is the `course` arm.",
    )
