"""Report sections of the studies (2.2, 2.6, 2.7) and the claims ledger, from the results files alone.

Each ``section_*(ctx)`` takes ``report.context.Context`` and returns markdown; every
number in the prose comes from ``reports/results/<name>.json`` (the ``analysis``
written by ``studies``), and the ledger section from ``report.claims``.

    python -m paddle_mnist report
"""
from __future__ import annotations

from paddle_mnist.format import num, pct, pm, points
from paddle_mnist.report.claims import comparison_text, noise_text, section_claims
from paddle_mnist.report.context import section, table_part
from paddle_mnist.report.course import course_part
from paddle_mnist.studies.claim_rules import compare, final_train_loss, mean_rise, per_run, test_acc
from paddle_mnist.plots.studies import (plot_dropout_study, plot_hparams, plot_loss_study, plot_optimizer_curves,
                                        plot_optimizer_sweeps)

def _reach(a: dict, thr: str) -> str:
    r = a["reach"][thr]
    if not r["n"]:
        return "n/a"
    if not r["n_reached"]:
        return "not reached"
    part = "" if r["n_reached"] == r["n"] else f" ({r['n_reached']}/{r['n']} runs)"
    return f"epoch {r['epoch_mean']:.1f} = {r['steps_mean']:.0f} it, {r['seconds_mean']:.1f} s{part}"


def _epoch_s(r):
    return sum(r["history"]["seconds"]) / len(r["history"]["seconds"])


def _seeds(rec: dict) -> str:
    return ", ".join(str(s) for s in rec["settings"]["seeds"])


def _quick_note(rec: dict) -> str:
    return "_These are `--quick` smoke-test results (2 epochs on 5,000 images), not the full settings._\n" \
        if rec["settings"].get("quick") else ""


def _study(ctx, rec: dict, part: str, lead: str) -> list[str]:
    """What a study of sections 2.6-2.7 opens with: the course arm, then the done-right arm's setup."""
    return [course_part(ctx, part), "### Done right\n", f"{rec['description']} Seeds {_seeds(rec)}{lead}\n"]


def _section(name: str, heading: str, body):
    """A study's section: the shared skeleton with the claims its record decides and the study's quick note."""
    def render(ctx) -> str:
        return section(ctx, name, heading, body, claims=True, quick=_quick_note)
    render.__name__ = f"section_{name}"
    return render


def _status(a: dict) -> str:
    s = ", ".join(a["statuses"])
    if a.get("diverged"):
        d = a["diverged"]
        steps = sorted({x["step"] for x in d})
        s += f" (step {', '.join(str(x) for x in steps)}; last finite loss {num(d[0]['last_finite_loss'], 3)})"
    return s


def _loss_notes(a: dict, lab: dict) -> list[str]:
    """The loss study's findings, one bullet each: fair comparison, regressor."""
    notes = []
    ce, oh = a.get("cross_entropy"), a.get("square_error_onehot")
    rg = a.get("square_error_regression")
    if ce and oh:
        notes.append(f"- **Fair comparison.** Cross entropy on logits: {pm(ce['test_acc_mean'], ce['test_acc_std'])}; "
                     f"squared error between softmax probabilities and one-hot targets: "
                     f"{pm(oh['test_acc_mean'], oh['test_acc_std'])} "
                     f"({noise_text(oh, ce)}). 97% valid: "
                     f"{_reach(ce, '0.97')} vs {_reach(oh, '0.97')}.")
    if rg:
        notes.append(f"- **The assignment's single-output regressor.** Its first logged loss, "
                     f"{num(rg['initial_loss_mean'], 2)}, is about E[y²] = {lab['second_moment']:.2f} (the output "
                     f"starts near 0); always predicting the mean label {lab['mean']:.2f} would give the label "
                     f"variance {lab['variance']:.2f} (8.25 for uniform digits) and {pct(lab['constant_accuracy'])} "
                     f"accuracy. It ends at a train loss of {num(rg['final_train_loss_mean'])}"
                     + (", below half that level (the ledger's line for \"mostly learns the mean\"), so it learns "
                        "more than the mean; " if (rg["final_train_loss_mean"] or 1e9) < 0.5 * lab["variance"] else
                        ", above half that level (the ledger's line): it mostly learns the mean; ")
                     + f"rounding its output to the nearest digit gives {pm(rg['test_acc_mean'], rg['test_acc_std'])} "
                     f"on `test`. The output must land within ±0.5 of the digit, and visually similar digits that "
                     f"are far apart as numbers (4 and 9, 3 and 8) pull it towards the values between them.")
    return notes


