"""Report section for the ``trajectories`` experiment, and what the numpy-from-scratch sections share.

``section_trajectories(ctx)`` takes the ``report.context.Context`` and returns markdown; all
numbers in the prose come from the results record (``ctx.load``), figures are drawn by
``plots.scratch`` into ``ctx.figure(...)``. ``NAMES`` and ``quick_note`` serve
``report.numpy_nets`` (the ``numpy`` section) and ``report.init`` too.

    python -m paddle_mnist report
"""
from __future__ import annotations

from paddle_mnist.format import missing, quick_note, table
from paddle_mnist.plots.scratch import plot_trajectories
from paddle_mnist.report.practice import saddle_part

NAMES = {"sgd": "SGD", "momentum": "Momentum", "nesterov": "Nesterov", "adagrad": "AdaGrad", "rmsprop": "RMSProp",
         "adam": "Adam"}


def section_trajectories(ctx) -> str:
    rec = ctx.load("trajectories")
    out = ["## Optimizer trajectories on z = x²/10 + y² (source 003)\n"]
    if rec is None:
        return out[0] + missing("trajectories")
    runs = rec["runs"]
    path, link = ctx.figure("trajectories")
    plot_trajectories(rec, path)
    check = rec.get("check", {})
    start = runs[0]["start"] if runs else [-7, 2]
    out.append(f"Every optimizer starts at ({start[0]:g}, {start[1]:g}) and takes {runs[0]['steps']} steps on the "
               "elongated bowl z = x²/10 + y² (gradient (x/5, 2y)), once with `numpy_optim` and once with "
               "`paddle.optimizer` on a float64 parameter of shape [2]; every hyperparameter other than the learning "
               "rate is Paddle's default.\n")
    if check:
        sx, sy = check["sgd_final"]
        px, py = check["sgd_paddle_final"]
        ex, ey = check["expected"]
        out.append(f"**Exact check**: plain SGD at lr 0.95 multiplies x by 1 - 0.95/5 = 0.81 and y by 1 - 2 x 0.95 "
                   f"= -0.9 per step, so after 20 steps it must sit at (-7 x 0.81^20, 2 x 0.9^20) = ({ex}, {ey}). "
                   f"numpy ends at ({sx}, {sy}), Paddle at ({px}, {py}): "
                   f"**{'passed' if check['passed'] else 'FAILED'}**. Over all paths the numpy and Paddle points "
                   f"differ by at most {check['max_numpy_paddle_diff']:.1e}.\n")
    out.append(f"![trajectories]({link})\n")
    rows = []
    for r in runs:
        xs = [p[0] for p in r["numpy"]]
        crossings = sum(1 for a, b in zip(xs, xs[1:]) if a * b < 0)
        below = next((i for i, z in enumerate(r["loss_path"]) if z < 0.1), None)
        rows.append([NAMES.get(r["optimizer"], r["optimizer"]), f"{r['lr']:g}",
                     f"({r['final'][0]:.4f}, {r['final'][1]:.4f})",
                     f"({r['paddle_final'][0]:.4f}, {r['paddle_final'][1]:.4f})", f"{r['max_abs_diff']:.1e}",
                     f"{r['final_loss']:.4f}", "never" if below is None else below, crossings])
    out.append(table(["optimizer", "lr", "numpy end (x, y)", "Paddle end (x, y)", "max numpy-Paddle diff",
                      "z at the end", "first step with z < 0.1", "times x crossed 0"], rows) + "\n")
    ranked = sorted(runs, key=lambda r: r["final_loss"])
    if len(ranked) >= 2:
        overshoot = [r for r in runs if sum(1 for a, b in zip([p[0] for p in r["numpy"]],
                                                              [p[0] for p in r["numpy"]][1:]) if a * b < 0)]
        out.append(f"After {runs[0]['steps']} steps {NAMES.get(ranked[0]['optimizer'])} is closest to the minimum "
                   f"(z = {ranked[0]['final_loss']:.4f}) and {NAMES.get(ranked[-1]['optimizer'])} furthest "
                   f"(z = {ranked[-1]['final_loss']:.4f}). SGD at 0.95 zig-zags across the steep y direction "
                   f"(y flips sign every step) while creeping along x; "
                   + (", ".join(NAMES.get(r["optimizer"]) for r in overshoot) + " overshoot the centre along x"
                      if overshoot else "no optimizer overshoots the centre along x")
                   + "; the adaptive methods (AdaGrad, RMSProp, Adam) rescale each coordinate, so their first step "
                     "heads almost diagonally instead of along the steep y axis.\n")
    out.append(saddle_part(ctx, rec))
    out.append(quick_note(rec))
    return "\n".join(out)
