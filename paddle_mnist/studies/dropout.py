"""Study 2.6.3-2.6.4, dropout, the done-right arm (source 000's own is ``studies.course``): p = 0, 0.2, 0.5 after
each hidden layer; curves, gaps and seconds per epoch.

    python -m paddle_mnist train dropout --quick
"""
from __future__ import annotations

from paddle_mnist.engine.config import TrainConfig
from paddle_mnist.engine.experiment import QUICK, Experiment
from paddle_mnist.studies.claim_rules import valid_loss_rise
from paddle_mnist.studies.registry import register
from paddle_mnist.studies.stats import THRESHOLDS, mean_std, per_epoch_mean, reach_summary, variants_in


def dropout_analysis(runs: list[dict]) -> dict:
    out = {}
    for label in variants_in(runs):
        group = [r for r in runs if r["variant"] == label]
        ok = [r for r in group if r["status"] == "ok"]
        curves = {k: per_epoch_mean(ok, k) for k in ("train_loss", "valid_loss", "train_acc", "valid_acc")}
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
            "valid_loss_rise": mean_std([valid_loss_rise(r) for r in ok if r["history"].get("valid_loss")])[0],
            "final_train_loss": curves["train_loss"][-1] if curves["train_loss"] else None,
            "final_loss_gap": (vl[-1] - curves["train_loss"][-1]) if vl else None,
            "final_acc_gap": (curves["train_acc"][-1] - curves["valid_acc"][-1]) if curves["valid_acc"] else None,
            "reach": {f"{t:.2f}": reach_summary(ok, t) for t in THRESHOLDS},
        }
    return out



def dropout_post(exp, runs, s) -> dict:
    return {"analysis": dropout_analysis(runs)}


@register
def dropout() -> Experiment:
    return Experiment(
        name="dropout", title="Dropout regularisation", section="2.6.3-2.6.4",
        base=TrainConfig(model="mlp", hidden=(200, 200), optimizer="adam", lr=1e-3, epochs=10, histograms=False),
        variants=(("dropout_0", {"dropout": 0.0}), ("dropout_0.2", {"dropout": 0.2}),
                  ("dropout_0.5", {"dropout": 0.5})),
        seeds=(0, 1, 2, 3, 4),
        quick=dict(QUICK, log_every=10),
        analyse=dropout_post,
        description="The done-right arm of source 000 §2.6.3-2.6.4: the 784-200-200-10 ReLU MLP on logits with dropout "
                    "after each hidden layer at p = 0, 0.2 and 0.5; cross entropy, Adam 1e-3, batch 100, the source's "
                    "10 epochs. The source's own setup (one Dropout after fc1, double softmax, SGD 0.1) is the "
                    "`course` arm.",
    )
