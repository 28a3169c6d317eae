"""Figures of the ``numpy``, ``trajectories`` and ``init`` experiments, drawn from their results records.

Same conventions as ``plots.studies``: each function returns a
``matplotlib.figure.Figure`` built without pyplot and saves it when ``out`` is
given; nothing is retrained (the activation-function figure needs no record).

    python -m paddle_mnist report
"""
from __future__ import annotations

import numpy as np

from paddle_mnist.plots.common import COLORS, new_figure, save
from paddle_mnist.scratch.trajectories import saddle_loss
from paddle_mnist.studies.init import INIT_LABELS, grid_runs
from paddle_mnist.studies.numpy_nets import SOURCE_004_CURVES, SOURCE_004_ITERATIONS
# deferred: matplotlib (only when a figure is drawn)

ACTIVATION_FUNCTIONS = ("relu", "sigmoid", "tanh", "softplus")


def activation_values(name: str, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(f(x), f'(x))`` for relu, sigmoid, tanh and softplus (softplus' = sigmoid)."""
    sig = 1.0 / (1.0 + np.exp(-x))
    if name == "relu":
        return np.maximum(x, 0.0), (x > 0).astype(float)
    if name == "sigmoid":
        return sig, sig * (1 - sig)
    if name == "tanh":
        t = np.tanh(x)
        return t, 1 - t * t
    if name == "softplus":
        return np.logaddexp(0.0, x), sig
    raise ValueError(f"unknown activation {name!r}; choose from {ACTIVATION_FUNCTIONS}")


def plot_activation_functions(out=None):
    """relu, sigmoid, tanh and softplus on [-5, 5] with their derivatives (dashed), as in source 001."""
    x = np.linspace(-5, 5, 401)
    fig, axes = new_figure(2, 2, size=(4.2, 3.0))
    limits = {"relu": (-1, 5), "sigmoid": (-0.2, 1.2), "tanh": (-1.2, 1.2), "softplus": (-0.2, 6)}
    for ax, name in zip(axes, ACTIVATION_FUNCTIONS):
        f, df = activation_values(name, x)
        ax.plot(x, f, color=COLORS[1], lw=1.8, label=name)
        ax.plot(x, df, color=COLORS[0], lw=1.4, ls="--", label=f"{name}'")
        ax.set(ylim=limits[name], title=name, xlabel="x")
        ax.axhline(0, color="0.6", lw=0.6)
        ax.axvline(0, color="0.6", lw=0.6)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    save(fig, out)
    return fig


# ------------------------------------------------------------------ trajectories
def _toy_grid(xlim=(-8, 8), ylim=(-3, 3)):
    xs, ys = np.meshgrid(np.linspace(*xlim, 241), np.linspace(*ylim, 121))
    return xs, ys, xs**2 / 10.0 + ys**2


def plot_trajectories(record: dict, out=None):
    """One contour panel per optimizer: numpy path solid with dots, Paddle path dashed with crosses."""
    runs = record["runs"]
    xs, ys, zs = _toy_grid()
    levels = [0.05, 0.2, 0.5, 1, 2, 3, 5, 8, 12]
    ncols = 3
    nrows = max(1, -(-len(runs) // ncols))
    fig, axes = new_figure(ncols, nrows, size=(4.4, 2.6))
    for ax, (i, r) in zip(axes, enumerate(runs)):
        ax.contour(xs, ys, zs, levels=levels, colors="0.7", linewidths=0.7)
        ours, theirs = np.array(r["numpy"]), np.array(r["paddle"])
        color = COLORS[i % len(COLORS)]
        ax.plot(ours[:, 0], ours[:, 1], "-o", color=color, ms=3, lw=1.4, label="numpy")
        ax.plot(theirs[:, 0], theirs[:, 1], "--x", color="k", ms=5, lw=0.8, alpha=0.8, label="paddle.optimizer")
        ax.plot([0], [0], "*", color="gold", ms=10, mec="k", mew=0.5)
        fx, fy = r["final"]
        ax.set(xlim=(-8, 8), ylim=(-3, 3), title=f"{r['optimizer']} lr={r['lr']:g}: end ({fx:.3f}, {fy:.3f})")
        ax.title.set_fontsize(9)
        ax.legend(fontsize=7, loc="lower right")
    for ax in axes[len(runs):]:
        ax.set_visible(False)
    save(fig, out)
    return fig


def plot_steps_to_target(record: dict, out=None):
    """z per step (log scale) for every optimizer, the target z = 0.005 and the step each first reaches it."""
    st = record["steps_to_target"]
    fig, axes = new_figure(1, 1, size=(7.0, 3.8))
    ax = axes[0]
    for i, r in enumerate(x for x in record["runs"] if "loss_curve" in x):
        color = COLORS[i % len(COLORS)]
        ax.semilogy(r["loss_curve"], "-", color=color, lw=1.3, label=f"{r['optimizer']} lr={r['lr']:g}")
        hit = st["ours"].get(r["optimizer"])
        if hit is not None and hit < len(r["loss_curve"]):
            ax.plot([hit], [r["loss_curve"][hit]], "o", color=color, ms=5)
    ax.axhline(st["target"], color="k", lw=0.8, ls="--")
    ax.set(xlabel="step", ylabel="z = x²/10 + y²", ylim=(1e-6, 20),
           title=f"steps to z ≤ {st['target']:g} (dots; dashed: the target)")
    ax.legend(fontsize=7, ncol=2, loc="lower left")
    save(fig, out)
    return fig


def plot_saddle(record: dict, out=None):
    """SGD and Momentum paths near the saddle of z = x² + y⁴/4 − y²/2, and their distance from it per step."""
    sad = record.get("saddle") or {"runs": [], "settings": {"radius": 0.5}}
    fig, (a1, a2) = new_figure(2, 1, size=(4.8, 3.6))
    xs, ys = np.meshgrid(np.linspace(-1.1, 1.1, 221), np.linspace(-1.3, 1.3, 261))
    a1.contour(xs, ys, saddle_loss(xs, ys), levels=np.linspace(-0.25, 0.5, 13), colors="0.75", linewidths=0.7)
    a1.add_patch(_circle(sad["settings"]["radius"]))
    names = {"sgd": ("SGD", COLORS[0]), "momentum": ("Momentum", COLORS[1])}
    seen = set()
    for r in sad["runs"]:
        label, color = names[r["optimizer"]]
        path = np.array(r["path"])
        first = r["optimizer"] not in seen
        seen.add(r["optimizer"])
        a1.plot(path[:, 0], path[:, 1], "-", color=color, lw=1.1, label=label if first else None)
        a1.plot(*path[0], "o", color="k", ms=3)
        a2.semilogy(np.hypot(path[:, 0], path[:, 1]), color=color, lw=1.1, label=label if first else None)
    a1.plot([0, 0], [-1, 1], "*", color="gold", ms=10, mec="k", mew=0.5)
    a1.set(xlim=(-1.1, 1.1), ylim=(-1.3, 1.3), xlabel="x", ylabel="y", aspect="equal",
           title="z = x² + y⁴/4 − y²/2 (minima ★)")
    a2.axhline(sad["settings"]["radius"], color="k", lw=0.8, ls="--", label="left the saddle")
    a2.set(xlabel="step", ylabel="distance from the saddle", title="Distance from the saddle")
    for ax, where in ((a1, "upper right"), (a2, "lower right")):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc=where)
    save(fig, out)
    return fig


def _circle(radius: float):
    from matplotlib.patches import Circle

    return Circle((0, 0), radius, fill=False, ls="--", lw=0.8, color="k")


# --------------------------------------------------------------------- init
def plot_init_histograms(record: dict, out=None):
    """Rows: activations; columns: initialisations; every hidden layer's activation histogram at init."""
    hists = record["histograms"]
    acts = list(hists)
    inits = list(hists[acts[0]])
    fig, axes = new_figure(len(inits), len(acts), size=(3.0, 2.2))
    for r, act in enumerate(acts):
        for c, init in enumerate(inits):
            ax = axes[r * len(inits) + c]
            layers = hists[act][init]
            for k, h in enumerate(layers):
                counts = np.asarray(h["counts"], dtype=float)
                total = counts.sum()
                frac = counts / total if total else counts
                ax.stairs(frac, h["edges"], color=COLORS[k % len(COLORS)], lw=1.1, label=f"layer {k + 1}")
            if act == "relu":
                note = "zeros " + "/".join(f"{100 * h['zero']:.0f}" for h in layers) + "%"
            else:
                note = "saturated " + "/".join(f"{100 * h['saturated']:.0f}" for h in layers) + "%"
            ax.set_title(f"{act}, {INIT_LABELS.get(init, init)}", fontsize=9)
            ax.text(0.02, 0.97, note, transform=ax.transAxes, fontsize=6, va="top")
            ax.tick_params(labelsize=7)
            if not any(sum(h["counts"]) for h in layers):
                ax.text(0.5, 0.5, "all values 0", transform=ax.transAxes, ha="center", fontsize=8)
                ax.set_ylim(0, 1)
            if r == len(acts) - 1 or act == "relu":
                ax.set_xlabel("log10(activation), values > 0" if layers[0].get("log10") else "activation",
                              fontsize=8)
            if c == 0:
                ax.set_ylabel("fraction of values", fontsize=8)
    axes[0].legend(fontsize=6, loc="center right")
    save(fig, out)
    return fig


def plot_init_accuracy(record: dict, out=None):
    """Valid accuracy after the short budget: one panel per optimizer, bars per (activation, init) (the grid)."""
    runs = grid_runs(record)
    opts = list(dict.fromkeys(r["optimizer"] for r in runs))
    acts = list(dict.fromkeys(r["activation"] for r in runs))
    inits = list(dict.fromkeys(r["init"] for r in runs))
    fig, axes = new_figure(len(opts), 1, size=(5.2, 3.4))
    width = 0.8 / len(inits)
    for ax, opt in zip(axes, opts):
        for j, init in enumerate(inits):
            for i, act in enumerate(acts):
                r = next((r for r in runs if (r["optimizer"], r["activation"], r["init"]) == (opt, act, init)), None)
                x = i + (j - (len(inits) - 1) / 2) * width
                acc = r["best_valid_acc"] if r and r["status"] == "ok" else None
                ax.bar(x, acc or 0.0, width, color=COLORS[j % len(COLORS)],
                       label=INIT_LABELS.get(init, init) if i == 0 else None)
                if acc is None:
                    ax.text(x, 0.02, "diverged" if r and r["status"] == "diverged" else "n/a", rotation=90,
                            fontsize=7, ha="center", va="bottom")
        ax.axhline(0.1, color="k", lw=0.8, ls=":", label="chance (10%)")
        lr = next(r["config"]["lr"] for r in runs if r["optimizer"] == opt)
        ax.set(xticks=range(len(acts)), xticklabels=acts, ylim=(0, 1), ylabel="valid accuracy",
               title=f"{opt} lr={lr:g}, {record.get('setup', {}).get('steps', '?')} steps")
        ax.grid(alpha=0.3, axis="y")
    axes[-1].legend(fontsize=7, loc="upper left", ncols=2)
    save(fig, out)
    return fig


# -------------------------------------------------------------------- numpy
def _seed_band(runs: list[dict], key: str, fn=lambda v: v):
    """Iterations, mean and std over seeds of ``fn(history[key])``, over the points every run has."""
    n = min(len(r["history"][key]) for r in runs)
    vals = np.array([[fn(v) for v in r["history"][key][:n]] for r in runs], dtype=float)
    return runs[0]["history"]["iteration"][:n], vals.mean(axis=0), vals.std(axis=0, ddof=1 if len(runs) > 1 else 0)


def plot_numpy_optimizers(record: dict, out=None):
    """Train loss and valid error (log scales) every 500 iterations for every numpy optimizer: the mean over seeds,
    with a band of ± one standard deviation over seeds.

    The valid-error panel also shows source 004's printed test error (thin dotted, same colour).
    """
    fig, (a1, a2) = new_figure(2, size=(6.0, 4.2))
    groups = {}
    for r in record["runs"]:
        if r["status"] == "ok" and r["history"]["iteration"]:
            groups.setdefault(r["variant"], []).append(r)
    last = max((r["history"]["iteration"][-1] for g in groups.values() for r in g), default=0)
    for i, (variant, runs) in enumerate(groups.items()):
        color = COLORS[i % len(COLORS)]
        ls = "--" if runs[0]["init"] != "xavier" else "-"
        label = f"{variant} ({runs[0]['lr']:g}, {len(runs)} seed{'s' if len(runs) > 1 else ''})"
        for ax, key, fn in ((a1, "train_loss", lambda v: v), (a2, "valid_acc", lambda v: 1 - v)):
            it, m, sd = _seed_band(runs, key, fn)
            ax.plot(it, m, color=color, ls=ls, lw=1.5, label=label)
            if len(runs) > 1:
                ax.fill_between(it, np.maximum(m - sd, 1e-4), m + sd, color=color, alpha=0.2, lw=0)
        seed = SOURCE_004_CURVES.get(variant)
        if seed and runs[0]["init"] == "xavier":
            pts = [(it, 1 - v) for it, v in zip(SOURCE_004_ITERATIONS[1:], seed[1:]) if it <= max(last, 1)]
            if pts:
                a2.plot(*zip(*pts), color=color, ls=":", lw=1.0, marker=".", ms=3, alpha=0.8)
    a1.set(xlabel="iteration", ylabel="train loss (mean since last point)", yscale="log",
           title="numpy 784-300-300-10: train loss")
    n = record["runs"][0].get("curve_valid", "?") if record["runs"] else "?"
    a2.set(xlabel="iteration", ylabel=f"valid error (first {n} images)", yscale="log",
           title="numpy 784-300-300-10: valid error")
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    a1.legend(fontsize=7)
    a2.legend(handles=[Line2D([], [], color="0.3", lw=1.5, label="ours: valid error, mean over seeds"),
                       Patch(color="0.3", alpha=0.2, label="± one std over seeds"),
                       Line2D([], [], color="0.3", ls="--", lw=1.5, label="ours from N(0, 0.01) weights"),
                       Line2D([], [], color="0.3", ls=":", marker=".", lw=1.0, label="source 004: test error")],
              fontsize=7)
    for ax in (a1, a2):
        ax.grid(alpha=0.3, which="both")
    save(fig, out)
    return fig


def plot_assignment_search(search: dict, out=None):
    """The assignment net's search: valid accuracy per epoch, and the best valid accuracy per (lr, hidden)."""
    fig, (a1, a2) = new_figure(2)
    lrs = list(search["grid"]["lr"])
    hiddens = sorted(search["grid"]["hidden"])
    styles = ["-", "--", ":", "-."]
    for r in search["runs"]:
        h = r["history"]
        color = COLORS[lrs.index(r["lr"]) % len(COLORS)]
        ls = styles[hiddens.index(r["hidden"]) % len(styles)]
        a1.plot(h["epoch"], h["valid_acc"], color=color, ls=ls, marker="o", ms=3,
                label=f"lr {r['lr']:g}, {r['hidden']} hidden")
    c = search["choice"]
    a1.plot([c["epochs"]], [c["valid_acc"]], "*", color="gold", mec="k", ms=14, label="chosen")
    a1.axhline(search["baseline"]["valid_acc"], color="k", ls=":", lw=0.8, label="mean-label baseline")
    a1.set(xlabel="epoch", ylabel="valid accuracy (rounded output)", title="sigmoid / squared error / 1 output")
    a1.grid(alpha=0.3)
    a1.legend(fontsize=6, ncols=2)
    grid = np.full((len(hiddens), len(lrs)), np.nan)
    for r in search["runs"]:
        if r["best_valid_acc"] is not None:
            grid[hiddens.index(r["hidden"]), lrs.index(r["lr"])] = r["best_valid_acc"]
    a2.imshow(grid, cmap="viridis", vmin=0, vmax=1, origin="lower", aspect="auto")
    for i in range(len(hiddens)):
        for j in range(len(lrs)):
            text = "div." if np.isnan(grid[i, j]) else f"{100 * grid[i, j]:.1f}"
            bold = hiddens[i] == c["hidden"] and lrs[j] == c["lr"]
            a2.text(j, i, text, ha="center", va="center", fontsize=9, color="w",
                    fontweight="bold" if bold else "normal")
    a2.set(xticks=range(len(lrs)), xticklabels=[f"{v:g}" for v in lrs], yticks=range(len(hiddens)),
           yticklabels=hiddens, xlabel="learning rate", ylabel="hidden units per layer",
           title="best valid accuracy (%) over epochs")
    save(fig, out)
    return fig
