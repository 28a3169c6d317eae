"""Report sections of the studies (2.2, 2.6, 2.7) and the claims ledger, from the results files alone.

Each ``section_*(ctx)`` takes ``report.context.Context`` and returns markdown; every
number in the prose comes from ``reports/results/<name>.json`` (the ``analysis``
written by ``studies``), and the ledger section from ``report.claims``.

    python -m paddle_mnist report
"""
from __future__ import annotations

from paddle_mnist.format import missing, num, pct, pm, points, table
from paddle_mnist.report.claims import claims_here, comparison_text, noise_text, section_claims
from paddle_mnist.report.course import course_part
from paddle_mnist.studies.claim_rules import compare, final_train_loss, mean_rise, per_run, test_acc
from paddle_mnist.plots.studies import (plot_dropout_study, plot_hparams, plot_loss_study, plot_optimizer_curves,
                                        plot_optimizer_sweeps)

STUDIES = ("loss", "dropout", "optimizers", "hparams")


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
def section_loss(ctx) -> str:
    rec = ctx.load("loss")
    out = ["## 2.6.1-2.6.2 Loss functions: cross entropy vs squared error\n"]
    if rec is None:
        return out[0] + missing("loss")
    path, link = ctx.figure("loss_study")
    plot_loss_study(rec, path)
    a, ref = rec["analysis"], rec["reference"]
    lab = ref["labels"]
    cfg = rec["runs"][0]["config"]
    out += [course_part(ctx, "loss"), "### Done right\n"]
    out.append(f"{rec['description']} Seeds {_seeds(rec)}; the same seed gives the same initial weights (up to the "
               f"output layer) and the same batch order in every variant. The checkpoint with the best `valid` "
               f"accuracy of each run is scored once on `test`. Valid accuracy is measured once per epoch "
               f"({rec['runs'][0].get('steps_per_epoch', '?')} iterations), so the iterations to 95% / 97% have "
               f"epoch resolution.\n")
    out.append(f"![loss study]({link})\n")
    out.append("_Left to right: train loss per iteration (mean of each {log}-step window, one panel and scale per "
               "variant since the losses are not comparable in value; x = divergence), then valid accuracy per "
               "epoch (mean over seeds, band = min..max)._\n".format(log=cfg["log_every"]))
    rows = []
    for v, s in a.items():
        rows.append([v, f"{s['optimizer']} {s['lr']:g}", pm(s["test_acc_mean"], s["test_acc_std"]),
                     pct(s["valid_acc_epoch1_mean"]), _reach(s, "0.95"), _reach(s, "0.97"),
                     num(s["initial_loss_mean"]), num(s["lowest_logged_loss_mean"], 4),
                     num(s["final_train_loss_mean"], 4), f"{s['n_ok']}/{s['n_runs']} {_status(s)}"])
    out.append(table(["variant", "optimizer", "test acc (mean ± std)", "valid acc after epoch 1", "95% valid at",
                      "97% valid at", "first logged loss", "lowest logged loss", "final-epoch train loss",
                      "runs ok / status"], rows) + "\n")
    out.append("\n".join(_loss_notes(a, lab)) + "\n")
    out.append(claims_here("loss", rec))
    out.append(_quick_note(rec))
    return "\n".join(x for x in out if x)


