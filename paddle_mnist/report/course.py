"""The course arm in the report: source 000's own setup (``studies.course``), shown first in sections 2.6-2.7.

``course_part(ctx, part)`` renders one part (``loss``, ``dropout``, ``optimizers``): its
figure, a table and the sentences comparing the runs, each saying whether a difference
is beyond seed noise (Welch 95% interval over seeds, ``studies.claim_rules.compare``).

    python -m paddle_mnist report
"""
from __future__ import annotations

from paddle_mnist.report.claims import comparison_text, verdict_text
from paddle_mnist.format import num, pm, pct, table
from paddle_mnist.studies.claim_rules import compare, mean_rise, per_run, test_acc, valid_loss_rise
from paddle_mnist.studies.claims import decided_by
from paddle_mnist.studies.course import part_record
from paddle_mnist.studies.loss import DOUBLE_SOFTMAX_FLOOR
from paddle_mnist.plots.studies import plot_dropout_study, plot_loss_study, plot_optimizer_curves

HEAD = "### As the course ran it (source 000's own setup)\n"
CLAIMS_OF = {"loss": ("loss-",), "dropout": ("dropout-",), "optimizers": ("opt-",)}


def _status(a: dict) -> str:
    if not a.get("diverged"):
        return f"{a['n_ok']}/{a['n_runs']} ok"
    steps = sorted({d["step"] for d in a["diverged"]})
    return f"{a['n_ok']}/{a['n_runs']} ok; diverged at step {', '.join(str(s) for s in steps)}"


def _loss(rec: dict, a: dict) -> list[str]:
    rows = [[v, pm(s["test_acc_mean"], s["test_acc_std"]), pct(s["valid_acc_epoch1_mean"]),
             num(s["lowest_logged_loss_min"], 4), num(s["final_train_loss_mean"], 4), _status(s)] for v, s in a.items()]
    out = [table(["variant", "test acc (mean ± std)", "valid acc after epoch 1", "lowest logged loss (lowest seed)",
                  "final-epoch train loss", "runs"], rows) + "\n"]
    ds, lg, rg = a.get("double_softmax"), a.get("logits"), a.get("regression")
    if ds and lg:
        c = compare("test accuracy", "acc", "logits", per_run(rec, "logits", test_acc), "double softmax",
                    per_run(rec, "double_softmax", test_acc))
        out.append(f"The double-softmax loss cannot fall below ln(1 + 9/e) = {DOUBLE_SOFTMAX_FLOOR:.4f}: its lowest "
                   f"logged window over all seeds was {num(ds['lowest_logged_loss_min'], 4)}, while the same net on "
                   f"logits went down to {num(lg['lowest_logged_loss_min'], 4)}. Fixing the bug alone, under the source's SGD 0.1 "
                   f"and 10 epochs: {comparison_text(c)}.\n")
    if rg and rg.get("diverged"):
        d = rg["diverged"]
        out.append(f"The one-output regressor with SGD at the source's lr 0.1 diverged in {len(d)} of {rg['n_runs']} "
                   f"runs (NaN/inf loss by step {max(x['step'] for x in d)}; last finite loss "
                   f"{d[0]['last_finite_loss']:.3g}): the squared error of an unbounded output and its gradient "
                   f"grow with the error itself. It is recorded as `diverged`; the done-right arm trains it with "
                   f"Adam.\n")
    return out


def _dropout(rec: dict, a: dict) -> list[str]:
    rows = [[v, f"{s['dropout']:g}", pm(s["test_acc_mean"], s["test_acc_std"]), num(s["final_train_loss"], 4),
             num(s["final_valid_loss"], 4), f"{mean_rise(rec, v):+.4f}" if mean_rise(rec, v) is not None else
             "n/a", f"{s['final_loss_gap']:+.4f}" if s["final_loss_gap"] is not None else "n/a",
             f"{num(s['seconds_per_epoch_mean'], 2)} ± {num(s['seconds_per_epoch_std'], 2)} s"] for v, s in a.items()]
    out = [table(["variant", "p", "test acc (mean ± std)", "final train loss", "final valid loss",
                  "valid-loss rise to the end (mean over seeds)", "gap valid − train loss", "seconds per epoch"],
                 rows) + "\n"]
    base = next((k for k, s in a.items() if s["dropout"] == 0.0), None)
    for k, s in a.items():
        if base is None or k == base:
            continue
        parts = [compare("test accuracy", "acc", f"p={s['dropout']:g}", per_run(rec, k, test_acc), "p=0",
                         per_run(rec, base, test_acc)),
                 compare("valid-loss rise from its minimum to the last epoch", "loss", "p=0",
                         per_run(rec, base, valid_loss_rise), f"p={s['dropout']:g}", per_run(rec, k, valid_loss_rise))]
        out.append("With one Dropout after fc1: " + "; ".join(comparison_text(c) for c in parts) + ".\n")
    return out


def _optimizers(rec: dict, a: dict) -> list[str]:
    rows = [[v, pm(s["test_acc_mean"], s["test_acc_std"]), num(s["train_loss_epoch1_mean"], 4),
             num(s["final_train_loss_mean"], 4), num(s["roughness_mean"]), _status(s)] for v, s in a.items()]
    return [table(["setting", "test acc (mean ± std)", "train loss, epoch 1", "final-epoch train loss", "roughness",
                   "runs"], rows) + "\n",
            "On the double-softmax model every loss lives in [1.46, 2.30] (the floor above), so a loss that "
            "\"does not fall\" there is measured against that range, not against zero.\n"]


PLOTS = {"loss": (plot_loss_study, {}), "dropout": (plot_dropout_study, {}),
         "optimizers": (plot_optimizer_curves, {"stages": ("report",)})}


def course_part(ctx, part: str) -> str:
    """The course arm's part of a section: figure, table, comparisons and the source-arm verdicts it decides."""
    rec = ctx.load("course")
    if rec is None:
        return HEAD + "_Not run yet: `python -m paddle_mnist train course`._\n"
    sub, (plot, kw) = part_record(rec, part), PLOTS[part]
    seeds = ", ".join(str(s) for s in rec["settings"]["seeds"])
    mine = [(c, v) for c, arm, v in decided_by("course", rec)
            if arm == "source" and c["id"].startswith(CLAIMS_OF[part])]
    out = [HEAD, f"{rec['description']} Seeds {seeds}.\n" if part == "loss" else
           f"Source 000's own setup, as in section 2.6.1-2.6.2 above; seeds {seeds}.\n",
           ctx.draw(f"course_{part}", plot, sub, f"course arm, {part}", **kw),
           *{"loss": _loss, "dropout": _dropout, "optimizers": _optimizers}[part](sub, sub["analysis"])]
    if mine:
        out += ["Verdicts as the source ran it (evidence in [the ledger](APPENDIX.md#claims-ledger)):\n",
                "\n".join(f"- {c['claim']} — {verdict_text(v)}" for c, v in mine) + "\n"]
    if rec["settings"].get("quick"):
        out.append("_These are `--quick` smoke-test results, not the source's settings._\n")
    return "\n".join(out)
