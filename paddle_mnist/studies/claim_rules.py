"""Decision rules of the claims ledger: per-seed values, Welch comparisons and verdicts, as data (no prose).

A verdict is a dict ``{verdict, provisional, n_min, comparisons, checks, facts, experiment}``;
``report.claims`` turns it into sentences. This module holds the shared helpers and the
rules of the loss, dropout and hyperparameter claims (000 §2.2, §2.6); the optimizer,
AdaDelta and save/restore rules are in ``claim_rules_opt``.

    python -c "from paddle_mnist.studies.claim_rules import compare; print(compare('x', 'raw', 'a', [1, 2, 3], 'b', [0, 0.5, 1]))"
"""
from __future__ import annotations

import math

from paddle_mnist.studies.loss import DOUBLE_SOFTMAX_FLOOR
from paddle_mnist.studies.stats import mean_std, welch_from_summary, welch_interval

REPRODUCED, CONTRADICTED = "reproduced", "contradicted"
INCONCLUSIVE, NOT_MEASURED = "inconclusive (within seed noise)", "not measured"
VERDICTS = (REPRODUCED, CONTRADICTED, INCONCLUSIVE, NOT_MEASURED)
MIN_SEEDS = 5  # fewer seeds per arm than this: the verdict is marked provisional


# ---------------------------------------------------------------- helpers
def ok_runs(rec, variant, stage=None) -> list[dict]:
    return [r for r in (rec or {}).get("runs", []) if r["variant"] == variant and r["status"] == "ok"
            and (stage is None or r.get("stage") == stage)]


def per_run(rec, variant, fn, stage=None) -> list[float]:
    out = []
    for r in ok_runs(rec, variant, stage):
        try:
            v = fn(r)
        except (KeyError, IndexError, TypeError):
            v = None
        if v is not None and math.isfinite(v):
            out.append(float(v))
    return out


def test_acc(r):
    return r["test_acc"]


def final_train_loss(r):
    return r["history"]["train_loss"][-1]


def epoch1_train_loss(r):
    return r["history"]["train_loss"][0]


def compare(metric, unit, a_label, a_vals, b_label, b_vals) -> dict:
    """Welch 95% interval of mean(a) − mean(b); the claim holds in this comparison when it lies above 0."""
    ci = welch_interval(a_vals, b_vals)
    (ma, _), (mb, _) = mean_std(a_vals), mean_std(b_vals)
    out = {"metric": metric, "unit": unit, "a": a_label, "b": b_label, "mean_a": ma, "mean_b": mb,
           "n_a": len(a_vals), "n_b": len(b_vals), "diff": None, "low": None, "high": None, "beyond_noise": None}
    if ma is not None and mb is not None:
        out["diff"] = ma - mb
    if ci:
        out.update(low=ci["low"], high=ci["high"], df=ci["df"], beyond_noise=ci["low"] > 0 or ci["high"] < 0)
    return out


def compare_value(metric, unit, a_label, a_vals, b_label, value) -> dict:
    """Our runs against one number from elsewhere taken as exact (e.g. a seed's single printed run): the one-sample
    t 95% interval of mean(a) − value (Welch's interval with an arm of no spread, df = n − 1)."""
    m, s = mean_std(a_vals)
    n = len(a_vals)
    out = {"metric": metric, "unit": unit, "a": a_label, "b": b_label, "mean_a": m, "mean_b": value, "n_a": n,
           "n_b": 1, "diff": None if m is None else m - value, "low": None, "high": None, "beyond_noise": None}
    ci = welch_from_summary(m, s, n, value, 0.0, 1, df=n - 1) if n >= 2 else None
    if ci:
        out.update(low=ci["low"], high=ci["high"], df=ci["df"], beyond_noise=ci["low"] > 0 or ci["high"] < 0)
    return out


def compare_summary(metric, unit, a_label, m_a, b_label, m_b, sd, df) -> dict:
    """Single-run arms whose spread ``sd`` (df ``df``) comes from elsewhere (e.g. the grid's chosen point)."""
    ci = welch_from_summary(m_a, sd, 1, m_b, sd, 1, df=df)
    return {"metric": metric, "unit": unit, "a": a_label, "b": b_label, "mean_a": m_a, "mean_b": m_b, "n_a": 1,
            "n_b": 1, "diff": ci["diff"], "low": ci["low"], "high": ci["high"], "df": df,
            "beyond_noise": ci["low"] > 0 or ci["high"] < 0}


