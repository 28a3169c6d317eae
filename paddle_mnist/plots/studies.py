"""Figures of the studies (``loss``, ``dropout``, ``optimizers``, ``hparams``), drawn from results records only.

Same conventions as ``plots``: each function returns a ``matplotlib.figure.Figure``
built without pyplot and saves it when ``out`` is given; lines are means over
seeds, shaded bands min..max over seeds.

    python -m paddle_mnist report      # redraws reports/figures/*.png
"""
from __future__ import annotations

import math

import numpy as np

from paddle_mnist.plots.common import COLORS, band, new_figure, runs_of, save, variants_of
from paddle_mnist.studies.loss import DOUBLE_SOFTMAX_FLOOR
from paddle_mnist.studies.stats import THRESHOLDS
# deferred: matplotlib (only when a figure is drawn)

LOSS_NAMES = {"cross_entropy": "cross entropy", "square_error_onehot": "squared error (softmax vs one-hot)",
              "square_error_regression": "squared error (digit value)"}


def _color(i: int) -> str:
    return COLORS[i % len(COLORS)]


def _mark_diverged(ax, runs: list[dict], color) -> None:
    """An x at (diverged step, last finite loss) for each diverged run, with its logged points."""
    for r in runs:
        it = r.get("iterations") or {}
        if it.get("step"):
            ax.plot(it["step"], it["train_loss"], color=color, lw=0.8, alpha=0.6)
        if r.get("diverged_step") and r.get("last_finite_loss") is not None and math.isfinite(r["last_finite_loss"]):
            ax.plot([r["diverged_step"]], [max(r["last_finite_loss"], 1e-8)], "x", color=color, ms=8, mew=2)


def _lr_axis(ax, lrs) -> None:
    """Log x axis labelled at the grid's learning rates only."""
    from matplotlib.ticker import NullFormatter

    lrs = sorted(set(lrs))
    ax.set_xscale("log")
    if lrs:
        ax.set_xticks(lrs, [f"{lr:g}" for lr in lrs], fontsize=7)
    ax.xaxis.set_minor_formatter(NullFormatter())


def _epoch_axis(ax) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _finish(ax, legend=True):
    ax.grid(alpha=0.3)
    if legend and ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)


def plot_loss_study(record: dict, out=None):
    """Train loss per iteration, one panel per variant (own scale), and valid accuracy per epoch for all."""
    variants = variants_of(record)
    ref = record.get("reference", {})
    n = len(variants) + 1
    ncols = min(3, n)
    nrows = math.ceil(n / ncols)
    fig, axes = new_figure(ncols, nrows, size=(4.3, 3.2))
    acc_ax = axes[len(variants)]
    for i, v in enumerate(variants):
        ax, color = axes[i], _color(i)
        ok = runs_of(record, v)
        div = runs_of(record, v, status=("diverged",))
        cfg = (ok or div or runs_of(record, v, status=("ok", "diverged", "failed")))[0]["config"]
        label = f"{v} (mean of {len(ok)} seed{'s' * (len(ok) > 1)})" if ok else v
        band(ax, ok, "train_loss", label, color, x_key="step",
             source="iterations")
        _mark_diverged(ax, div, color)
        if cfg.get("double_softmax"):
            ax.axhline(ref.get("double_softmax_floor", DOUBLE_SOFTMAX_FLOOR), color="k", ls="--", lw=1,
                       label=f"floor ln(1+9/e) = {DOUBLE_SOFTMAX_FLOOR:.3f}")
        if cfg["loss"] == "square_error_regression" and ref.get("labels"):
            ax.axhline(ref["labels"]["variance"], color="k", ls="--", lw=1,
                       label=f"predict the mean: {ref['labels']['variance']:.2f}")
        ax.set_yscale("log")
        title = v + (f" — diverged ({len(div)}/{len(div) + len(ok)})" if div else "")
        ax.set(xlabel="iteration", ylabel=LOSS_NAMES.get(cfg["loss"], cfg["loss"]), title=title)
        _finish(ax)
        if ok:
            band(acc_ax, ok, "valid_acc", v, color)
    for t in THRESHOLDS:
        acc_ax.axhline(t, color="grey", ls=":", lw=1)
    acc_ax.set(xlabel="epoch", ylabel="valid accuracy", title="valid accuracy per epoch")
    _epoch_axis(acc_ax)
    _finish(acc_ax)
    for ax in axes[n:]:
        ax.set_visible(False)
    save(fig, out)
    return fig


