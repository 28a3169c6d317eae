"""Report part for source 002's toy tests in the trajectories section: leaving the plateau near the saddle (002 §1.2)
and Momentum damping the zig-zag on the bowl (002 §8), from the ``trajectories`` record's ``plateau`` and
``oscillation`` parts (``scratch.plateau``); the verdicts are the ledger's (``studies.claim_rules_more``).

    python -m paddle_mnist report
"""
from __future__ import annotations

from paddle_mnist.format import table
from paddle_mnist.plots.plateau import ARM_LABELS, plot_zigzag
from paddle_mnist.report.practice import claim_block
from paddle_mnist.scratch.plateau import PLATEAU_OPTIMIZERS
from paddle_mnist.studies.claim_rules_traj import NAMES
from paddle_mnist.studies.stats import mean_std



def _plateau(rec) -> list[str]:
    part = rec.get("plateau")
    if not part or not part.get("runs"):
        return []
    st = part["settings"]
    rows = []
    for seed in sorted({r["seed"] for r in part["runs"]}):
        by = {r["optimizer"]: r for r in part["runs"] if r["seed"] == seed}
        rows.append([seed] + [("never" if by[o]["escape_step"] is None else by[o]["escape_step"]) if o in by else "—"
                              for o in PLATEAU_OPTIMIZERS])
    return [f"**Leaving the plateau (002 §1.2).** From the same starts near the saddle, SGD, Momentum, RMSProp and "
            f"Adam all at lr {st['lr']:g} (Paddle's other defaults): the step at which each first gets farther than "
            f"{st['radius']:g} from the saddle (up to {st['max_steps']:,} steps).\n",
            table(["seed"] + [f"{NAMES[o]} leaves at step" for o in PLATEAU_OPTIMIZERS], rows) + "\n"]


def _oscillation(ctx, rec) -> list[str]:
    part = rec.get("oscillation")
    if not part or not part.get("runs"):
        return []
    st = part["settings"]
    rows = []
    for rate in st["rates"]:
        for arm, label in ARM_LABELS.items():
            mine = [r for r in part["runs"] if r["rate"] == rate and r["arm"] == arm and r["status"] == "ok"]
            if mine:
                rows.append([f"{rate:g}", label, f"{mine[0]['paddle_lr']:g}"]
                            + [f"{mean_std([r[k] for r in mine])[0]:.2f}" for k in ("y_flip_share", "x_flip_share",
                                                                                     "rise_share")]
                            + [f"{mean_std([r['final_loss'] for r in mine])[0]:.3f}"])
    path, link = ctx.figure("trajectories_zigzag")
    plot_zigzag(rec, path)
    return [f"**Damping the zig-zag (002 §8).** Gradient descent and Momentum (β {st['momentum']:g}) at the same α on "
            f"the bowl, {st['steps']} steps from one seeded start per seed; 002's Momentum averages the gradients "
            "(v = βv + (1 − β)g, w −= αv), which is Paddle's rule at lr α(1 − β); Paddle's rule at lr α is shown "
            "beside. Shares are over the steps, means over the starts: a y flip is a step across the valley against "
            "the one before (gradient descent's zig-zag), a loss rise a step that went uphill.\n",
            table(["α", "rule", "Paddle lr", "y flips", "x flips", "loss rises", f"z after {st['steps']}"], rows)
            + "\n", f"![gradient descent and Momentum zig-zagging on the bowl]({link})\n"]


def plateau_part(ctx, rec) -> str:
    """Both toy tests with their tables, the zig-zag figure and the ledger's verdicts ("" without the parts)."""
    body = _plateau(rec) + _oscillation(ctx, rec)
    if not body:
        return ""
    return "\n".join(["### Source 002's toys: the plateau and the zig-zag\n", *body,
                      claim_block({"trajectories": rec}, ("plateau-escape", "momentum-damps"))])
