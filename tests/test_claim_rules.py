"""The ledger's generic rules (``studies.rules``): every row names a kind the engine knows, and each kind gives
each of its outcomes on synthetic records.

    python -m pytest tests/test_claim_rules.py -q -p no:cacheprovider
"""
from __future__ import annotations

import pytest

from paddle_mnist.studies import claims, rules
from paddle_mnist.studies.claim_rules import (CONTRADICTED, INCONCLUSIVE, NOT_MEASURED, REPRODUCED, UNTESTABLE,
                                              all_above)

ROWS = [c for c in claims.CLAIMS if c.judge]


@pytest.mark.parametrize("claim", claims.CLAIMS, ids=lambda c: c.id)
def test_every_row_has_a_generic_rule_or_its_own_function(claim):
    if claim.judge is None:  # not converted yet: its own decide function (``claims.DECIDE``)
        assert callable(claim.decide)
        return
    for spec in (claim.judge, claim.judge_course):
        if spec is not None:
            kind, params = spec
            assert kind in rules.KINDS and isinstance(params, dict), claim.id
    verdict = claim.arms({})[claim.arm]
    assert verdict["verdict"] in rules.OUTCOMES  # the empty ledger decides every rule without error


def test_most_rows_are_decided_by_five_generic_rules():
    assert len(rules.KINDS) == 5 and len(ROWS) >= 20
    assert {c.judge[0] for c in ROWS} == set(rules.KINDS)  # every kind decides a row


def _runs(variant, vals, status="ok", key="x"):
    return [{"variant": variant, "name": f"{variant}-seed{i}", "status": status, key: v,
             "diverged_step": 3 if status != "ok" else None} for i, v in enumerate(vals)]


def _diff(a, b, test="above", roles=("decide",), status="ok"):
    spec = {"record": "r", "missing": "the r study", "test": test,
            "comparisons": [{"label": "x", "unit": "raw", "metric": "x", "pairs": [("a", "A", "b", "B")],
                             "role": role} for role in roles]}
    return rules.judge(("diff", spec), {"r": {"runs": _runs("a", a) + _runs("b", b, status)}})


HIGH, LOW, MID = [1.0, 1.01, 0.99, 1.0, 1.02], [0.5, 0.51, 0.49, 0.5, 0.52], [0.9, 1.1, 0.95, 1.05, 1.0]


def test_diff_gives_every_outcome():
    assert _diff(HIGH, LOW)["verdict"] == REPRODUCED
    assert _diff(LOW, HIGH)["verdict"] == CONTRADICTED
    assert _diff(MID, HIGH)["verdict"] == INCONCLUSIVE
    assert _diff([0.0] * 5, [0.0] * 5)["verdict"] == UNTESTABLE
    assert _diff([1.0], [0.5])["verdict"] == NOT_MEASURED  # one seed: no interval
    res = _diff(HIGH, LOW, status="diverged")  # a run that did not train decides nothing; the finding is a fact
    assert res["verdict"] == NOT_MEASURED and "diverged in 5/5 seeds" in res["facts"][0]["value"]
    assert rules.judge(("diff", {"record": "r", "missing": "the r study", "comparisons": []}), {})["experiment"] \
        == "the r study"


def test_diff_tests_and_roles():
    assert _diff(MID, HIGH, roles=("guard",))["verdict"] == REPRODUCED  # not below beyond noise: enough for a guard
    assert _diff(LOW, HIGH, roles=("guard",))["verdict"] == CONTRADICTED
    shown = _diff(HIGH, LOW, roles=("decide", "shown"))
    assert shown["verdict"] == REPRODUCED and len(shown["comparisons"]) == 2
    assert _diff(HIGH, LOW, test="any_above")["verdict"] == REPRODUCED
    assert _diff(LOW, HIGH, test="any_above")["verdict"] == CONTRADICTED
    assert _diff(MID, HIGH, test="any_above")["verdict"] == INCONCLUSIVE
    assert _diff(HIGH, LOW, test="none_above")["verdict"] == CONTRADICTED  # a claimed absence, seen
    assert _diff(MID, HIGH, test="none_above")["verdict"] == REPRODUCED


