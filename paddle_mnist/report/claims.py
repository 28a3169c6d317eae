"""The claims ledger rendered: evidence sentences built from ``studies.claims`` data, the ledger section, targets.

Every sentence that compares two numbers says whether the difference is beyond seed noise
(its 95% Welch t interval over seeds excludes zero). ``studies.claims`` decides; this renders.

    python -m paddle_mnist report
"""
from __future__ import annotations

from paddle_mnist.format import pct, points, table
from paddle_mnist.studies.claims import ARM_NAMES, ARMS, BENCH_NAMES, RESULT_NAMES, claims_ledger, decided_by, tally, targets
from paddle_mnist.studies.stats import welch_from_summary

NOTE = ("Three kinds of row, counted apart in the tally: **as the source ran it** (the source's own experiment and "
        "settings: source 000's §2.6/§2.7 claims on its own model, softmax in `forward` then `F.cross_entropy`, SGD "
        "lr 0.1, 10 epochs, batch 100, one Dropout after fc1 — the `course` study; other sources' claims on their "
        "own setting as far as it can be rebuilt), **done right** (the corrected setup of the project's studies), "
        "which says whether the conclusion survives the fix, and **the project's own test of a source's general "
        "statement** (an experiment the source did not run: the saddle point, k-fold, the weighted averages, ...); "
        "— = the claim has no such row. "
        "Verdicts: **reproduced**, **contradicted**, **inconclusive** (neither of the rule's two conditions holds; "
        "the cell says why: within seed noise, the benchmark's rounds on both sides, the seeds split, or one "
        "deterministic run between the two), **untestable here** "
        "(the metric is one value in every run of every compared arm, so it cannot show a difference) or **not "
        "measured** (the experiment that would decide it is named). A run that did not train (diverged or failed) "
        "decides nothing: a claim that would compare against it is not measured, and the divergence is recorded as "
        "a finding. A difference between two groups of runs counts only when its 95% Welch t interval over seeds "
        "(the exact Student t quantile, `scipy.stats.t.ppf`, at Welch's degrees of freedom) excludes zero. "
        "Verdicts resting on fewer than 5 seeds per arm are marked *provisional*. "
        "Timing claims (dropout's speed, batch vs mini-batch vs stochastic) never read the training runs' clocks, "
        "which share the cores with whatever else runs: they read the timing benchmark (`python -m paddle_mnist "
        "bench timing`, reports/bench/timing.json), which measures each arm in a fresh process, one at a time, the "
        "arms alternated round by round, and decides on the CPU seconds of the timed steps (wall seconds beside): "
        "the median of the per-round ratios, with their min-max over the rounds as the interval.")
DEFINITIONS = (
    ("oscillates", "the share of logged train losses (50-step window means) after epoch 1 that rose from the "
                   "previous one: 0 for a steady descent however steep, about 0.5 for a loss that only jitters"),
    ("fast (Adam)", "the train loss after epoch 1 of tuned Adam against every other tuned optimizer the runs hold "
                    "(SGD, Momentum, Adagrad, RMSProp): fast only if below each of them beyond seed noise"),
    ("suits (a tuning choice)", "the claimed setting's best valid accuracy at most 1 point below the grid's best: "
                                "reproduced if the interval's top is at or under +1 point, contradicted if its "
                                "bottom is above +1 point, inconclusive when the interval is too wide to tell; on "
                                "source 000's numpy net the rates are in the source's units (this net's gradient "
                                "is 2·diff/n, the source's diff/n, so its lr x 2 is the source's)"),
    ("overfitting", "the valid-loss rise from its minimum to the last epoch, per seed, then the mean over seeds "
                    "(the same number in the dropout tables)"),
    ("did not lower the loss", "the final-epoch train loss at least 0.9 x the first logged loss, per seed"),
    ("lowest logged loss", "the lowest 50-step window mean of the train loss, the mean over seeds unless the label "
                           "says otherwise"),
)
WORDS = "**What each measured word means here.** " + "; ".join(f"*{w}*: {d}" for w, d in DEFINITIONS) + "."