def fact(label, value, unit="raw") -> dict:
    return {"label": label, "value": value, "unit": unit}


def check(label, value, threshold, holds, unit="raw") -> dict:
    return {"label": label, "value": value, "threshold": threshold, "holds": bool(holds), "unit": unit}


def result(verdict, comparisons=(), checks=(), facts=(), n_min=None, experiment=None) -> dict:
    assert verdict in VERDICTS, verdict
    ns = [c[k] for c in comparisons for k in ("n_a", "n_b")]
    n_min = n_min if n_min is not None else (min(ns) if ns else None)
    return {"verdict": verdict, "provisional": verdict != NOT_MEASURED and n_min is not None and n_min < MIN_SEEDS,
            "n_min": n_min, "comparisons": list(comparisons), "checks": list(checks), "facts": list(facts),
            "experiment": experiment}


def not_measured(experiment, facts=()) -> dict:
    return result(NOT_MEASURED, facts=facts, experiment=experiment)


def all_above(comparisons, **kw) -> dict:
    """Reproduced if every interval lies above 0, contradicted if any lies below, else inconclusive."""
    missing = kw.pop("missing", "at least 2 seeds per arm")
    if not comparisons or any(c["low"] is None for c in comparisons):
        return not_measured(missing, **kw)
    if any(c["high"] < 0 for c in comparisons):
        return result(CONTRADICTED, comparisons, **kw)
    if all(c["low"] > 0 for c in comparisons):
        return result(REPRODUCED, comparisons, **kw)
    return result(INCONCLUSIVE, comparisons, **kw)


def from_checks(checks, n_min, **kw) -> dict:
    """Per-seed checks: reproduced if all hold, contradicted if none, inconclusive if they split."""
    missing = kw.pop("missing", "the runs")
    if not checks:
        return not_measured(missing, **kw)
    held = sum(c["holds"] for c in checks)
    v = REPRODUCED if held == len(checks) else CONTRADICTED if held == 0 else INCONCLUSIVE
    return result(v, checks=checks, n_min=n_min, **kw)


# ---------------------------------------------------------------- 000 §2.6.2 and the seeds' README (loss)
LOSS_MISSING = "the `loss` study (python -m paddle_mnist train loss)"


def loss_speed(records):
    rec = records.get("loss")
    ce = per_run(rec, "cross_entropy", lambda r: r["history"]["valid_acc"][0])
    comps = [compare("valid accuracy after epoch 1", "acc", "cross entropy", ce, label,
                     per_run(rec, v, lambda r: r["history"]["valid_acc"][0]))
             for v, label in (("square_error_onehot", "squared error (one-hot)"),
                              ("square_error_regression", "squared error (one-output regression)"))]
    return all_above(comps, missing=LOSS_MISSING) if rec else not_measured(LOSS_MISSING)


def loss_acc(records):
    rec = records.get("loss")
    ce = per_run(rec, "cross_entropy", test_acc)
    comps = [compare("test accuracy", "acc", "cross entropy", ce, label, per_run(rec, v, test_acc))
             for v, label in (("square_error_onehot", "squared error (one-hot)"),
                              ("square_error_regression", "squared error (one-output regression)"))]
    return all_above(comps, missing=LOSS_MISSING) if rec else not_measured(LOSS_MISSING)


def loss_floor(records):
    rec = records.get("loss")
    ds = (rec or {}).get("analysis", {}).get("double_softmax")
    if not ds or ds.get("lowest_logged_loss_min") is None:
        return not_measured(LOSS_MISSING)
    low = ds["lowest_logged_loss_min"]
    c = check("lowest logged double-softmax train loss (50-step window mean)", low, DOUBLE_SOFTMAX_FLOOR,
              low >= DOUBLE_SOFTMAX_FLOOR - 1e-3, "loss")
    return from_checks([c], n_min=ds["n_ok"])