# ---------------------------------------------------------------- 2.6.1-2.6.2
def _loss(ctx, rec) -> list[str]:
    a, lab, cfg = rec["analysis"], rec["reference"]["labels"], rec["runs"][0]["config"]
    rows = [[v, f"{s['optimizer']} {s['lr']:g}", pm(s["test_acc_mean"], s["test_acc_std"]),
             pct(s["valid_acc_epoch1_mean"]), _reach(s, "0.95"), _reach(s, "0.97"), num(s["initial_loss_mean"]),
             num(s["lowest_logged_loss_mean"], 4), num(s["final_train_loss_mean"], 4),
             f"{s['n_ok']}/{s['n_runs']} {_status(s)}"] for v, s in a.items()]
    return _study(ctx, rec, "loss", "; the same seed gives the same initial weights (up to the output layer) and the "
                  "same batch order in every variant. The checkpoint with the best `valid` accuracy of each run is "
                  "scored once on `test`. Valid accuracy is measured once per epoch "
                  f"({rec['runs'][0].get('steps_per_epoch', '?')} iterations), so the iterations to 95% / 97% have "
                  "epoch resolution.") + [
        ctx.draw("loss_study", plot_loss_study, rec, "loss study"),
        f"_Left to right: train loss per iteration (mean of each {cfg['log_every']}-step window, one panel and scale "
        "per variant since the losses are not comparable in value; x = divergence), then valid accuracy per epoch "
        "(mean over seeds, band = min..max)._\n",
        table_part(["variant", "optimizer", "test acc (mean ± std)", "valid acc after epoch 1", "95% valid at",
                    "97% valid at", "first logged loss", "lowest logged loss", "final-epoch train loss",
                    "runs ok / status"], rows),
        "\n".join(_loss_notes(a, lab)) + "\n"]


# ---------------------------------------------------------------- 2.6.3-2.6.4
def _rise(rec: dict, v: str) -> str:
    return "n/a" if mean_rise(rec, v) is None else f"{mean_rise(rec, v):+.4f}"


def _dropout(ctx, rec) -> list[str]:
    a = rec["analysis"]
    rows = [[v, pm(s["test_acc_mean"], s["test_acc_std"]), num(s["final_train_loss"], 4),
             num(s["final_valid_loss"], 4), f"{num(s['min_valid_loss'], 4)} (epoch {s['min_valid_loss_epoch']})",
             _rise(rec, v), f"{s['final_loss_gap']:+.4f}" if s["final_loss_gap"] is not None else "n/a",
             points(s["final_acc_gap"]), _reach(s, "0.97"),
             f"{num(s['seconds_per_epoch_mean'], 2)} ± {num(s['seconds_per_epoch_std'], 2)} s"] for v, s in a.items()]
    return _study(ctx, rec, "dropout", "; everything but the dropout rate is the same. The train loss and accuracy "
                  "are the running means over each epoch's batches, measured with dropout active (as the course's "
                  "training loop reports them); valid and test are measured in eval mode, dropout off.") + [
        ctx.draw("dropout_study", plot_dropout_study, rec, "dropout study"),
        table_part(["variant", "test acc (mean ± std)", "final train loss", "final valid loss",
                    "lowest valid loss (mean curve)", "valid-loss rise to the end (mean over seeds)",
                    "gap valid − train loss", "gap train − valid acc", "97% valid at", "seconds per epoch"], rows),
        _dropout_text(rec, a)]


