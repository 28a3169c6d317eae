"""Figure of source 002's zig-zag test (the ``trajectories`` record's ``oscillation`` part), drawn from the record.

Same conventions as ``plots.scratch``: the function returns a ``matplotlib.figure.Figure`` built without pyplot and
saves it when ``out`` is given; nothing is recomputed.

    python -m paddle_mnist report
"""
from __future__ import annotations

import numpy as np

from paddle_mnist.plots.common import COLORS, new_figure, save
from paddle_mnist.scratch.trajectories import toy_loss

ARM_LABELS = {"gd": "gradient descent", "momentum-002": "Momentum, 002's rule (Paddle lr α(1 − β))",
              "momentum-paddle": "Momentum, Paddle's rule at lr α"}


def plot_zigzag(record: dict, out=None, rate=None, seed=None):
    """At one rate (default: the largest) from one seed's start (default: the first): the three arms' paths on the bowl
    z = x²/10 + y², and their y coordinate per step (the steep axis, where gradient descent zig-zags)."""
    part = record.get("oscillation") or {"runs": [], "settings": {"rates": [0.95]}}
    rate = max(part["settings"]["rates"]) if rate is None else rate
    runs = [r for r in part["runs"] if r["rate"] == rate and r.get("path")]
    seed = min((r["seed"] for r in runs), default=0) if seed is None else seed
    fig, (a1, a2) = new_figure(2, 1, size=(4.8, 3.6))
    xs, ys = np.meshgrid(np.linspace(-11, 11, 221), np.linspace(-3.5, 3.5, 141))
    a1.contour(xs, ys, toy_loss(xs, ys), levels=12, colors="0.75", linewidths=0.7)
    for i, (arm, label) in enumerate(ARM_LABELS.items()):
        path = next((np.array(r["path"]) for r in runs if r["seed"] == seed and r["arm"] == arm), None)
        if path is None:
            continue
        a1.plot(path[:, 0], path[:, 1], ".-", color=COLORS[i], lw=1.0, ms=3, label=label)
        a2.plot(path[:, 1], ".-", color=COLORS[i], lw=1.0, ms=3, label=label)
    a1.plot([0], [0], "*", color="gold", ms=10, mec="k", mew=0.5)
    a1.set(xlabel="x", ylabel="y", title=f"z = x²/10 + y², α = {rate:g}, seed {seed}'s start")
    a2.axhline(0, color="k", lw=0.8)
    a2.set(xlabel="step", ylabel="y (the steep axis)", title="y per step: a sign change is a zig-zag")
    for ax in (a1, a2):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper right")
    save(fig, out)
    return fig
