"""The figure of source 003's 表1 (initialisation methods and where they apply), drawn from the ``init`` record.

Left: test accuracy after one epoch of each 表1 row's net, every seed a dot, the mean a bar, the eval split's
majority class dotted. Middle: each multi-layer row's activation std per hidden layer over layer 1's (the
"正确" band [1/2, 2] shaded). Right: the shares the words "凹形" and "偏向0" are measured by, per layer.
Nothing is retrained.

    python -m paddle_mnist report      # draws reports/figures/init_table1.png
"""
from __future__ import annotations

import numpy as np

from paddle_mnist.plots.common import COLORS, new_figure, save
from paddle_mnist.studies.init import INIT_LABELS, MAJORITY_CLASS as CHANCE, TABLE1, table1_variant
# deferred: matplotlib (only when a figure is drawn)


def _row_label(i: int) -> str:
    net, act, init = TABLE1[i]
    words = {"784-10": "784-10", "784-100-10": "1x100"}.get(net, "5x100")
    return f"{i + 1}: {words} {'' if act == 'none' else act + ' '}{INIT_LABELS.get(init, init)}"


def _mean_layers(shapes: list[dict], key: str, relative: bool = False) -> np.ndarray:
    vals = np.array([[lay[key] for lay in s["layers"]] for s in shapes], dtype=float)
    if relative:
        vals = vals / vals[:, :1]
    return vals.mean(axis=0)


def plot_init_table(record: dict, out=None):
    """Accuracy per 表1 row (seeds as dots), std per layer relative to layer 1, and the shape shares per layer."""
    fig, (a1, a2, a3) = new_figure(3, 1, size=(4.4, 3.6))
    for i, row in enumerate(TABLE1):
        accs = [r["test_acc"] for r in record["runs"] if r["variant"] == table1_variant(*row) and r["status"] == "ok"
                and r.get("test_acc") is not None]
        if accs:
            a1.bar(i, np.mean(accs), 0.6, color=COLORS[i % len(COLORS)], alpha=0.45)
            a1.plot([i] * len(accs), accs, "o", ms=3, color=COLORS[i % len(COLORS)])
    a1.axhline(CHANCE, color="k", lw=0.8, ls=":", label=f"majority class ({100 * CHANCE:.2f}%)")
    a1.set(xticks=range(len(TABLE1)), ylim=(0, 1), ylabel="test accuracy after one epoch (SGD 0.1)",
           title="source 003 Table 1 rows: accuracy, every seed")
    a1.set_xticklabels([_row_label(i) for i in range(len(TABLE1))], fontsize=7, rotation=35, ha="right")
    a1.legend(fontsize=7, loc="upper left")
    shapes = (record.get("table1") or {}).get("shapes") or {}
    for k, (key, per_seed) in enumerate(shapes.items()):
        rel = _mean_layers(per_seed, "std", relative=True)
        a2.plot(range(1, len(rel) + 1), rel, "o-", color=COLORS[(k + 3) % len(COLORS)], label=key)
    a2.axhspan(0.5, 2.0, color="0.85", zorder=0, label="'correct': within a factor 2")
    a2.set(ylim=(0, 2.1), xlabel="hidden layer", ylabel="activation std / layer 1's (mean over seeds)",
           title="spread through the layers, at init")
    a2.legend(fontsize=7)
    if "sigmoid/normal" in shapes:
        s = shapes["sigmoid/normal"]
        x = range(1, len(s[0]["layers"]) + 1)
        a3.plot(x, _mean_layers(s, "edge"), "o-", color=COLORS[3], label="sigmoid N(0, 1): share in [0, .1) ∪ (.9, 1]")
        a3.plot(x, _mean_layers(s, "centre"), "o--", color=COLORS[3], label="sigmoid N(0, 1): share in [.4, .6]")
    for key, color in (("relu/xavier", COLORS[5]), ("relu/msra", COLORS[6])):
        if key in shapes:
            s = shapes[key]
            a3.plot(range(1, len(s[0]["layers"]) + 1), _mean_layers(s, "near_zero"), "s-", color=color,
                    label=f"{key}: share ≤ 0.1 x layer 1's std")
    a3.set(ylim=(0, 1), xlabel="hidden layer", ylabel="share of activations (mean over seeds)",
           title="U-shape (row 4) and lean to 0 (rows 6, 7)")
    a3.legend(fontsize=6, loc="lower right", bbox_to_anchor=(1, 0.08))
    depth = len(next(iter(shapes.values()))[0]["layers"]) if shapes else 0
    for ax in (a2, a3):
        ax.set_xticks(range(1, depth + 1))
    for ax in (a1, a2, a3):
        ax.grid(alpha=0.3)
    save(fig, out)
    return fig
