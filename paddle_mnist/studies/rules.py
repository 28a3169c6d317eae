"""The ledger's generic rules: a claim row names a rule kind and its parameters (``claim_specs``), and one of five
functions decides it from the records, with the shared outcomes of ``claim_rules`` (reproduced / contradicted /
inconclusive / untestable here / not measured, the last also when a run it needs did not train).

Kinds: ``diff`` (differences of means beyond seed noise, Welch 95%), ``one_sample`` (our seeds against a source's
printed figure), ``rank`` (a strict order of measured counts among rivals), ``share`` (the share of runs meeting a
condition: all, none or some) and ``exact`` (deterministic values against thresholds or equality). Metrics are data
too: a name in ``METRICS`` or a key path into a run (``("history", "valid_acc", 0)``).

    python -c "from paddle_mnist.studies.rules import judge; print(judge(('diff', {'record': 'loss'}), {}))"
"""
from __future__ import annotations

from paddle_mnist.studies.claim_rules import (CONTRADICTED, INCONCLUSIVE, NOT_MEASURED, REPRODUCED, UNTESTABLE,
                                              all_above, check, compare, compare_value, fact, from_checks,
                                              not_measured, ok_runs, per_run, result, untrained, valid_loss_rise)
from paddle_mnist.studies.claim_rules_timing import ratio_comparison
from paddle_mnist.studies.stats import mean_std, rise_share

METRICS = {"rise_share": rise_share, "valid_loss_rise": valid_loss_rise}
PAIRS = {}  # pair generators: name -> fn(record, params) -> [(a, a_label, b, b_label)]
FACTS = {}  # fact extractors: name -> fn(record, records) -> [fact]
VIEWS = {}  # record views: name -> fn(records) -> {"runs": [...], "settings": {...}} or None
MEASURES = {}  # measurements (``exact``, ``rank``, a grid for ``diff``): fn(records, params) -> dict, a verdict or None
TRAIN = "runs that train at this setting (none committed)"
SEEDS = "at least 2 seeds per arm"


def register(table: dict, name: str):
    def add(fn):
        table[name] = fn
        return fn
    return add


def value(run: dict, metric):
    """A run's value of ``metric``: a registered function's, or the key path's (ints index lists)."""
    if isinstance(metric, str) and metric in METRICS:
        return METRICS[metric](run)
    for key in (metric,) if isinstance(metric, str) else metric:
        run = run[key]
    return run


def values(rec, variant, metric, stage=None) -> list[float]:
    return per_run(rec, variant, lambda r: value(r, metric), stage)


def _pairs(rec, p) -> list[tuple]:
    pairs = p.get("pairs", ())
    return PAIRS[pairs](rec, p) if isinstance(pairs, str) else list(pairs)


def record(records, p):
    """The record a rule reads: ``records[p["record"]]``, or a registered ``VIEWS[p["view"]]`` of the records (a
    part of a record shaped as one: runs with ``variant`` and ``status``)."""
    return VIEWS[p["view"]](records) if "view" in p else records.get(p.get("record"))


def _gate(rec, p, variants):
    """``(record, None)`` when the record holds every variant and each of their runs trained, else
    ``(None, the not-measured verdict)`` (with the finding for a run that did not train)."""
    have = {r["variant"] for r in (rec or {}).get("runs", [])}
    if not rec or not variants or not set(variants) <= have:
        return None, not_measured(p["missing"])
    bad = untrained(rec, *dict.fromkeys(variants), setting=p.get("setting", ""))
    return (None, not_measured(TRAIN, facts=bad)) if bad else (rec, None)


def _facts(rec, records, p) -> list[dict]:
    return [f for name in p.get("facts", ()) for f in FACTS[name](rec, records)]


