"""Figures of the ``practice`` experiment (source 002's practices, source 000's k-fold remark), from its results record.

Same conventions as ``plots.common``: each function returns a ``matplotlib.figure.Figure`` built without pyplot
and saves it when ``out`` is given; nothing is retrained.

    python -m paddle_mnist report
"""
from __future__ import annotations

import numpy as np

from paddle_mnist.plots.common import COLORS, band, new_figure, runs_of, save

GD_ARMS = (("gd-batch", "batch (50,000)"), ("gd-mini-batch", "mini-batch (100)"), ("gd-stochastic", "stochastic (1)"))


def _dots(ax, i: int, values, color) -> None:
    """A bar at the mean and one dot per seed at position ``i``."""
    values = [v for v in values if v is not None]
    if not values:
        return
    ax.bar(i, np.mean(values), color=color, alpha=0.35, width=0.6)
    ax.plot(np.full(len(values), i) + np.linspace(-0.12, 0.12, len(values)), values, "o", color=color, ms=4)


def _finish(fig, out, axes, legends=True):
    """Grid on every axis, a legend on those ``legends`` marks (True: all), save; the figure."""
    for i, ax in enumerate(axes):
        ax.grid(alpha=0.3)
        if legends is True or i in legends:
            ax.legend(fontsize=8)
    save(fig, out)
    return fig


# ------------------------------------------------------------------ 002 §7
def plot_ewa(record: dict, out=None):
    """The first seed's year with the corrected averages; the first 40 days with and without correction;
    roughness and lag per beta over every seed."""
    runs = runs_of(record, "ewa")
    fig, (a1, a2, a3) = new_figure(3, 1, size=(4.6, 3.4))
    if not runs:
        save(fig, out)
        return fig
    s = runs[0]["series"]
    betas = list(runs[0]["betas"])
    days = np.arange(1, len(s["signal"]) + 1)
    a1.plot(days, s["observed"], ".", color="0.6", ms=2.5, label="observed (noisy)")
    a1.plot(days, s["signal"], color="k", lw=1, ls="--", label="noise-free curve")
    for i, b in enumerate(betas):
        a1.plot(days, s[f"{b}-corrected"], color=COLORS[i], lw=1.5, label=f"β={b} (corrected)")
    a1.set(xlabel="day", ylabel="°F", title=f"Exponentially weighted averages (seed {runs[0]['seed']})")
    first = 40
    a2.plot(days[:first], s["signal"][:first], color="k", lw=1, ls="--", label="noise-free curve")
    a2.plot(days[:first], s["observed"][:first], ".", color="0.6", ms=4)
    for i, b in enumerate(betas):
        a2.plot(days[:first], s[b][:first], color=COLORS[i], lw=1.2, ls=":", label=f"β={b}, uncorrected")
        a2.plot(days[:first], s[f"{b}-corrected"][:first], color=COLORS[i], lw=1.6)
    a2.set(xlabel="day", ylabel="°F", title="The first days: uncorrected (dotted) vs corrected (solid)")
    for i, b in enumerate(betas):
        _dots(a3, i, [r["betas"][b]["roughness"] for r in runs], COLORS[i])
    a3.set(xticks=range(len(betas)), xticklabels=[f"β={b}" for b in betas], ylabel="roughness (°F per day)",
           title="Roughness (bars) and lag (right axis, ×)")
    lag = a3.twinx()
    lag.plot(range(len(betas)), [np.mean([r["betas"][b]["lag"] for r in runs]) for b in betas], "kx-", ms=7)
    lag.set(ylabel="lag (days)")
    return _finish(fig, out, (a1, a2, a3), legends=(0, 1))


# ------------------------------------------------------------------ 002 §3-5
def plot_gd_batch(record: dict, out=None):
    """Probe train loss against epochs and against training seconds (one line per seed), and the jitter."""
    fig, (a1, a2, a3) = new_figure(3, 1, size=(4.6, 3.4))
    for i, (variant, label) in enumerate(GD_ARMS):
        for j, r in enumerate(runs_of(record, variant)):
            h = r["history"]
            kw = dict(color=COLORS[i], lw=1.2, alpha=0.8, label=label if j == 0 else None)
            a1.plot(np.maximum(h["epoch"], 1e-5), h["train_loss"], **kw)
            a2.plot(np.maximum(h["seconds"], 1e-4), h["train_loss"], **kw)
            if r.get("epoch_seconds"):
                a2.axvline(r["epoch_seconds"], color=COLORS[i], lw=0.6, ls=":")
        _dots(a3, i, [r["jitter"] for r in runs_of(record, variant)], COLORS[i])
    a1.set(xscale="log", xlabel="epochs (passes over the train split)", ylabel="train loss (every 10th image)",
           title="Per epoch")
    a2.set(xscale="log", xlabel="training seconds (dotted: mini-batch's first epoch)", ylabel="train loss",
           title="Per second of wall time")
    a3.set(yscale="log", xticks=range(len(GD_ARMS)), xticklabels=[lab for _, lab in GD_ARMS],
           ylabel="mean |second difference| of step losses", title="Jitter of the per-step loss")
    a3.tick_params(axis="x", labelsize=8)
    return _finish(fig, out, (a1, a2, a3), legends=(0, 1))


