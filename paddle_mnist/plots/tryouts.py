"""The curves of a user's try-out runs side by side: valid accuracy and train loss per epoch, one line per run.

    python -m paddle_mnist report --results-dir runs/results    # draws runs/figures/tryouts_curves.png
"""
from __future__ import annotations

from paddle_mnist.plots.common import COLORS, new_figure, save
# deferred: matplotlib (only when a figure is drawn)


def plot_tryouts(runs: list[tuple[str, dict]], out=None):
    """``runs``: ``(label, run record)`` pairs; each run's own curves (not a mean), labelled as in ``runs/``."""
    from matplotlib.ticker import MaxNLocator

    fig, (acc, loss) = new_figure(2, size=(6.0, 4.2))
    for i, (label, run) in enumerate(runs):
        h = run.get("history") or {}
        if not h.get("epoch"):
            continue
        color, ls = COLORS[i % len(COLORS)], ("-", "--", ":")[(i // len(COLORS)) % 3]
        acc.plot(h["epoch"], [100 * v for v in h["valid_acc"]], color=color, ls=ls, marker="o", ms=3, label=label)
        loss.plot(h["epoch"], h["train_loss"], color=color, ls=ls, marker="o", ms=3, label=label)
    acc.set(xlabel="epoch", ylabel="valid accuracy (%)", title="valid accuracy")
    loss.set(xlabel="epoch", ylabel="train loss", title="train loss (epoch mean)")
    for ax in (acc, loss):
        ax.grid(alpha=0.3)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if runs:
        fig.legend(*acc.get_legend_handles_labels(), loc="outside lower center", ncols=2, fontsize=7, frameon=False)
    save(fig, out)
    return fig