# ---------------------------------------------------------------- the five kinds
def diff(records, p) -> dict:
    """Welch 95% intervals of mean(a) − mean(b), one per pair of each comparison (or, for a comparison naming a
    ``ratio``, the timing benchmark's per-round ratio against 1: ``claim_rules_timing.ratio_comparison``), judged by
    ``claim_rules.all_above`` with each comparison's role (``decide``, ``guard`` or ``shown``) and the row's
    ``test``. ``requires``: ``(record, key path, experiment)`` that must be there once the runs are; ``gate``: the
    pairs (or their generator) whose runs must all have trained, in the findings' order (default: the compared
    ones); a comparison's ``absent``: the experiment it needs when its pairs are missing from a record that holds
    others; ``condition``: a measurement ``{holds, facts, experiment}`` of the regime the claim is about (outside
    it: not measured, the comparisons kept); ``measure``: comparisons measured elsewhere, with optional ``checks``
    (guards, or ``per_seed``), ``n_min`` and ``groups``."""
    rec = record(records, p)
    if "view" in p and rec and "verdict" in rec:  # a view that cannot show its part as runs (a non-finite path)
        return rec
    groups = [(c, [None] if "ratio" in c else _pairs(rec, {**p, **c})) for c in p.get("comparisons", ())]
    sides = [(c, pair) for c, pairs in groups for pair in pairs]
    absent = [c["absent"] for c, pairs in groups if not pairs and "absent" in c]
    if sides and absent:  # the record is there, but not the pairs this comparison needs
        return not_measured(absent[0])
    if "record" in p or "view" in p:
        order = (2, 0) if p.get("drop_first") else (0, 2)  # the findings of untrained runs: p = 0 first
        gate = _pairs(rec, {**p, "pairs": p["gate"]}) if "gate" in p else [pair for _, pair in sides if pair]
        rec, stop = _gate(rec, p, [pair[i] for pair in gate for i in order])
        if stop:
            return stop
    for name, path, experiment in p.get("requires", ()):
        try:
            value(records.get(name), path)
        except (KeyError, TypeError):
            return not_measured(experiment)
    comps, roles, facts, checks, kw = [], [], _facts(rec, records, p), [], {}
    if "measure" in p:  # comparisons measured elsewhere (a grid's single runs)
        m = MEASURES[p["measure"]](records, p)
        if "verdict" in m:
            return m
        comps, roles, facts = m["comparisons"], ["decide"] * len(m["comparisons"]), facts + m["facts"]
        checks = m.get("checks", [])  # deterministic guards: one that fails contradicts (``all_above``)
        kw = {k: m[k] for k in ("groups", "n_min") if k in m}  # the comparisons' group sizes (test ``groups``)
    for c, pair in sides:
        roles.append(c.get("role", "decide"))
        if pair is None:
            comps.append(ratio_comparison(records.get("timing"), *c["ratio"]))
            continue
        a, al, b, bl, *metrics = pair
        ma, mb = metrics or (c["metric"], c["metric"])
        label = c["label"].format(**rec.get("settings", {})) if "view" in p else c["label"]  # a view's settings
        comps.append(compare(label, c["unit"], al, values(rec, a, ma, p.get("stage")), bl,
                             values(rec, b, mb, p.get("stage"))))
    if "condition" in p:  # a regime the claim is about (``MEASURES``): outside it, not measured, numbers as findings
        cond = MEASURES[p["condition"]](records, p)
        if not cond["holds"]:
            return result(NOT_MEASURED, comps, facts=facts + cond["facts"], experiment=cond["experiment"])
        facts = facts + cond["facts"]
    return all_above(comps, roles, p.get("test", "above"), missing=p.get("few", SEEDS), facts=facts, checks=checks,
                     per_seed=p.get("per_seed", False),
                     **({"margin": p["margin"]} if "margin" in p else {}), **kw)


def one_sample(records, p) -> dict:
    """Our seeds against one figure taken as exact (a source's printed run, chance): the one-sample t 95% interval of
    our mean minus the figure. ``test`` "reach" (the default): contradicted if it lies below 0, reproduced if not and
    its bottom is at most ``margin`` below 0 (no margin: always), else inconclusive; "above": reproduced if it lies
    above 0, contradicted if at or below 0, untestable if ours is one value in every seed, else inconclusive.
    ``trained_first``: the runs must be there and trained (``_gate``) before the interval is read; ``spread``: the
    label of our std over seeds, a fact."""
    rec = records.get(p["record"])
    if p.get("trained_first"):
        rec, stop = _gate(rec, p, [p["variant"]])
        if stop:
            return stop
    ours = values(rec, p["variant"], p["metric"])
    c = compare_value(p["label"], p["unit"], p["a_label"], ours, p["b_label"], p["figure"])
    if c["low"] is None:
        return not_measured(p.get("few", p["missing"]))
    bad = untrained(rec, p["variant"])
    if bad:
        return not_measured(TRAIN, facts=bad)
    facts = [fact(p["spread"], mean_std(ours)[1], p["unit"])] if "spread" in p else []
    if p.get("test") == "above":
        c["constant"] = len(ours) >= 2 and len(set(ours)) == 1
        v = UNTESTABLE if c["constant"] else REPRODUCED if c["low"] > 0 else \
            CONTRADICTED if c["high"] <= 0 else INCONCLUSIVE
    else:
        v = CONTRADICTED if c["high"] < 0 else REPRODUCED if c["low"] >= -p.get("margin", float("inf")) else \
            INCONCLUSIVE
    return result(v, [c], n_min=len(ours), facts=facts)


