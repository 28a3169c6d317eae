"""Statistics over run records, shared by every study: mean/std, first epoch to a threshold, roughness, summaries.

    python -c "from paddle_mnist.studies.stats import mean_std; print(mean_std([0.98, 0.981, None]))"
"""
from __future__ import annotations

import math
import statistics

from paddle_mnist.engine.run_stats import mean, mean_std, ok_runs, summarise, variants_in  # noqa: F401  (re-exported)

# deferred: scipy (scipy.stats takes ~0.5 s to import; every training run imports this module, but only the ledger
# and the report ask for an interval)

THRESHOLDS = (0.95, 0.97)


def first_reach(run: dict, threshold: float):
    """First epoch whose valid accuracy is >= ``threshold``: ``{epoch, steps, seconds}`` or None.

    Valid accuracy is measured once per epoch, so this has epoch resolution.
    """
    h = run["history"]
    for i, acc in enumerate(h.get("valid_acc", [])):
        if acc >= threshold:
            steps = (i + 1) * run.get("steps_per_epoch", 0)
            return {"epoch": i + 1, "steps": min(steps, run.get("steps", steps)) if steps else None,
                    "seconds": float(sum(h["seconds"][:i + 1]))}
    return None


def reach_summary(runs: list[dict], threshold: float) -> dict:
    hits = [first_reach(r, threshold) for r in runs]
    got = [h for h in hits if h]
    return {"threshold": threshold, "n": len(runs), "n_reached": len(got),
            "epoch_mean": mean([h["epoch"] for h in got]), "steps_mean": mean([h["steps"] for h in got]),
            "seconds_mean": mean([h["seconds"] for h in got])}


def roughness(run: dict):
    """Mean |change| between consecutive logged train losses after the first epoch, over their mean.

    A dimensionless measure of how much the per-iteration loss jumps around (None if too few points).
    """
    it = run.get("iterations") or {}
    spe = run.get("steps_per_epoch") or 0
    pts = [v for s, v in zip(it.get("step", []), it.get("train_loss", [])) if s > spe and math.isfinite(v)]
    if len(pts) < 3:
        return None
    diffs = [abs(b - a) for a, b in zip(pts, pts[1:])]
    return statistics.fmean(diffs) / max(statistics.fmean(pts), 1e-12)


def best_valid(run: dict):
    return max(run["history"]["valid_acc"]) if run["history"].get("valid_acc") else None


def per_epoch_mean(runs, key):
    series = [r["history"][key] for r in runs if r["history"].get(key)]
    if not series:
        return []
    n = min(len(s) for s in series)
    return [statistics.fmean(s[i] for s in series) for i in range(n)]



def run_summary(group: list[dict]) -> dict:
    ok = [r for r in group if r["status"] == "ok"]
    t_mean, t_std = mean_std([r["test_acc"] for r in ok])
    v_mean, v_std = mean_std([r["best_valid_acc"] for r in ok])
    cfg = group[0]["config"]
    return {
        "optimizer": cfg["optimizer"], "lr": cfg["lr"], "epochs": cfg["epochs"], "n_runs": len(group),
        "n_ok": len(ok), "statuses": sorted({r["status"] for r in group}),
        "test_acc_mean": t_mean, "test_acc_std": t_std, "valid_acc_mean": v_mean, "valid_acc_std": v_std,
        "train_loss_epoch1_mean": mean([r["history"]["train_loss"][0] for r in ok if r["history"]["train_loss"]]),
        "final_train_loss_mean": mean([r["history"]["train_loss"][-1] for r in ok if r["history"]["train_loss"]]),
        "valid_acc_epoch1_mean": mean([r["history"]["valid_acc"][0] for r in ok if r["history"]["valid_acc"]]),
        "initial_loss_mean": mean([r["iterations"]["train_loss"][0] for r in group
                                    if r.get("iterations", {}).get("train_loss")]),
        "roughness_mean": mean([roughness(r) for r in ok]),
        "reach": {f"{t:.2f}": reach_summary(ok, t) for t in THRESHOLDS},
        "seconds_per_epoch_mean": mean([s for r in ok for s in r["history"]["seconds"]]),
        "diverged": [{"run": r["name"], "step": r["diverged_step"], "last_finite_loss": r["last_finite_loss"]}
                     for r in group if r["status"] == "diverged"],
        "reused_from": sorted({r["reused_from"] for r in group if r.get("reused_from")}),
    }



def t975(df: float) -> float:
    """The exact 97.5% quantile of Student's t with ``df`` degrees of freedom (fractional df too; df < 1 taken as 1)."""
    from scipy.stats import t as student_t  # see the module's deferred: note

    return float(student_t.ppf(0.975, max(1.0, df if df is not None else 1.0)))


def welch_from_summary(m_a, s_a, n_a, m_b, s_b, n_b, df=None):
    """Welch 95% interval of mean A − mean B from means, sample stds and counts (``df`` overrides Welch's)."""
    if not n_a or not n_b or m_a is None or m_b is None:
        return None
    va, vb = (s_a or 0.0) ** 2 / n_a, (s_b or 0.0) ** 2 / n_b
    se = math.sqrt(va + vb)
    if df is None:
        if n_a < 2 or n_b < 2:
            return None
        den = (va**2 / (n_a - 1) if va else 0.0) + (vb**2 / (n_b - 1) if vb else 0.0)
        df = (va + vb) ** 2 / den if den > 0 else math.inf
    d = m_a - m_b
    half = t975(df) * se
    return {"diff": d, "low": d - half, "high": d + half, "df": df, "n_a": n_a, "n_b": n_b,
            "mean_a": m_a, "mean_b": m_b}


def welch_interval(a, b):
    """Welch's t 95% confidence interval of mean(a) − mean(b) over seeds; None with fewer than 2 values per arm.

    Returns ``{diff, low, high, df, n_a, n_b, mean_a, mean_b}``.
    """
    a = [float(x) for x in a if x is not None and math.isfinite(x)]
    b = [float(x) for x in b if x is not None and math.isfinite(x)]
    if len(a) < 2 or len(b) < 2:
        return None
    (ma, sa), (mb, sb) = mean_std(a), mean_std(b)
    return welch_from_summary(ma, sa, len(a), mb, sb, len(b))


def rise_share(run: dict):
    """Oscillation: the share of consecutive logged train losses after the first epoch where the loss rose (None if
    fewer than 3).

    A steady descent scores 0 however fast it falls; a loss that goes up and down scores near 0.5.
    """
    it = run.get("iterations") or {}
    spe = run.get("steps_per_epoch") or 0
    pts = [v for s, v in zip(it.get("step", []), it.get("train_loss", [])) if s > spe and math.isfinite(v)]
    if len(pts) < 3:
        return None
    return sum(b > a for a, b in zip(pts, pts[1:])) / (len(pts) - 1)
