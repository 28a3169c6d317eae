"""Decision rules of the claims ledger: per-seed values, Welch comparisons and verdicts, as data (no prose).

A verdict is a dict ``{verdict, provisional, n_min, comparisons, checks, facts, experiment}``;
``report.claims`` turns it into sentences. This module holds the shared helpers (comparisons, checks, the
outcome of intervals ``all_above`` and of checks ``from_checks``) that the generic rules (``rules``) and the
few rows' own functions build on. A run whose status is not ``ok``
decides nothing (``untrained``: the claim is not measured, the divergence a finding); a metric
that is one value in every run gives ``untestable here``.

    python -c "from paddle_mnist.studies.claim_rules import compare; print(compare('x', 'raw', 'a', [1, 2, 3], 'b', [0, 0.5, 1]))"
"""
from __future__ import annotations

import math

from paddle_mnist.studies.stats import mean_std, welch_from_summary, welch_interval

REPRODUCED, CONTRADICTED = "reproduced", "contradicted"
# inconclusive: neither the rule's reproduced nor its contradicted condition holds; the verdict's ``why`` says what fell
# short (``why_inconclusive``): within seed noise, the benchmark's rounds, seeds that split, or one deterministic run
INCONCLUSIVE, NOT_MEASURED = "inconclusive", "not measured"
UNTESTABLE = "untestable here"  # the metric cannot vary: one value in every run of every compared arm
VERDICTS = (REPRODUCED, CONTRADICTED, INCONCLUSIVE, UNTESTABLE, NOT_MEASURED)
TUNING_MARGIN = 0.01  # "suits": at most 1 point of valid accuracy below the grid's best (beyond seed noise)
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
    out["constant"] = len(a_vals) >= 2 and len(b_vals) >= 2 and len(set(a_vals) | set(b_vals)) == 1
    return out