# ---------------------------------------------------------------- 2.6.3-2.6.4
def section_dropout(ctx) -> str:
    rec = ctx.load("dropout")
    out = ["## 2.6.3-2.6.4 Dropout\n"]
    if rec is None:
        return out[0] + missing("dropout")
    path, link = ctx.figure("dropout_study")
    plot_dropout_study(rec, path)
    a = rec["analysis"]
    out += [course_part(ctx, "dropout"), "### Done right\n"]
    out.append(f"{rec['description']} Seeds {_seeds(rec)}; everything but the dropout rate is the same. The train "
               f"loss and accuracy are the running means over each epoch's batches, measured with dropout active "
               f"(as the course's training loop reports them); valid and test are measured in eval mode, dropout "
               f"off.\n")
    out.append(f"![dropout study]({link})\n")
    rows = []
    for v, s in a.items():
        rows.append([v, pm(s["test_acc_mean"], s["test_acc_std"]), num(s["final_train_loss"], 4),
                     num(s["final_valid_loss"], 4), f"{num(s['min_valid_loss'], 4)} (epoch {s['min_valid_loss_epoch']})",
                     f"{mean_rise(rec, v):+.4f}" if mean_rise(rec, v) is not None else "n/a",
                     f"{s['final_loss_gap']:+.4f}" if s["final_loss_gap"] is not None else "n/a",
                     points(s["final_acc_gap"]), _reach(s, "0.97"),
                     f"{num(s['seconds_per_epoch_mean'], 2)} ± {num(s['seconds_per_epoch_std'], 2)} s"])
    out.append(table(["variant", "test acc (mean ± std)", "final train loss", "final valid loss",
                      "lowest valid loss (mean curve)", "valid-loss rise to the end (mean over seeds)", "gap valid − train loss",
                      "gap train − valid acc", "97% valid at", "seconds per epoch"], rows) + "\n")
    base_v = next((v for v, s in a.items() if s["dropout"] == 0.0), None)
    base = a.get(base_v)
    if base:
        epochs = len(base["curves"]["valid_loss"])
        others = [(v, s) for v, s in a.items() if s["dropout"] > 0]
        txt = (f"Without dropout the train loss falls to {num(base['final_train_loss'], 4)} by epoch {epochs}, while "
               f"the valid loss bottoms at {num(base['min_valid_loss'], 4)} in epoch {base['min_valid_loss_epoch']} "
               f"(means over seeds); each seed's valid loss then rises from its own minimum by "
               f"{mean_rise(rec, base_v):+.4f} on average. ")
        for v, s in others:
            txt += (f"With p = {s['dropout']:g} the valid loss ends at {num(s['final_valid_loss'], 4)} (rise "
                    f"{mean_rise(rec, v):+.4f}); " + "; ".join(
                        comparison_text(compare(m, u, f"p={s['dropout']:g}", per_run(rec, v, fn), "p=0",
                                                per_run(rec, base_v, fn)))
                        for m, u, fn in (("test accuracy", "acc", test_acc), ("seconds per epoch", "s", _epoch_s),
                                         ("final train loss (dropout active)", "loss", final_train_loss))) + ". ")
        out.append(txt + "\n")
    out.append(claims_here("dropout", rec))
    out.append(_quick_note(rec))
    return "\n".join(x for x in out if x)


def _tuned_part(a: dict) -> list[str]:
    """The optimizers at their tuned learning rates: table, and how far the furthest is behind the best."""
    out = []
    rows = []
    for opt, s in a["tuned"].items():
        reused = f" (= {', '.join(r.split('-seed')[0] for r in s['reused_from'][:1])})" if s["reused_from"] else ""
        rows.append([opt, f"{s['lr']:g}{reused}", pm(s["test_acc_mean"], s["test_acc_std"]),
                     points(-s["gap_to_best"]) if s.get("gap_to_best") is not None else "n/a",
                     num(s["train_loss_epoch1_mean"], 4), _reach(s, "0.97"), num(s["seconds_per_epoch_mean"], 2),
                     f"{s['n_ok']}/{s['n_runs']}"])
    out.append("**Tuned learning rates** (chosen on `valid`, then run over every seed)\n")
    out.append(table(["optimizer", "lr", "test acc (mean ± std)", "vs the best", "train loss, epoch 1",
                      "97% valid at", "s / epoch", "runs ok"], rows) + "\n")
    best = a.get("best_tuned")
    if best:
        b = a["tuned"][best]
        spread = [s["gap_to_best"] for s in a["tuned"].values() if s.get("gap_to_best") is not None]
        worst = max(spread)
        far = max((o for o, s in a["tuned"].items() if s.get("gap_to_best") is not None),
                  key=lambda o: a["tuned"][o]["gap_to_best"])
        out.append(f"Tuned, the best optimizer is **{best}** ({pm(b['test_acc_mean'], b['test_acc_std'])}); the "
                   f"furthest behind is {far}: {noise_text(a['tuned'][far], b)}"
                   + (" — every tuned optimizer ends within half a point of the best.\n" if worst <= 0.005 else ".\n"))
    return out