def share(records, p) -> dict:
    """Per run of ``variant``: ``metric ≥ factor × reference`` (both metrics of the run); reproduced if every run
    meets it, contradicted if none does, otherwise inconclusive."""
    rec, stop = _gate(record(records, p), p, [p["variant"]])
    if stop:
        return stop
    checks = []
    for r in ok_runs(rec, p["variant"]):
        try:
            ref = p["factor"] * value(r, p["reference"])
        except (KeyError, IndexError, TypeError):
            continue
        got = value(r, p["metric"])
        checks.append(check(f"{r['name']}: {p['label']}", got, ref, got >= ref, p["unit"]))
    return from_checks(checks, n_min=len(checks))


def exact(records, p) -> dict:
    """Deterministic values (a measurement in ``MEASURES``) against thresholds: each check holds when its value
    passes ``(op, threshold)``; reproduced if all hold, contradicted if none (with ``fails``: if its value passes
    it, the other way), otherwise inconclusive. A measurement with ``each`` (e.g. one case per rate) gets every check
    per case, a check's optional fifth item its unit; ``arises`` names the measurement's flag that the claim's
    condition occurs at all (false: untestable here); its ``shown`` checks are reported after the rule's."""
    m = MEASURES[p["measure"]](records, p)
    if not isinstance(m, dict) or "verdict" in m:
        return m if m else not_measured(p["missing"])
    checks = [check(label.format(**{**m, **x}), x[key], _threshold(x, thr), _passes(x, key, op, thr), *unit)
              for x in m.get("each", [m]) for label, key, op, thr, *unit in p["checks"]]
    facts = m.get("facts", []) + [fact(label.format(**m), m[key], unit) for label, key, unit in p.get("facts", ())]
    if "arises" in p and not m[p["arises"]]:
        return result(UNTESTABLE, checks=checks, facts=facts, n_min=None)
    if "fails" in p:
        key, op, thr = p["fails"]
        held = all(c["holds"] for c in checks)
        v = REPRODUCED if held else CONTRADICTED if _passes(m, key, op, thr) else INCONCLUSIVE
        return result(v, checks=checks, facts=facts, n_min=None)
    res = from_checks(checks, n_min=None, facts=facts)
    return {**res, "checks": checks + m["shown"]} if m.get("shown") else res  # checks beside, deciding nothing


def _threshold(m, thr):
    return m[thr] if isinstance(thr, str) else thr


def _passes(m, key, op, thr) -> bool:
    """Whether ``m[key]`` passes ``op`` against the threshold; ``holds:NAME`` takes the measurement's own ``NAME``."""
    if op.startswith("holds:"):
        return bool(m[op[6:]])
    x, thr = m[key], _threshold(m, thr)
    return {">": x > thr, ">=": x >= thr, "<": x < thr, "<=": x <= thr, "==": x == thr}[op]


def rank(records, p) -> dict:
    """A strict order of measured counts (fewer is better): reproduced if each is below the next, inconclusive if a
    pair ties or one is missing, contradicted if any pair is reversed."""
    m = MEASURES[p["measure"]](records, p)
    if "verdict" in m:
        return m
    order, ours = p["order"], m["counts"]
    if any(ours.get(n) is None for n in order):
        return result(INCONCLUSIVE, facts=[fact(p["never"].format(name=m["names"][n], **m), "", "text")
                                           for n in order if ours.get(n) is None])
    pairs = list(zip(order, order[1:]))
    lr = m.get("lr", {})
    checks = [check(p["label"].format(a=m["names"][a], b=m["names"][b], na=ours[a], nb=ours[b], la=lr.get(a),
                                      lb=lr.get(b), **m), ours[a], ours[b], ours[a] < ours[b]) for a, b in pairs]
    ties = any(ours[a] == ours[b] for a, b in pairs)
    v = REPRODUCED if all(c["holds"] for c in checks) else INCONCLUSIVE if ties else CONTRADICTED
    facts = [fact(p["fact"].format(name=m["names"][n], ours=ours[n], source=m["source"][n]), ours[n])
             for n in order]
    return result(v, checks=checks, facts=facts, n_min=None)


KINDS = {"diff": diff, "one_sample": one_sample, "rank": rank, "share": share, "exact": exact}
OUTCOMES = (REPRODUCED, CONTRADICTED, INCONCLUSIVE, UNTESTABLE, NOT_MEASURED)


def judge(spec: tuple, records: dict) -> dict:
    """The verdict of a row's ``(kind, params)`` on ``records``."""
    kind, params = spec
    return KINDS[kind](records, params)