def compare_value(metric, unit, a_label, a_vals, b_label, value) -> dict:
    """Our runs against one number from elsewhere taken as exact (e.g. a source's single printed run): the one-sample
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


def why_inconclusive(comparisons, checks, n_min) -> str:
    """Why an inconclusive verdict is: an interval over seeds (or over the benchmark's rounds) that does not clear its
    reference, per-seed checks that split, or one deterministic run between the rule's two conditions."""
    wide = [c for c in comparisons if c.get("low") is not None and not c.get("beyond_noise", True)]
    if wide and all(c.get("rounds") for c in wide):
        return "the benchmark's rounds fall on both sides"
    if comparisons:
        return "within seed noise"
    if checks and n_min is not None and n_min > 1:
        return "the seeds split"
    return "one deterministic run, between the rule's two conditions"


def result(verdict, comparisons=(), checks=(), facts=(), n_min=None, experiment=None, why=None) -> dict:
    assert verdict in VERDICTS, verdict
    ns = [c[k] for c in comparisons for k in ("n_a", "n_b")]
    n_min = n_min if n_min is not None else (min(ns) if ns else None)
    if verdict == INCONCLUSIVE:
        why = why or why_inconclusive(comparisons, checks, n_min)
    return {"verdict": verdict, "provisional": verdict != NOT_MEASURED and n_min is not None and n_min < MIN_SEEDS,
            "n_min": n_min, "comparisons": list(comparisons), "checks": list(checks), "facts": list(facts),
            "experiment": experiment, "why": why if verdict == INCONCLUSIVE else None}


def not_measured(experiment, facts=()) -> dict:
    return result(NOT_MEASURED, facts=facts, experiment=experiment)


def all_above(comparisons, roles=None, test="above", margin=TUNING_MARGIN, groups=(), **kw) -> dict:
    """The outcome of intervals against their reference (0 for a difference, 1 for a benchmark ratio). ``roles``
    per comparison: ``decide`` (must lie above), ``guard`` (must not lie below), ``shown`` (alongside). ``test``:
    ``above`` (contradicted if a decide or guard lies below, reproduced if every decide lies above), ``any_above``
    (reproduced if one lies above, contradicted if all lie below), ``none_above`` (a claimed absence: contradicted
    if one lies above), ``within`` ("X suits": reproduced if every interval's top is at most ``margin`` above 0,
    contradicted if one's bottom is more than ``margin`` above), ``groups`` (reproduced if every one lies above,
    contradicted if every one of some group lies below: ``groups`` their sizes, in order); untestable when every
    judged metric is one value in every run (and no checks); else inconclusive. ``checks``: see ``_with_checks``."""
    missing, checks, per_seed = kw.pop("missing", "at least 2 seeds per arm"), kw.pop("checks", ()), \
        kw.pop("per_seed", False)
    roles = roles or ["decide"] * len(comparisons)
    judged = [(c, r) for c, r in zip(comparisons, roles) if r != "shown"]
    if not judged or any(c is None or c["low"] is None for c, _ in judged):
        return not_measured(missing, facts=kw.get("facts", ()))
    below = [c["high"] < c.get("reference", 0.0) for c, _ in judged]
    above = [c["low"] > c.get("reference", 0.0) for c, _ in judged]
    if all(c.get("constant") for c, _ in judged) and not checks:  # one value everywhere: nothing to compare
        v = UNTESTABLE
    elif test == "any_above":
        v = REPRODUCED if any(above) else CONTRADICTED if all(below) else INCONCLUSIVE
    elif test == "within":
        v = REPRODUCED if all(c["high"] <= margin for c, _ in judged) else \
            CONTRADICTED if any(c["low"] > margin for c, _ in judged) else INCONCLUSIVE
    elif test == "groups":  # contradicted only if every comparison of one group (sizes ``groups``) lies below
        ends = [sum(groups[:i + 1]) for i in range(len(groups))]
        v = REPRODUCED if all(above) else CONTRADICTED if any(
            all(below[e - n:e]) for e, n in zip(ends, groups)) else INCONCLUSIVE
    elif test == "none_above":
        v = CONTRADICTED if any(above) else REPRODUCED
    else:
        decided = all(x for x, (_, r) in zip(above, judged) if r == "decide")
        v = CONTRADICTED if any(below) else REPRODUCED if decided else INCONCLUSIVE
    return result(_with_checks(v, checks, per_seed), comparisons, checks, **kw)


def _with_checks(v, checks, per_seed) -> str:
    """The intervals' verdict ``v`` with the row's checks: deterministic guards (e.g. bytes written) contradict when
    one fails; ``per_seed`` checks (one per seed) contradict when none holds and leave it inconclusive when they
    split."""
    held = [c["holds"] for c in checks]
    if v == UNTESTABLE or all(held):
        return v
    if not any(held) or not per_seed:
        return CONTRADICTED
    return INCONCLUSIVE if v == REPRODUCED else v


def from_checks(checks, n_min, **kw) -> dict:
    """Per-seed checks: reproduced if all hold, contradicted if none, inconclusive if they split."""
    missing = kw.pop("missing", "the runs")
    if not checks:
        return not_measured(missing, **kw)
    held = sum(c["holds"] for c in checks)
    v = REPRODUCED if held == len(checks) else CONTRADICTED if held == 0 else INCONCLUSIVE
    return result(v, checks=checks, n_min=n_min, **kw)


def untrained(rec, *variants, setting="") -> list[dict]:
    """A finding per variant with a run that did not train (status not ``ok``): "diverged in 5/5 seeds ..."."""
    out = []
    for v in variants:
        runs = [r for r in (rec or {}).get("runs", []) if r["variant"] == v]
        bad = [r for r in runs if r["status"] != "ok"]
        if bad:
            kinds = " / ".join(sorted({r["status"] for r in bad}))
            steps = sorted({r["diverged_step"] for r in bad if r.get("diverged_step") is not None})
            at = f" (NaN/inf loss at step {', '.join(str(x) for x in steps)})" if steps else ""
            out.append(fact(f"{v}{setting}", f"{kinds} in {len(bad)}/{len(runs)} seeds{at}, so it decides nothing",
                            "text"))
    return out


def unless_untrained(rec, variants, decide, **kw):
    """``decide()`` when every run of ``variants`` trained, else ``not measured`` with the finding."""
    bad = untrained(rec, *variants, **kw)
    if bad:
        return not_measured("runs that train at this setting (none committed)", facts=bad)
    return decide()


# ---------------------------------------------------------------- 000 §2.6.4 (dropout): its metric
SOURCE_DROPOUT = 0.5  # source 000's rate: one Dropout after fc1, ``dropout_prob`` unstated, so Paddle's default
OTHER_RATE = "another rate, reported, does not decide: "  # the metric's prefix on a comparison at any other rate


def valid_loss_rise(r):
    """Overfitting, measured on ``valid`` alone: last-epoch valid loss minus its minimum over the epochs (>= 0).

    Not the valid − train gap: the train loss is the epoch's running mean with dropout active, which a
    dropout net inflates, so its gap would shrink without any change in overfitting.
    """
    vl = r["history"]["valid_loss"]
    return vl[-1] - min(vl)


def mean_rise(rec, variant):
    """The valid-loss rise of ``variant`` as the ledger and the dropout tables state it: the mean over seeds of each
    seed's rise (``valid_loss_rise``), not the rise of the mean curve; None without ok runs."""
    vals = per_run(rec, variant, valid_loss_rise)
    return sum(vals) / len(vals) if vals else None


# the numpy net's loss gradient is 2·diff/n, source 000's diff/n: its lr x 2 is the source's (0.1 here = 0.2 there)
NUMPY_LR_TO_SOURCE = 2.0
