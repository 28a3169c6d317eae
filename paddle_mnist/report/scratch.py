"""Report section for the ``trajectories`` experiment, and what the numpy-from-scratch sections share.

``section_trajectories(ctx)`` fills the shared section skeleton (``report.context.section``); all
numbers in the prose come from the results record, figures are drawn by ``plots.scratch``
through ``ctx.draw``; optimizer names are ``studies.claim_rules_traj.NAMES``.

    python -m paddle_mnist report
"""
from __future__ import annotations

from paddle_mnist.format import table
from paddle_mnist.report.context import section, table_part
from paddle_mnist.plots.scratch import plot_steps_to_target, plot_trajectories
from paddle_mnist.report.plateau import plateau_part
from paddle_mnist.report.practice import saddle_part
from paddle_mnist.studies.claim_rules_traj import NAMES



def _crossings(run: dict) -> int:
    """How many times the numpy path's x changed sign."""
    xs = [p[0] for p in run["numpy"]]
    return sum(1 for a, b in zip(xs, xs[1:]) if a * b < 0)


def _check_part(check: dict) -> str:
    """Plain SGD's end point against its closed form, and the largest numpy-Paddle difference."""
    if not check:
        return ""
    (sx, sy), (px, py), (ex, ey) = check["sgd_final"], check["sgd_paddle_final"], check["expected"]
    return (f"**Exact check**: plain SGD at lr 0.95 multiplies x by 1 - 0.95/5 = 0.81 and y by 1 - 2 x 0.95 = -0.9 "
            f"per step, so after 20 steps it must sit at (-7 x 0.81^20, 2 x 0.9^20) = ({ex}, {ey}). numpy ends at "
            f"({sx}, {sy}), Paddle at ({px}, {py}): **{'passed' if check['passed'] else 'FAILED'}**. Over all paths "
            f"the numpy and Paddle points differ by at most {check['max_numpy_paddle_diff']:.1e}.\n")


def _ranked_part(runs: list[dict]) -> str:
    """Which optimizer ends closest to and furthest from the minimum, and which overshoot the centre."""
    ranked = sorted(runs, key=lambda r: r["final_loss"])
    if len(ranked) < 2:
        return ""
    overshoot = [r for r in runs if _crossings(r)]
    return (f"After {runs[0]['steps']} steps {NAMES.get(ranked[0]['optimizer'])} is closest to the minimum "
            f"(z = {ranked[0]['final_loss']:.4f}) and {NAMES.get(ranked[-1]['optimizer'])} furthest "
            f"(z = {ranked[-1]['final_loss']:.4f}). SGD at 0.95 zig-zags across the steep y direction "
            f"(y flips sign every step) while creeping along x; "
            + (", ".join(NAMES.get(r["optimizer"]) for r in overshoot) + " overshoot the centre along x"
               if overshoot else "no optimizer overshoots the centre along x")
            + "; the adaptive methods (AdaGrad, RMSProp, Adam) rescale each coordinate, so their first step heads "
              "almost diagonally instead of along the steep y axis.\n")


def _trajectories(ctx, rec: dict) -> list[str]:
    runs = rec["runs"]
    start = runs[0]["start"] if runs else [-7, 2]
    rows = [[NAMES.get(r["optimizer"], r["optimizer"]), f"{r['lr']:g}", f"({r['final'][0]:.4f}, {r['final'][1]:.4f})",
             f"({r['paddle_final'][0]:.4f}, {r['paddle_final'][1]:.4f})", f"{r['max_abs_diff']:.1e}",
             f"{r['final_loss']:.4f}", next((i for i, z in enumerate(r["loss_path"]) if z < 0.1), "never"),
             _crossings(r)] for r in runs]
    return [f"Every optimizer starts at ({start[0]:g}, {start[1]:g}) and takes {runs[0]['steps']} steps on the "
            "elongated bowl z = x²/10 + y² (gradient (x/5, 2y)), once with `numpy_optim` and once with "
            "`paddle.optimizer` on a float64 parameter of shape [2]; every hyperparameter other than the learning rate "
            "is Paddle's default.\n", _check_part(rec.get("check", {})),
            ctx.draw("trajectories", plot_trajectories, rec, "trajectories"),
            table_part(["optimizer", "lr", "numpy end (x, y)", "Paddle end (x, y)", "max numpy-Paddle diff",
                        "z at the end", "first step with z < 0.1", "times x crossed 0"], rows),
            _ranked_part(runs), steps_part(ctx, rec), saddle_part(ctx, rec), plateau_part(ctx, rec)]


def section_trajectories(ctx) -> str:
    return section(ctx, "trajectories", "Optimizer trajectories on z = x²/10 + y² (source 003)", _trajectories,
                   blank_end=True)


def _back_above(run, st) -> str:
    """The last step (of the recorded loss curve) at which z is above the target again after first reaching it."""
    hit, curve = st["ours"].get(run["optimizer"]), run.get("loss_curve", [])
    if hit is None or hit >= len(curve):
        return "—"
    above = [i for i, z in enumerate(curve) if i > hit and z > st["target"]]
    return f"yes, until step {above[-1]} of {len(curve) - 1}" if above else f"no (to step {len(curve) - 1})"


def _overshoot(o: dict) -> str:
    """The first crossing of x = 0 within 100 steps: its step, how far past, and where the path turns back."""
    return "no" if not o["crosses"] else (f"step {o['cross_step']}, {o['excursion']:.2f} of the start's distance past, "
                                          f"farthest at step {o['peak_step']}")


def steps_part(ctx, rec) -> str:
    """Steps to z <= 0.005 beside source 003's printed counts, and the measured words of 003's path descriptions."""
    st, runs = rec.get("steps_to_target"), [r for r in rec["runs"] if "words" in r]
    if not st or not runs:
        return ""
    rows = [[NAMES.get(r["optimizer"], r["optimizer"]), f"{r['lr']:g}",
             "never" if st["ours"].get(r["optimizer"]) is None else st["ours"][r["optimizer"]],
             st["source"].get(r["optimizer"], "—"), f"{r['words']['y_flip_share']:.2f}",
             f"{r['words']['max_turn_deg']:.1f}",
             _overshoot(r["overshoot"]), _back_above(r, st)] for r in runs]
    path, link = ctx.figure("trajectories_steps")
    if "loss_curve" in runs[0]:
        plot_steps_to_target(rec, path)
    rows += [[f"{name} (lr {part['lr']:g})", f"{part['lr']:g}", part["steps"] or "never", "—", "", "", "", ""]
             for name, part in (("RMSProp", st["rmsprop_small_lr"]), ("AdaGrad", st.get("adagrad_small_lr"))) if part]
    return ("### Steps to z ≤ 0.005, and 003's words measured\n\n"
            f"Steps until z ≤ {st['target']:g} (numpy, up to {st['max_steps']:,} steps) at the rates above, beside "
            "**the source's counts** (003 §3.2, printed for its own chapter-4 linear regression, whose data, start "
            "and most rates are not in the source, so only their order is tested here). Over the first 20 steps: "
            "zig-zag = the share of steps whose y move flips sign; turn = the largest angle between consecutive "
            "steps; overshoot (over 100 steps) = the first crossing of x = 0, how far past it the path goes as a "
            "share of the start's distance from x = 0, and the step it turns back. The claims ledger decides 003's "
            "words with these numbers.\n\n"
            + table(["optimizer", "lr", "steps to 0.005", "source 003's count", "zig-zag share", "largest turn (°)",
                     "overshoot along x", "back above 0.005 later"], rows) + f"\n\n![steps to z ≤ 0.005]({link})\n")