# ---------------------------------------------------------------- 2.7
def section_optimizers(ctx) -> str:
    rec = ctx.load("optimizers")
    out = ["## 2.7 Optimizers\n"]
    if rec is None:
        return out[0] + missing("optimizers")
    p1, l1 = ctx.figure("optimizers_curves")
    plot_optimizer_curves(rec, p1)
    p2, l2 = ctx.figure("optimizers_sweeps")
    plot_optimizer_sweeps(rec, p2)
    a = rec["analysis"]
    out += [course_part(ctx, "optimizers"), "### Done right\n"]
    out.append(f"{rec['description']} Seeds {_seeds(rec)} (the sweep uses seed {rec['settings']['seeds'][0]}); "
               f"`paddle.optimizer` classes with their default betas/epsilons, momentum 0.9. A run whose loss "
               f"becomes NaN/inf is recorded as `diverged` with its step and last finite loss. Roughness is the "
               f"mean absolute change between consecutive logged losses after the first epoch over their mean "
               f"(a measure of oscillation).\n")
    out.append(f"![optimizer curves]({l1})\n")
    out.append("_Training loss per iteration for every optimizer on one plot (as in Kingma & Ba 2015, Fig. 2), "
               "and valid accuracy per epoch; left the report's settings, right each optimizer at its tuned rate._\n")
    rows = []
    for v, s in a["report"].items():
        rows.append([v, pm(s["test_acc_mean"], s["test_acc_std"]), pct(s["valid_acc_mean"]),
                     num(s["train_loss_epoch1_mean"]), num(s["final_train_loss_mean"], 4), _reach(s, "0.97"),
                     num(s["roughness_mean"]), f"{s['n_ok']}/{s['n_runs']} {_status(s)}"])
    out.append("**The report's settings**\n")
    out.append(table(["setting", "test acc (mean ± std)", "best valid", "train loss, epoch 1",
                      f"train loss, epoch {next(iter(a['report'].values()))['epochs']}", "97% valid at", "roughness",
                      "runs ok / status"], rows) + "\n")
    out.append(f"![learning-rate sweeps]({l2})\n")
    rows = []
    for opt, pts in a["sweep"].items():
        c = a["choice"].get(opt, {})
        cells = ", ".join(f"{p['lr']:g}: " + (pct(p["valid_acc"]) if p["status"] == "ok" else p["status"])
                          for p in pts)
        rows.append([opt, cells, "n/a" if c.get("lr") is None else f"**{c['lr']:g}**",
                     "yes" if c.get("at_edge") else "no"])
    out.append(f"**Learning-rate sweep** (seed {rec['settings']['seeds'][0]}, {a['sweep_epochs']} epochs, best "
               f"valid accuracy; `test` is not scored)\n")
    out.append(table(["optimizer", "learning rate: best valid accuracy", "chosen", "at the grid's edge"], rows) + "\n")
    out += _tuned_part(a)
    out.append(claims_here("optimizers", rec))
    out.append(_quick_note(rec))
    return "\n".join(x for x in out if x)


# ---------------------------------------------------------------- 2.2
def section_hparams(ctx) -> str:
    rec = ctx.load("hparams")
    out = ["## 2.2 Hyperparameter tuning on the validation split\n"]
    if rec is None:
        return out[0] + missing("hparams")
    a = rec["analysis"]
    c = a["choice"]
    path, link = ctx.figure("hparams")
    plot_hparams(rec, path)
    out.append(f"{rec['description']} The grid runs train on `train`, are scored on `valid` after every epoch and "
               f"never see `test` ({a['grid_runs_scored_on_eval']} of {len(a['grid'])} grid runs scored it); "
               f"`test` is read only by the final runs, after the choice is fixed.\n")
    out.append(f"![hyperparameter search]({link})\n")
    grid = [t for t in a["grid"] if t["stage"] == "grid-lr"]
    lrs = sorted({t["lr"] for t in grid})
    hs = sorted({t["hidden"] for t in grid})
    cell = {(t["hidden"], t["lr"]): t for t in grid}

    def fmt(t):
        if t is None:
            return ""
        if t["valid_acc"] is None:
            return t["status"]
        return f"{pct(t['valid_acc'])} (ep {t['best_epoch']})"

    out.append("**Learning rate × hidden units** (best valid accuracy over epochs, and its epoch)\n")
    out.append(table(["hidden units"] + [f"lr {lr:g}" for lr in lrs],
                     [[h] + [fmt(cell.get((h, lr))) for lr in lrs] for h in hs]) + "\n")
    if c:
        at = sorted((t for t in a["grid"] if abs(t["lr"] - c["lr"]) < 1e-12), key=lambda t: t["hidden"])
        out.append(f"**Hidden units at lr {c['lr']:g}**\n")
        out.append(table(["hidden units"] + [str(t["hidden"]) for t in at],
                         [["best valid (epoch)"] + [fmt(t) for t in at],
                          ["seconds"] + [f"{t['seconds']:.1f}" for t in at]]) + "\n")
        f = a.get("final")
        score = "" if not f else (
            f" Trained over seeds {_seeds(rec)} and scored once on `test`: "
            f"**{pm(f['test_acc_mean'], f['test_acc_std'])}** (valid {pm(f['valid_acc_mean'], f['valid_acc_std'])}).")
        out.append(f"Chosen on `valid` over {c['n_points']} (lr, hidden, epochs) points of {c['n_runs']} runs: "
                   f"**lr {c['lr']:g}, {c['hidden']} hidden units, {c['epochs']} epoch{'s' * (c['epochs'] != 1)}** "
                   f"(valid {pct(c['valid_acc'])}).{score}\n")
    out.append(claims_here("hparams", rec))
    out.append(_quick_note(rec))
    return "\n".join(x for x in out if x)


SECTIONS = [section_loss, section_dropout, section_optimizers, section_hparams, section_claims]