def _dropout_text(rec: dict, a: dict) -> str:
    """Without dropout against each rate: the valid-loss minimum and rise, then test accuracy, speed, train loss."""
    base_v = next((v for v, s in a.items() if s["dropout"] == 0.0), None)
    base = a.get(base_v)
    if not base:
        return ""
    txt = (f"Without dropout the train loss falls to {num(base['final_train_loss'], 4)} by epoch "
           f"{len(base['curves']['valid_loss'])}, while the valid loss bottoms at {num(base['min_valid_loss'], 4)} in "
           f"epoch {base['min_valid_loss_epoch']} (means over seeds); each seed's valid loss then rises from its own "
           f"minimum by {mean_rise(rec, base_v):+.4f} on average. ")
    for v, s in ((v, s) for v, s in a.items() if s["dropout"] > 0):
        txt += (f"With p = {s['dropout']:g} the valid loss ends at {num(s['final_valid_loss'], 4)} (rise "
                f"{mean_rise(rec, v):+.4f}); " + "; ".join(
                    comparison_text(compare(m, u, f"p={s['dropout']:g}", per_run(rec, v, fn), "p=0",
                                            per_run(rec, base_v, fn)))
                    for m, u, fn in (("test accuracy", "acc", test_acc), ("seconds per epoch", "s", _epoch_s),
                                     ("final train loss (dropout active)", "loss", final_train_loss))) + ". ")
    return txt + "\n"


# ---------------------------------------------------------------- 2.7
def _tuned_part(a: dict) -> list[str]:
    """The optimizers at their tuned learning rates: table, and how far the furthest is behind the best."""
    rows = []
    for opt, s in a["tuned"].items():
        reused = f" (= {', '.join(r.split('-seed')[0] for r in s['reused_from'][:1])})" if s["reused_from"] else ""
        rows.append([opt, f"{s['lr']:g}{reused}", pm(s["test_acc_mean"], s["test_acc_std"]),
                     points(-s["gap_to_best"]) if s.get("gap_to_best") is not None else "n/a",
                     num(s["train_loss_epoch1_mean"], 4), _reach(s, "0.97"), num(s["seconds_per_epoch_mean"], 2),
                     f"{s['n_ok']}/{s['n_runs']}"])
    out = [table_part(["optimizer", "lr", "test acc (mean ± std)", "vs the best", "train loss, epoch 1",
                       "97% valid at", "s / epoch", "runs ok"], rows,
                      "**Tuned learning rates** (chosen on `valid`, then run over every seed)")]
    best = a.get("best_tuned")
    if best:
        b = a["tuned"][best]
        gaps = {o: s["gap_to_best"] for o, s in a["tuned"].items() if s.get("gap_to_best") is not None}
        far = max(gaps, key=gaps.get)
        out.append(f"Tuned, the best optimizer is **{best}** ({pm(b['test_acc_mean'], b['test_acc_std'])}); the "
                   f"furthest behind is {far}: {noise_text(a['tuned'][far], b)}"
                   + (" — every tuned optimizer ends within half a point of the best.\n" if gaps[far] <= 0.005
                      else ".\n"))
    return out


def _sweep_rows(a: dict) -> list[list]:
    rows = []
    for opt, pts in a["sweep"].items():
        c = a["choice"].get(opt, {})
        cells = ", ".join(f"{p['lr']:g}: " + (pct(p["valid_acc"]) if p["status"] == "ok" else p["status"])
                          for p in pts)
        rows.append([opt, cells, "n/a" if c.get("lr") is None else f"**{c['lr']:g}**",
                     "yes" if c.get("at_edge") else "no"])
    return rows