# ------------------------------------------------------------------ 002 §11
def plot_lr_decay(record: dict, out=None):
    """Mean batch loss per epoch (band: min-max over seeds) and the learning rate per epoch, both arms."""
    fig, (a1, a2) = new_figure(2, 1, size=(4.8, 3.4))
    for i, (variant, label) in enumerate((("lr-constant", "constant rate"), ("lr-decayed", "decayed rate"))):
        runs = runs_of(record, variant)
        band(a1, runs, "train_loss", label, COLORS[i])
        if runs:
            a2.plot(runs[0]["history"]["epoch"], runs[0]["history"]["lr"], "o-", color=COLORS[i], label=label)
    a1.set(xlabel="epoch", ylabel="mean batch loss of the epoch", title="Train loss per epoch")
    a2.set(xlabel="epoch", ylabel="learning rate", title="α0 / (1 + decay_rate · epoch) vs constant")
    return _finish(fig, out, (a1, a2))


# ------------------------------------------------------------------ 002 §12
def plot_input_standardise(record: dict, out=None):
    """RMS weight gradient per layer over the first steps, and the probe train loss against steps."""
    fig, (a1, a2) = new_figure(2, 1, size=(4.8, 3.4))
    for i, (variant, label) in enumerate((("input-raw", "raw pixels"), ("input-standardised", "standardised"))):
        runs = runs_of(record, variant)
        if not runs:
            continue
        layers = runs[0]["layers"]
        x = np.arange(1, len(layers) + 1) + (i - 0.5) * 0.15
        for j, r in enumerate(runs):
            a1.plot(x, r["early_grad_rms"], "o-" if j == 0 else "o", color=COLORS[i], ms=4, lw=1,
                    label=label if j == 0 else None, alpha=0.8)
        band(a2, runs, "train_loss", label, COLORS[i], x_key="step")
        a1.set_xticks(range(1, len(layers) + 1), [k.split(".")[0] for k in layers])
    a1.set(yscale="log", xlabel="layer (input → output)", ylabel="RMS weight gradient, first steps",
           title="Gradient size per layer (sigmoid net)")
    a2.set(xlabel="SGD step", ylabel="train loss (every 10th image)", title="Train loss")
    return _finish(fig, out, (a1, a2))


# ------------------------------------------------------------------ 000 §2.2
def plot_kfold(record: dict, out=None):
    """Mean CV / held-out / test accuracy per learning rate, and each seed's two final test accuracies."""
    runs = runs_of(record, "kfold")
    fig, (a1, a2) = new_figure(2, 1, size=(4.8, 3.4))
    if not runs:
        save(fig, out)
        return fig
    lrs = runs[0]["lrs"]
    for i, (key, label) in enumerate((("cv_acc", "5-fold CV accuracy"), ("holdout_acc", "held-out accuracy"),
                                      ("grid_test_acc", "test accuracy (retrained on the whole subset)"))):
        vals = np.array([r[key] for r in runs])
        a1.plot(lrs, vals.mean(axis=0), "o-", color=COLORS[i], label=label)
        if len(runs) > 1:
            a1.fill_between(lrs, vals.min(axis=0), vals.max(axis=0), color=COLORS[i], alpha=0.15, lw=0)
    a1.set(xscale="log", xlabel="learning rate", ylabel="accuracy", title="Choosing the rate (mean, min-max)")
    for r in runs:
        a2.plot([0, 1], [r["holdout_test_acc"], r["kfold_test_acc"]], "o-", color="0.5", lw=0.8)
        a2.annotate(f"seed {r['seed']}", (1.03, r["kfold_test_acc"]), fontsize=7, va="center")
    a2.set(xticks=[0, 1], xticklabels=["held-out split\n(trained on the rest)", "5-fold CV\n(retrained on all)"],
           xlim=(-0.3, 1.4), ylabel="test accuracy", title="Final models, per seed")
    return _finish(fig, out, (a1, a2), legends=(0,))