def plot_dropout_study(record: dict, out=None):
    """Train vs valid loss and accuracy per epoch, the generalisation gap, and seconds per epoch."""
    fig, (a_loss, a_acc, a_gap, a_sec) = new_figure(2, 2, size=(5.2, 3.6))
    analysis = record.get("analysis", {})
    labels, secs, errs = [], [], []
    for i, v in enumerate(variants_of(record)):
        ok, color = runs_of(record, v), _color(i)
        if not ok:
            continue
        band(a_loss, ok, "train_loss", f"{v} train", color)
        band(a_loss, ok, "valid_loss", f"{v} valid", color)
        band(a_acc, ok, "train_acc", f"{v} train", color)
        band(a_acc, ok, "valid_acc", f"{v} valid", color)
        for ax in (a_loss, a_acc):  # train dashed, valid solid
            ax.lines[-2].set_linestyle("--")
        a = analysis.get(v, {})
        if a.get("loss_gap"):
            x = np.arange(1, len(a["loss_gap"]) + 1)
            a_gap.plot(x, a["loss_gap"], color=color, label=v)
        labels.append(v)
        secs.append(a.get("seconds_per_epoch_mean") or 0.0)
        errs.append(a.get("seconds_per_epoch_std") or 0.0)
    a_loss.set(xlabel="epoch", ylabel="cross-entropy loss", title="loss: train (dashed, dropout on) vs valid",
               yscale="log")
    a_acc.set(xlabel="epoch", ylabel="accuracy", title="accuracy: train (dashed, dropout on) vs valid")
    a_gap.axhline(0, color="k", lw=0.8)
    a_gap.set(xlabel="epoch", ylabel="valid loss − train loss", title="generalisation gap")
    for ax in (a_loss, a_acc, a_gap):
        _epoch_axis(ax)
    a_sec.bar(labels, secs, yerr=errs, color=[_color(i) for i in range(len(labels))], capsize=4)
    a_sec.set(ylabel="seconds per epoch", title="training time per epoch (mean ± std)")
    for ax in (a_loss, a_acc, a_gap, a_sec):
        _finish(ax, legend=ax is not a_sec)
    save(fig, out)
    return fig


def _stage_variants(record: dict, stage: str) -> list[str]:
    return list(dict.fromkeys(r["variant"] for r in record["runs"] if r.get("stage") == stage))


def plot_optimizer_curves(record: dict, out=None, stages=("report", "tuned")):
    """Loss per iteration for all optimizers on one plot (report settings / tuned), and valid accuracy per epoch.

    ``stages=("report",)`` with runs marked ``stage: report`` draws one column (the course arm's settings).
    """
    n = len(stages)
    fig, axes = new_figure(n, 2, size=(5.6, 3.8))
    for col, stage in enumerate(stages):
        a_it, a_ep = axes[col], axes[n + col]
        for i, v in enumerate(_stage_variants(record, stage)):
            ok, color = runs_of(record, v), _color(i)
            div = runs_of(record, v, status=("diverged",))
            lr = (ok or div)[0]["config"]["lr"] if (ok or div) else None
            label = v if stage == "report" else f"{v[len('tuned_'):]} (lr {lr:g})"
            band(a_it, ok, "train_loss", label + (" — diverged" if div and not ok else ""), color,
                 x_key="step", source="iterations")
            if div:
                _mark_diverged(a_it, div, color)
                if not ok:
                    a_it.plot([], [], "x", color=color, label=label + " (diverged)")
            band(a_ep, ok, "valid_acc", label, color)
        what = "the report's settings" if stage == "report" else "tuned learning rates"
        a_it.set(xlabel="iteration", ylabel="train loss (cross entropy)", yscale="log",
                 title=f"training loss per iteration, {what}")
        a_ep.set(xlabel="epoch", ylabel="valid accuracy", title=f"valid accuracy per epoch, {what}")
        _epoch_axis(a_ep)
        for ax in (a_it, a_ep):
            _finish(ax)
    save(fig, out)
    return fig


