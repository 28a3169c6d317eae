"""Summary statistics over run records: mean/std over seeds, the runs that finished, each variant's summary.

The engine's runner writes ``summarise(runs)`` into every results file; the studies
(``studies.stats``) build their own statistics on these.

    python -c "from paddle_mnist.engine.run_stats import mean_std; print(mean_std([0.98, 0.981, None]))"
"""
from __future__ import annotations

import math
import statistics


def mean_std(values):
    values = [float(v) for v in values if v is not None and math.isfinite(v)]
    if not values:
        return None, None
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def mean(values):
    return mean_std(values)[0]


def ok_runs(runs, variant=None, stage=None):
    """The runs that finished (``status == "ok"``), of one ``variant`` and ``stage`` where given."""
    return [r for r in runs if r["status"] == "ok" and (variant is None or r["variant"] == variant)
            and (stage is None or r.get("stage") == stage)]


def variants_in(runs) -> list[str]:
    return list(dict.fromkeys(r["variant"] for r in runs))


def summarise(runs: list[dict]) -> dict:
    """Per variant: test accuracy mean/std over seeds, valid accuracy, epochs, seconds, status counts."""
    out = {}
    for label in variants_in(runs):
        group = [r for r in runs if r["variant"] == label]
        ok = ok_runs(group)
        t_mean, t_std = mean_std([r["test_acc"] for r in ok])
        v_mean, v_std = mean_std([r["best_valid_acc"] for r in ok])
        s_mean, _ = mean_std([r["seconds"] for r in group])
        out[label] = {"test_acc_mean": t_mean, "test_acc_std": t_std, "valid_acc_mean": v_mean,
                      "valid_acc_std": v_std, "seconds_mean": s_mean, "n_runs": len(group), "n_ok": len(ok),
                      "statuses": sorted({r["status"] for r in group}),
                      "epochs": max((len(r["history"]["epoch"]) for r in group), default=0)}
    return out