def _val(x, unit):
    if x is None:
        return "n/a"
    if isinstance(x, bool):
        return "yes" if x else "no"
    return {"acc": lambda v: pct(v), "loss": lambda v: f"{v:.4f}", "s": lambda v: f"{v:.2f} s",
            "sci": lambda v: f"{v:.2e}", "share": lambda v: f"{v:.2f}", "pct": lambda v: f"{v:.2%}",
            "text": str}.get(unit, lambda v: f"{v:g}")(x)


def _diff(x, unit):
    if unit == "acc":
        return points(x)
    if unit == "sci":
        return f"{x:+.2e}"
    if unit == "share":
        return f"{x:+.2f}"
    return f"{x:+.4f}" if unit == "loss" else (f"{x:+.2f} s" if unit == "s" else f"{x:+g}")


def rounds_text(c: dict) -> str:
    """A timing-benchmark comparison: CPU medians, the per-round ratio (median, min-max), wall seconds beside."""
    side = ("every round above 1" if c["low"] > 1 else "every round below 1" if c["high"] < 1 else
            "rounds on both sides of 1")
    u = c.get("unit", "s")  # s or ms
    d = 3 if max(abs(c["low"] - 1), abs(c["high"] - 1)) < 0.1 else 2  # ratios near 1: one more decimal
    return (f"{c['metric']}: {c['a']} {c['mean_a']:.3f} {u} vs {c['b']} {c['mean_b']:.3f} {u} (ratio "
            f"{c['ratio']:.{d}f}, the median of {c['rounds']} per-round ratios, range [{c['low']:.{d}f}, "
            f"{c['high']:.{d}f}]: {side}; wall {'milli' * (u == 'ms')}seconds {c['wall_a']:.3f} vs {c['wall_b']:.3f}, "
            f"ratio {c['wall_ratio']:.{d}f} [{c['wall_low']:.{d}f}, {c['wall_high']:.{d}f}])")


def comparison_text(c: dict) -> str:
    """``metric: A x vs B y (difference d, 95% interval [l, h], n = i/j; beyond/within seed noise)``."""
    if c.get("rounds"):
        return rounds_text(c)
    head = f"{c['metric']}: {c['a']} {_val(c['mean_a'], c['unit'])} vs {c['b']} {_val(c['mean_b'], c['unit'])}"
    if c["diff"] is None:
        return head
    if c["low"] is None:
        return f"{head} (difference {_diff(c['diff'], c['unit'])}; fewer than 2 seeds per arm, seed noise unknown)"
    noise = "beyond seed noise" if c["beyond_noise"] else "within seed noise"
    return (f"{head} (difference {_diff(c['diff'], c['unit'])}, 95% interval [{_diff(c['low'], c['unit'])}, "
            f"{_diff(c['high'], c['unit'])}], n = {c['n_a']}/{c['n_b']}; {noise})")


def noise_text(a: dict, b: dict, metric: str = "test_acc") -> str:
    """Summary ``a`` minus ``b`` of the mean ``metric`` (an accuracy, in points), its Welch 95% interval over seeds
    (``studies.stats.welch_from_summary``) and whether it is beyond seed noise."""
    ma, mb = a[f"{metric}_mean"], b[f"{metric}_mean"]
    d = (ma or 0) - (mb or 0)
    ci = welch_from_summary(ma, a[f"{metric}_std"], a["n_ok"], mb, b[f"{metric}_std"], b["n_ok"])
    if not ci:
        return f"{points(d)}, seed noise unknown"
    where = "beyond" if ci["low"] > 0 or ci["high"] < 0 else "within"
    return f"{points(d)}, 95% interval [{points(ci['low'])}, {points(ci['high'])}], {where} seed noise"


def check_text(c: dict) -> str:
    if c["threshold"] is None:
        return f"{c['label']}: {'holds' if c['holds'] else 'fails'}"
    return (f"{c['label']}: {_val(c['value'], c['unit'])} vs {_val(c['threshold'], c['unit'])} "
            f"({'holds' if c['holds'] else 'fails'})")