def loss_mean(records):
    rec = records.get("loss")
    var = (rec or {}).get("reference", {}).get("labels", {}).get("variance")
    if not rec or not var:
        return not_measured(LOSS_MISSING)
    checks = [check(f"{r['name']}: final-epoch train loss", final_train_loss(r), 0.5 * var,
                    final_train_loss(r) > 0.5 * var, "loss") for r in ok_runs(rec, "square_error_regression")]
    facts = [fact("label variance (loss of always answering the mean)", var, "loss"),
             fact("regressor test accuracy", rec["analysis"]["square_error_regression"]["test_acc_mean"], "acc")]
    return from_checks(checks, n_min=len(checks), facts=facts)


# ---------------------------------------------------------------- 000 §2.6.4 (dropout)
DROP_MISSING = "the `dropout` study (python -m paddle_mnist train dropout)"


def _drop_arms(rec):
    a = (rec or {}).get("analysis", {})
    base = next((k for k, v in a.items() if v["dropout"] == 0.0), None)
    return base, [(k, f"p={v['dropout']:g}") for k, v in a.items() if v["dropout"] > 0]


def _drop_compare(records, metric, unit, fn, dropout_first):
    rec = records.get("dropout")
    base, drops = _drop_arms(rec)
    if not base or not drops:
        return not_measured(DROP_MISSING)
    b = per_run(rec, base, fn)
    comps = [compare(metric, unit, *((lab, per_run(rec, k, fn), "p=0", b) if dropout_first else
                                     ("p=0", b, lab, per_run(rec, k, fn)))) for k, lab in drops]
    return all_above(comps)


def dropout_speed(records):
    return _drop_compare(records, "seconds per epoch", "s", lambda r: sum(r["history"]["seconds"]) /
                         len(r["history"]["seconds"]), dropout_first=False)


def dropout_loss(records):
    return _drop_compare(records, "final-epoch valid loss", "loss", lambda r: r["history"]["valid_loss"][-1],
                         dropout_first=False)


def dropout_overfit(records):
    return _drop_compare(records, "final gap valid − train loss", "loss",
                         lambda r: r["history"]["valid_loss"][-1] - r["history"]["train_loss"][-1],
                         dropout_first=False)


def dropout_generalise(records):
    return _drop_compare(records, "test accuracy", "acc", test_acc, dropout_first=True)


def dropout_visible(records):
    a = (records.get("dropout") or {}).get("analysis", {})
    base = next((v for v in a.values() if v["dropout"] == 0.0), None)
    facts = [fact("done-right arm, p=0: valid-loss rise from its minimum to the last epoch", base["valid_loss_rise"],
                  "loss")] if base else []
    return not_measured("the course arm: seed 000's model (softmax in forward then F.cross_entropy, SGD lr 0.1, "
                        "10 epochs, batch 100) with and without one Dropout after fc1", facts)


# ---------------------------------------------------------------- 000 §2.2 (hyperparameters)
HP_MISSING = "the `hparams` study (python -m paddle_mnist train hparams)"


def _grid_vs_best(records, pick, label):
    rec = records.get("hparams")
    a = (rec or {}).get("analysis", {})
    table, choice, final = [t for t in a.get("grid", []) if t["valid_acc"] is not None], a.get("choice"), a.get("final")
    if not table or not choice or not final or (final.get("n_ok") or 0) < 2:
        return not_measured(HP_MISSING)
    mine = [t["valid_acc"] for t in table if pick(t, choice)]
    if not mine:
        return not_measured(f"{HP_MISSING} with {label} in its grid")
    c = compare_summary("best valid accuracy (single-seed grid points; spread from the chosen setting's seeds)",
                        "acc", f"grid best (lr {choice['lr']:g}, {choice['hidden']} units)", choice["valid_acc"],
                        label, max(mine), final["valid_acc_std"], final["n_ok"] - 1)
    verdict = CONTRADICTED if c["beyond_noise"] else REPRODUCED
    return result(verdict, [c], n_min=1)


def hp_lr(records):
    return _grid_vs_best(records, lambda t, c: abs(t["lr"] - 0.1) < 1e-12, "best at lr 0.1")


def hp_hidden(records):
    return _grid_vs_best(records, lambda t, c: 150 <= t["hidden"] <= 200 and abs(t["lr"] - c["lr"]) < 1e-12,
                         "best with 150-200 units")
