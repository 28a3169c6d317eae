"""Plot functions: each reads a results record (``reports/results/*.json``) and never retrains.

Every function returns a ``matplotlib.figure.Figure`` (shown inline in notebooks)
and saves it when ``out`` is given. No pyplot state is touched.

    python -m paddle_mnist report      # redraws reports/figures/*.png
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
# deferred: matplotlib (only when a figure is drawn)

COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#17becf"]


def new_figure(ncols: int = 1, nrows: int = 1, size=(5.0, 3.6)):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(size[0] * ncols, size[1] * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes.ravel()


def save(fig, out) -> None:
    if out is not None:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, dpi=110)


def runs_of(record: dict, variant: str | None = None, status=("ok",)) -> list[dict]:
    return [r for r in record["runs"] if (variant is None or r["variant"] == variant) and r["status"] in status]


def variants_of(record: dict) -> list[str]:
    return list(dict.fromkeys(r["variant"] for r in record["runs"]))


def band(ax, runs: list[dict], key: str, label: str, color, x_key: str = "epoch", source: str = "history",
         ls: str = "-") -> None:
    """Mean over seeds as a line, min-max over seeds as a shaded band (runs cut to the shortest)."""
    series = [r[source][key] for r in runs if r[source].get(key)]
    if not series:
        return
    n = min(len(s) for s in series)
    y = np.array([s[:n] for s in series], dtype=float)
    x = np.array(runs[0][source][x_key][:n], dtype=float)
    ax.plot(x, y.mean(axis=0), color=color, label=label, lw=1.6, ls=ls)
    if len(series) > 1:
        ax.fill_between(x, y.min(axis=0), y.max(axis=0), color=color, alpha=0.2, lw=0)


def plot_learning_curves(record: dict, out=None):
    """Train loss, valid loss and valid accuracy per epoch (mean over seeds, band = min..max)."""
    fig, (a1, a2) = new_figure(2)
    for i, variant in enumerate(variants_of(record)):
        runs = runs_of(record, variant)
        color = COLORS[i % len(COLORS)]
        suffix = "" if variant == "default" else f" ({variant})"
        band(a1, runs, "train_loss", "train loss" + suffix, color)
        band(a1, runs, "valid_loss", "valid loss" + suffix, color, ls="--")
        band(a2, runs, "valid_acc", "valid accuracy" + suffix, color)
    a1.set(xlabel="epoch", ylabel="cross-entropy loss", title=f"{record['title']}: loss")
    a2.set(xlabel="epoch", ylabel="accuracy", title=f"{record['title']}: valid accuracy")
    for ax in (a1, a2):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    save(fig, out)
    return fig