def evidence(res: dict) -> str:
    """The evidence sentence of one verdict (an arm of a ``studies.claims.claims_ledger`` row)."""
    parts = [comparison_text(c) for c in res["comparisons"]] + [check_text(c) for c in res["checks"]]
    parts += [f"{f['label']}: {_val(f['value'], f['unit'])}" for f in res["facts"]]
    if res["verdict"] == "not measured":
        parts.insert(0, f"needs {res['experiment']}")
    return "; ".join(parts) or "-"


def verdict_text(res: dict) -> str:
    v = f"**{res['verdict']}**" + (f" ({res['why']})" if res.get("why") else "")
    return v + (f" (provisional: n seeds {res['n_min']} < 5)" if res["provisional"] else "")


def arm_cell(claim: dict, arm: str) -> str:
    res = claim["arms"][arm]
    if res is None:
        return "—"
    setup = claim["course"] if arm == "source" and claim["course"] else ""
    return f"{verdict_text(res)}. {evidence(res)}" + (f" _Setup: {setup}._" if setup else "")


def claims_here(rec_name: str, rec: dict) -> str:
    rows = decided_by(rec_name, rec)
    if not rows:
        return ""
    lines = ["Claims decided here (evidence in [the ledger](APPENDIX.md#claims-ledger)):\n"]
    lines += [f"- {c['claim']} — {ARM_NAMES[a]}: {verdict_text(v)}" for c, a, v in rows]
    return "\n".join(lines) + "\n"


def claims_rows(ledger: list[dict]) -> list[list]:
    return [[i, c["source"], f"{c['claim']} ({c['original']})", c["rule"]] + [arm_cell(c, a) for a in ARMS]
            for i, c in enumerate(ledger, 1)]


def tally_text(ledger: list[dict], arm: str) -> str:
    t = tally(ledger)[arm]
    counts = ", ".join(f"{n} {v}" for v, n in t["counts"].items())
    return f"{ARM_NAMES[arm]} ({t['claims']} claims): {counts}; {t['provisional']} provisional"


def _target_row(t: dict) -> list:
    measured = pct(t["value"])
    if t.get("reference") is not None:
        noise = ("seed noise unknown" if t["low"] is None else
                 "beyond seed noise" if t["low"] > 0 or t["high"] < 0 else "within seed noise")
        measured += (f" vs {t['b']} {pct(t['reference'])} ({points(t['value'] - t['reference'])}; "
                     f"95% interval [{points(t['low']) if t['low'] is not None else 'n/a'}, "
                     f"{points(t['high']) if t['high'] is not None else 'n/a'}]; {noise})")
    return [t["target"], measured, "yes" if t["met"] else "**no**"]


def ledger_records(ctx) -> dict:
    """What the ledger reads: the results records (``RESULT_NAMES``) and the benchmark records (``BENCH_NAMES``)."""
    return {**{name: ctx.load(name) for name in RESULT_NAMES}, **{name: ctx.bench(name) for name in BENCH_NAMES}}


def section_claims(ctx) -> str:
    records = ledger_records(ctx)
    out = ["## Claims ledger\n",
           "Every checkable claim of the source documents (file number and section; the source's own words in "
           "brackets), the rule that decides it, the measured evidence and the verdict.\n", NOTE + "\n",
           WORDS + "\n"]
    ledger = claims_ledger(records)
    out.append(table(["#", "source", "claim (original)", "decision rule"] + [ARM_NAMES[a] for a in ARMS],
                     claims_rows(ledger)) + "\n")
    out.append("Tally, each kind of row counted apart:\n\n" + "\n".join(f"- {tally_text(ledger, a)}." for a in ARMS)
               + "\n")
    tg = targets(records)
    if tg:
        out.append("**Targets** (test split)\n")
        out.append(table(["target", "measured", "met"], [_target_row(t) for t in tg]) + "\n")
    quick = [n for n, r in records.items() if r and r.get("settings", {}).get("quick")]
    if quick:
        out.append(f"_{', '.join(quick)}: `--quick` results; the verdicts above are about smoke-test runs._\n")
    return "\n".join(out)