def _one(vals, status="ok", **kw):
    spec = {"record": "r", "variant": "a", "metric": "x", "label": "x", "unit": "acc", "a_label": "ours",
            "b_label": "source", "figure": 0.98, "spread": "std", "missing": "the r study", **kw}
    return rules.judge(("one_sample", spec), {"r": {"runs": _runs("a", vals, status)}})


def test_one_sample_gives_every_outcome():
    assert _one([0.979, 0.981, 0.98])["verdict"] == REPRODUCED  # the figure inside our interval
    assert _one([0.99, 0.991, 0.992])["verdict"] == REPRODUCED  # the figure below it: reached
    assert _one([0.95, 0.951, 0.952])["verdict"] == CONTRADICTED
    assert _one([0.98])["verdict"] == NOT_MEASURED


def test_one_sample_reach_margin_and_above():
    assert _one([0.96, 0.98, 1.0], margin=0.01)["verdict"] == INCONCLUSIVE  # bottom more than the margin below
    assert _one([0.979, 0.981, 0.98], margin=0.01)["verdict"] == REPRODUCED
    above = {"test": "above", "trained_first": True, "few": "2+ seeds"}
    assert _one([0.99, 0.991, 0.992], **above)["verdict"] == REPRODUCED
    assert _one([0.97, 0.971, 0.972], **above)["verdict"] == CONTRADICTED
    assert _one([0.97, 0.98, 0.99], **above)["verdict"] == INCONCLUSIVE
    assert _one([0.99] * 3, **above)["verdict"] == UNTESTABLE
    assert _one([0.99], **above)["experiment"] == "2+ seeds"
    assert _one([0.99] * 3, status="diverged", **above)["facts"][0]["label"] == "a"  # trained before the interval


def test_diff_absent_condition_and_guard_checks(monkeypatch):
    spec = {"record": "r", "missing": "the r study", "comparisons": [
        {"label": "x", "unit": "raw", "metric": "x", "pairs": [("a", "A", "b", "B")]},
        {"label": "y", "unit": "raw", "metric": "x", "pairs": [], "absent": "the r study with c"}]}
    recs = {"r": {"runs": _runs("a", HIGH) + _runs("b", LOW)}}
    assert rules.judge(("diff", spec), recs)["experiment"] == "the r study with c"  # its pairs are missing
    monkeypatch.setitem(rules.MEASURES, "regime", lambda records, p: records["regime"])
    spec = {**spec, "comparisons": spec["comparisons"][:1], "condition": "regime"}
    off = rules.judge(("diff", spec), {**recs, "regime": {"holds": False, "facts": [], "experiment": "a regime"}})
    assert off["verdict"] == NOT_MEASURED and off["experiment"] == "a regime" and len(off["comparisons"]) == 1
    on = rules.judge(("diff", spec), {**recs, "regime": {"holds": True, "facts": [{"label": "f"}]}})
    assert on["verdict"] == REPRODUCED and on["facts"] == [{"label": "f"}]
    c = dict(on["comparisons"][0])
    monkeypatch.setitem(rules.MEASURES, "guarded", lambda records, p: {"comparisons": [c], "facts": [], "checks": [
        {"label": "g", "holds": records["holds"]}]})
    assert rules.judge(("diff", {"measure": "guarded"}), {"holds": True})["verdict"] == REPRODUCED
    assert rules.judge(("diff", {"measure": "guarded"}), {"holds": False})["verdict"] == CONTRADICTED


def _share(finals):
    runs = [{"variant": "a", "name": f"a-seed{i}", "status": "ok", "last": f, "first": 1.0}
            for i, f in enumerate(finals)]
    spec = {"record": "r", "variant": "a", "metric": "last", "reference": "first", "factor": 0.9, "unit": "loss",
            "label": "did not fall", "missing": "the r study"}
    return rules.judge(("share", spec), {"r": {"runs": runs}})