def plot_optimizer_sweeps(record: dict, out=None):
    """One small panel per optimizer: best valid accuracy of its sweep vs learning rate, the choice starred."""
    analysis = record.get("analysis", {})
    sweep, choice = analysis.get("sweep", {}), analysis.get("choice", {})
    opts = list(sweep)
    fig, axes = new_figure(max(len(opts), 1), 1, size=(2.9, 2.8))
    for i, opt in enumerate(opts):
        ax, color = axes[i], _color(i)
        pts = sweep[opt]
        good = [(p["lr"], p["valid_acc"]) for p in pts if p["status"] == "ok" and p["valid_acc"] is not None]
        bad = [p["lr"] for p in pts if p["status"] != "ok"]
        if good:
            ax.plot(*zip(*good), "o-", color=color, ms=4)
        floor = min([a for _, a in good], default=0.1)
        for lr in bad:
            ax.plot([lr], [floor], "x", color="k", ms=8, mew=2, label="diverged/failed" if lr == bad[0] else None)
        c = choice.get(opt, {})
        if c.get("lr") is not None:
            ax.plot([c["lr"]], [c["valid_acc"]], "*", color="gold", mec="k", ms=14, label=f"chosen {c['lr']:g}")
        _lr_axis(ax, [p["lr"] for p in pts])
        ax.set(xlabel="learning rate", ylabel="best valid accuracy" if i == 0 else None, title=opt)
        _finish(ax)
    epochs = analysis.get("sweep_epochs")
    fig.suptitle(f"learning-rate sweeps (1 seed{f', {epochs} epochs' if epochs else ''}, valid only)", fontsize=10)
    save(fig, out)
    return fig


def plot_hparams(record: dict, out=None):
    """Valid accuracy vs learning rate (per hidden size) and vs hidden size, and per epoch at the chosen lr."""
    a = record.get("analysis", {})
    grid = [t for t in a.get("grid", []) if t["valid_acc"] is not None]
    choice = a.get("choice")
    fig, (a_lr, a_h, a_e) = new_figure(3, 1, size=(4.4, 3.4))
    hidden_lr = sorted({t["hidden"] for t in grid if t["stage"] == "grid-lr"})
    for i, h in enumerate(hidden_lr):
        pts = sorted((t["lr"], t["valid_acc"]) for t in grid if t["hidden"] == h and t["stage"] == "grid-lr")
        a_lr.plot(*zip(*pts), "o-", color=_color(i), ms=4, label=f"{h} units")
    _lr_axis(a_lr, [t["lr"] for t in grid])
    a_lr.set(xlabel="learning rate (SGD)", ylabel="best valid accuracy over epochs", title="valid accuracy vs lr")
    if choice:
        at = sorted((t["hidden"], t["valid_acc"]) for t in grid if abs(t["lr"] - choice["lr"]) < 1e-12)
        if at:
            a_h.plot(*zip(*at), "o-", color=_color(0), ms=4, label=f"lr {choice['lr']:g}")
        for ax, x in ((a_lr, choice["lr"]), (a_h, choice["hidden"])):
            ax.plot([x], [choice["valid_acc"]], "*", color="gold", mec="k", ms=15,
                    label=f"chosen: lr {choice['lr']:g}, {choice['hidden']} units, "
                          f"{choice['epochs']} epoch{'s' * (choice['epochs'] != 1)}")
        rows = sorted((t for t in grid if abs(t["lr"] - choice["lr"]) < 1e-12), key=lambda t: t["hidden"])
        if rows:
            n = max(len(t["curve"]) for t in rows)
            z = np.full((len(rows), n), np.nan)
            for j, t in enumerate(rows):
                z[j, :len(t["curve"])] = t["curve"]
            im = a_e.imshow(z, aspect="auto", origin="lower", cmap="viridis",
                            extent=(0.5, n + 0.5, -0.5, len(rows) - 0.5))
            a_e.set_yticks(range(len(rows)), [str(t["hidden"]) for t in rows], fontsize=7)
            j = next(k for k, t in enumerate(rows) if t["hidden"] == choice["hidden"])
            a_e.plot([choice["epochs"]], [j], "*", color="gold", mec="k", ms=14)
            fig.colorbar(im, ax=a_e, label="valid accuracy")
            _epoch_axis(a_e)
        a_e.set(xlabel="epoch", ylabel="hidden units", title=f"valid accuracy per epoch at lr {choice['lr']:g}")
    a_h.set(xlabel="hidden units (both layers)", ylabel="best valid accuracy over epochs",
            title="valid accuracy vs hidden size")
    for ax in (a_lr, a_h):
        _finish(ax)
    save(fig, out)
    return fig