def _optimizers(ctx, rec) -> list[str]:
    a, seed = rec["analysis"], rec["settings"]["seeds"][0]
    rows = [[v, pm(s["test_acc_mean"], s["test_acc_std"]), pct(s["valid_acc_mean"]),
             num(s["train_loss_epoch1_mean"]), num(s["final_train_loss_mean"], 4), _reach(s, "0.97"),
             num(s["roughness_mean"]), f"{s['n_ok']}/{s['n_runs']} {_status(s)}"] for v, s in a["report"].items()]
    return _study(ctx, rec, "optimizers", f" (the sweep uses seed {seed}); `paddle.optimizer` classes with their "
                  "default betas/epsilons, momentum 0.9. A run whose loss becomes NaN/inf is recorded as `diverged` "
                  "with its step and last finite loss. Roughness is the mean absolute change between consecutive "
                  "logged losses after the first epoch over their mean (a measure of oscillation).") + [
        ctx.draw("optimizers_curves", plot_optimizer_curves, rec, "optimizer curves"),
        "_Training loss per iteration for every optimizer on one plot (as in Kingma & Ba 2015, Fig. 2), and valid "
        "accuracy per epoch; left the report's settings, right each optimizer at its tuned rate._\n",
        table_part(["setting", "test acc (mean ± std)", "best valid", "train loss, epoch 1",
                    f"train loss, epoch {next(iter(a['report'].values()))['epochs']}", "97% valid at", "roughness",
                    "runs ok / status"], rows, "**The report's settings**"),
        ctx.draw("optimizers_sweeps", plot_optimizer_sweeps, rec, "learning-rate sweeps"),
        table_part(["optimizer", "learning rate: best valid accuracy", "chosen", "at the grid's edge"], _sweep_rows(a),
                   f"**Learning-rate sweep** (seed {seed}, {a['sweep_epochs']} epochs, best valid accuracy; `test` "
                   "is not scored)"),
        *_tuned_part(a)]


# ---------------------------------------------------------------- 2.2
def _cell(t) -> str:
    """A grid point: its best valid accuracy and epoch, or its status."""
    if t is None:
        return ""
    return t["status"] if t["valid_acc"] is None else f"{pct(t['valid_acc'])} (ep {t['best_epoch']})"


def _hparams(ctx, rec) -> list[str]:
    a, c = rec["analysis"], rec["analysis"]["choice"]
    grid = [t for t in a["grid"] if t["stage"] == "grid-lr"]
    lrs, hs = sorted({t["lr"] for t in grid}), sorted({t["hidden"] for t in grid})
    cell = {(t["hidden"], t["lr"]): t for t in grid}
    out = [f"{rec['description']} The grid runs train on `train`, are scored on `valid` after every epoch and never "
           f"see `test` ({a['grid_runs_scored_on_eval']} of {len(a['grid'])} grid runs scored it); `test` is read "
           "only by the final runs, after the choice is fixed.\n",
           ctx.draw("hparams", plot_hparams, rec, "hyperparameter search"),
           table_part(["hidden units"] + [f"lr {lr:g}" for lr in lrs],
                      [[h] + [_cell(cell.get((h, lr))) for lr in lrs] for h in hs],
                      "**Learning rate × hidden units** (best valid accuracy over epochs, and its epoch)")]
    if c:
        at = sorted((t for t in a["grid"] if abs(t["lr"] - c["lr"]) < 1e-12), key=lambda t: t["hidden"])
        out.append(table_part(["hidden units"] + [str(t["hidden"]) for t in at],
                              [["best valid (epoch)"] + [_cell(t) for t in at],
                               ["seconds"] + [f"{t['seconds']:.1f}" for t in at]],
                              f"**Hidden units at lr {c['lr']:g}**"))
        f = a.get("final")
        score = "" if not f else (
            f" Trained over seeds {_seeds(rec)} and scored once on `test`: "
            f"**{pm(f['test_acc_mean'], f['test_acc_std'])}** (valid {pm(f['valid_acc_mean'], f['valid_acc_std'])}).")
        out.append(f"Chosen on `valid` over {c['n_points']} (lr, hidden, epochs) points of {c['n_runs']} runs: "
                   f"**lr {c['lr']:g}, {c['hidden']} hidden units, {c['epochs']} epoch{'s' * (c['epochs'] != 1)}** "
                   f"(valid {pct(c['valid_acc'])}).{score}\n")
    return out


section_loss = _section("loss", "2.6.1-2.6.2 Loss functions: cross entropy vs squared error", _loss)
section_dropout = _section("dropout", "2.6.3-2.6.4 Dropout", _dropout)
section_optimizers = _section("optimizers", "2.7 Optimizers", _optimizers)
section_hparams = _section("hparams", "2.2 Hyperparameter tuning on the validation split", _hparams)
SECTIONS = [section_loss, section_dropout, section_optimizers, section_hparams, section_claims]