def test_share_gives_every_outcome():
    assert _share([0.95, 0.99, 1.0])["verdict"] == REPRODUCED
    assert _share([0.5, 0.4, 0.3])["verdict"] == CONTRADICTED
    assert _share([0.95, 0.4, 0.3])["verdict"] == INCONCLUSIVE
    assert rules.judge(("share", {"record": "r", "variant": "a", "missing": "m"}), {})["verdict"] == NOT_MEASURED


def test_exact_and_rank_give_every_outcome(monkeypatch):
    monkeypatch.setitem(rules.MEASURES, "toy", lambda records, p: records.get("toy"))
    three = {"measure": "toy", "checks": [("value {v}", "v", ">=", 0.5)], "fails": ("v", "<", 0.2), "missing": "m"}
    for v, want in ((0.6, REPRODUCED), (0.1, CONTRADICTED), (0.3, INCONCLUSIVE)):
        assert rules.judge(("exact", three), {"toy": {"v": v}})["verdict"] == want
    two = {"measure": "toy", "checks": [("equal", "v", "==", "w")], "missing": "the toy"}
    assert rules.judge(("exact", two), {"toy": {"v": 1, "w": 1}})["verdict"] == REPRODUCED
    assert rules.judge(("exact", two), {"toy": {"v": 1, "w": 2}})["verdict"] == CONTRADICTED
    assert rules.judge(("exact", two), {})["experiment"] == "the toy"
    names = {"a": "A", "b": "B", "c": "C"}
    monkeypatch.setitem(rules.MEASURES, "counts", lambda records, p: records.get("counts") or rules.not_measured("m"))
    spec = {"measure": "counts", "order": ("a", "b", "c"), "label": "{a} < {b}", "never": "{name} never",
            "fact": "{name}: {ours} vs {source}"}
    for counts, want in (({"a": 1, "b": 2, "c": 3}, REPRODUCED), ({"a": 2, "b": 1, "c": 3}, CONTRADICTED),
                         ({"a": 1, "b": 1, "c": 3}, INCONCLUSIVE), ({"a": 1, "b": None, "c": 3}, INCONCLUSIVE)):
        rec = {"counts": counts, "names": names, "source": counts}
        assert rules.judge(("rank", spec), {"counts": rec})["verdict"] == want, counts
    assert rules.judge(("rank", spec), {})["verdict"] == NOT_MEASURED


def test_the_groups_test_contradicts_only_when_a_whole_group_lies_below():
    up, down, across = ({"low": lo, "high": hi, "reference": 1.0, "n_a": 5, "n_b": 5}
                        for lo, hi in ((1.1, 1.3), (0.7, 0.9), (0.9, 1.1)))
    assert all_above([up, up, up, up], test="groups", groups=[2, 2])["verdict"] == REPRODUCED
    assert all_above([up, down, down, up], test="groups", groups=[2, 2])["verdict"] == INCONCLUSIVE  # one each
    assert all_above([up, up, down, down], test="groups", groups=[2, 2])["verdict"] == CONTRADICTED
    assert all_above([up, across, up, up], test="groups", groups=[2, 2])["verdict"] == INCONCLUSIVE


def test_checks_guard_or_count_per_seed():
    up = {"low": 0.1, "high": 0.3, "n_a": 5, "n_b": 5}
    held, failed = {"label": "c", "holds": True}, {"label": "c", "holds": False}
    assert all_above([up], checks=[held, held])["verdict"] == REPRODUCED
    assert all_above([up], checks=[held, failed])["verdict"] == CONTRADICTED  # a guard that fails
    assert all_above([up], checks=[held, failed], per_seed=True)["verdict"] == INCONCLUSIVE  # the seeds split
    assert all_above([up], checks=[failed, failed], per_seed=True)["verdict"] == CONTRADICTED
