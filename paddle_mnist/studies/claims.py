"""The claims ledger as data: every checkable claim of the source documents, with the rule that decides it.

Each ``Claim`` holds its id, source file and section, the source's own words (Chinese kept),
an English translation, the condition, the metric, the decision rule in words and the rule itself:
``judge = (kind, params)`` from ``claim_specs``, decided by one of the five generic rules of ``rules`` (a
row without a spec may still give its own ``decide(records) -> verdict dict`` in ``DECIDE``). A claim is judged on
up to two arms, counted apart: **source** (the source's own experiment and settings, as far as they can be
rebuilt: for source 000's §2.6/§2.7 claims the ``course`` study, its double-softmax model with SGD 0.1),
**right** (the corrected setup the project uses) and **own** (the project's own test of a source's general
statement: saddle, k-fold, EWA, ...). Verdicts: reproduced / contradicted / inconclusive (its ``why`` says what
fell short: within seed noise, ...) / untestable here (the metric is one value in every run) / not measured (also
when a run it needs did not train), marked provisional with fewer than 5 seeds per arm. No prose here:
``report.claims`` renders it.

    python -c "from paddle_mnist.studies.claims import CLAIMS; print(len(CLAIMS))"
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from paddle_mnist.studies import claim_rules as R
from paddle_mnist.studies.claim_specs import SOURCE_SPECS, SPECS
from paddle_mnist.studies.claims_table import TABLE
from paddle_mnist.studies.rules import judge
from paddle_mnist.studies.stats import welch_from_summary

VERDICTS, NOT_MEASURED = R.VERDICTS, R.NOT_MEASURED
# the records the ledger reads
RESULT_NAMES = ("course", "loss", "dropout", "optimizers", "hparams", "numpy", "save_restore", "practice",
                "trajectories", "init")
BENCH_NAMES = ("timing",)  # the benchmark records it reads (reports/bench/<name>.json): the timing claims' seconds
ARMS = ("source", "right", "own")  # the source's own experiment, the corrected setup, the project's own test
ARM_NAMES = {"source": "as the source ran it", "right": "done right",
             "own": "the project's own test of a source's general statement"}


@dataclass(frozen=True)
class Claim:
    id: str
    doc: str  # the source's file number ("000") or "README"
    section: str
    original: str
    translation: str
    condition: str
    metric: str
    rule: str
    decide: Callable[[dict], dict] | None  # a row not yet given a generic rule: its own function (``DECIDE``)
    arm: str = "source"
    course: str = ""  # source 000's own setup, for a claim judged on both arms
    decide_course: Callable[[dict], dict] | None = None
    judge: tuple | None = None  # ``(kind, params)``: the generic rule (``rules``) of the arm ``arm``
    judge_course: tuple | None = None  # the same on source 000's own setup

    def arms(self, records: dict) -> dict:
        """``{"source": verdict or None, "right": verdict or None, "own": verdict or None}``."""
        out = dict.fromkeys(ARMS)
        out[self.arm] = judge(self.judge, records) if self.judge else self.decide(records)
        if self.judge_course:
            out["source"] = judge(self.judge_course, records)
        elif self.decide_course is not None:
            out["source"] = self.decide_course(records)
        return out

    @property
    def source(self) -> str:
        return f"{self.doc} {self.section}".strip()


def _pending(experiment: str) -> Callable[[dict], dict]:
    def decide(records):
        return R.not_measured(experiment)
    return decide


# rows without a generic rule (``claim_specs``): their own decide functions, ``id: fn(records) -> verdict`` (none now;
# a row added without a spec registers one here)
DECIDE = {}
# the same claims on source 000's own setup (the ``course`` study) without a generic rule
_COURSE = {}


def _build() -> tuple:
    out = []
    for row in TABLE:
        row = dict(row)
        pending = row.pop("pending", None)
        i = row["id"]
        out.append(Claim(**row, decide=None if i in SPECS else DECIDE.get(i) or _pending(pending),
                         judge=SPECS.get(i),
                         decide_course=_COURSE.get(i) if row["course"] else None,
                         judge_course=SOURCE_SPECS.get(i) if row["course"] else None))
    return tuple(out)


CLAIMS = _build()


def verdict(claim_id: str, records: dict, arm: str | None = None) -> dict:
    """One row's verdict on ``records``: on its own arm, or on ``arm`` (``"source"``: source 000's own setup)."""
    c = next(c for c in CLAIMS if c.id == claim_id)
    return c.arms(records)[arm or c.arm]


def claims_ledger(records: dict) -> list[dict]:
    """Every claim with its verdict per arm: ``id, source, claim, ..., arms = {arm: v|None for arm in ARMS}``.

    ``records``: results records by name (``RESULT_NAMES``); a missing one gives ``not measured``.
    Each verdict dict holds the numbers (comparisons with Welch intervals, per-seed checks, facts).
    """
    out = []
    for c in CLAIMS:
        out.append({"id": c.id, "source": c.source, "doc": c.doc, "section": c.section, "claim": c.translation,
                    "original": c.original, "condition": c.condition, "course": c.course, "metric": c.metric,
                    "rule": c.rule, "arms": c.arms(records)})
    return out


def decided(ledger: list[dict], arm: str | None = None) -> list[tuple[dict, str, dict]]:
    """``(claim, arm, verdict)`` for every arm a claim has (or only ``arm``), in ledger order."""
    return [(c, a, v) for c in ledger for a, v in c["arms"].items() if v is not None and arm in (None, a)]


def decided_by(name: str, record: dict) -> list[tuple[dict, str, dict]]:
    """``(claim, arm, verdict)`` for the arms that the record ``name`` decides (measured with it, not without)."""
    without = {(c["id"], a) for c, a, v in decided(claims_ledger({})) if v["verdict"] != NOT_MEASURED}
    return [(c, a, v) for c, a, v in decided(claims_ledger({name: record}))
            if v["verdict"] != NOT_MEASURED and (c["id"], a) not in without]


def tally(ledger: list[dict]) -> dict:
    """Per arm: ``{verdict: count}`` (verdicts in ``VERDICTS`` order) and the number provisional."""
    out = {}
    for arm in ARMS:
        rows = [v for _, _, v in decided(ledger, arm)]
        out[arm] = {"counts": {k: n for k in VERDICTS if (n := sum(v["verdict"] == k for v in rows))},
                    "provisional": sum(v["provisional"] for v in rows), "claims": len(rows)}
    return out


def verdict_changes(old: list[dict], new: list[dict]) -> list[tuple[str, str, str, str]]:
    """``(claim id, arm, old verdict, new verdict)`` for every arm whose verdict differs (a missing one is ``—``)."""
    before = {(c["id"], a): v["verdict"] for c, a, v in decided(old)}
    after = {(c["id"], a): v["verdict"] for c, a, v in decided(new)}
    return [(i, a, before.get((i, a), "—"), after.get((i, a), "—")) for i, a in dict.fromkeys([*before, *after])
            if before.get((i, a)) != after.get((i, a))]


def _cmp_target(label, a_label, a, b_label, b, met):
    """A target row; with a reference arm, the Welch 95% interval of the difference (``low``/``high``, or None)."""
    row = {"target": label, "a": a_label, "b": b_label, "value": a.get("test_acc_mean"), "reference": None,
           "low": None, "high": None, "met": met}
    if b is not None:
        row["reference"] = b.get("test_acc_mean")
        ci = welch_from_summary(a.get("test_acc_mean"), a.get("test_acc_std"), a.get("n_ok"),
                                b.get("test_acc_mean"), b.get("test_acc_std"), b.get("n_ok"))
        if ci:
            row.update(low=ci["low"], high=ci["high"])
    return row


def targets(records: dict) -> list[dict]:
    """The issue's accuracy targets on the eval split: the numbers and whether each is met (no prose)."""
    out = []
    loss = (records.get("loss") or {}).get("analysis", {})
    ce = loss.get("cross_entropy")
    if ce and ce["test_acc_mean"] is not None:
        m = ce["test_acc_mean"]
        out.append(_cmp_target("cross entropy MLP ≥ 98.0%", "cross entropy", ce, None, None, m >= 0.98))
        for key, text, ok in (
                ("square_error_onehot", "squared error (one-hot) within 1 point of cross entropy",
                 lambda d: d <= 0.01),
                ("square_error_regression", "single-output regressor visibly worse (≥ 1 point)", lambda d: d >= 0.01)):
            v = loss.get(key)
            if v and v["test_acc_mean"] is not None:
                out.append(_cmp_target(text, key, v, "cross entropy", ce, ok(m - v["test_acc_mean"])))
    course = (records.get("course") or {}).get("analysis", {}).get("loss", {})
    ds, lg = course.get("double_softmax"), course.get("logits")
    if ds and lg and ds["test_acc_mean"] is not None and lg["test_acc_mean"] is not None:
        out.append(_cmp_target("double softmax visibly worse than logits on source 000's setup (≥ 1 point)",
                               "double softmax", ds, "logits", lg, lg["test_acc_mean"] - ds["test_acc_mean"] >= 0.01))
    drop = records.get("dropout")
    if drop:
        a = drop.get("analysis", {})
        d0 = next((v for v in a.values() if v["dropout"] == 0.0), None)
        d2 = next((v for v in a.values() if abs(v["dropout"] - 0.2) < 1e-9), None)
        if d0 and d2 and d0["test_acc_mean"] is not None and d2["test_acc_mean"] is not None:
            row = _cmp_target("dropout 0.2 at least as good as none (not worse beyond seed noise)", "p=0.2", d2,
                              "p=0", d0, True)
            row["met"] = row["high"] >= 0 if row["high"] is not None else d2["test_acc_mean"] >= d0["test_acc_mean"]
            out.append(row)
    tuned = (records.get("optimizers") or {}).get("analysis", {}).get("tuned", {})
    scored = {o: t for o, t in tuned.items() if t.get("test_acc_mean") is not None}
    best = max(scored, key=lambda o: scored[o]["test_acc_mean"], default=None)
    for opt, t in tuned.items():
        if t.get("gap_to_best") is not None:
            ref = None if opt == best else scored.get(best)
            out.append(_cmp_target(f"{opt} (tuned lr {t['lr']:g}) within 0.5 points of the best tuned optimizer",
                                   opt, t, best, ref, t["gap_to_best"] <= 0.005))
    return out
