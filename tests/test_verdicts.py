"""Verdicts that survive a referee, on the committed records: none from a run that did not train, each quote in
its source, the three kinds counted apart, each measured word measured by its definition.

    python -m pytest tests/test_verdicts.py -q -p no:cacheprovider
"""
from __future__ import annotations

import copy
import json
import re

import pytest
from conftest import REPO

from paddle_mnist.paths import RESULTS
from paddle_mnist.studies import claim_rules as R
from paddle_mnist.studies import claims
from paddle_mnist.studies.claims import verdict

SOURCES = REPO.parent / "shared" / "sources"
OWN = {"opt-momentum-saddle", "hp-kfold", "save-restore", "ewa-smooth", "ewa-bias", "gd-batch", "lr-decay",
       "input-standardise", "traj-momentum-overshoot", "traj-steps-005", "traj-rmsprop-small-lr", "opt-adagrad-decay"}


@pytest.fixture(scope="module")
def records():
    return {n: json.loads((RESULTS / f"{n}.json").read_text()) for n in claims.RESULT_NAMES
            if (RESULTS / f"{n}.json").is_file()}


def _verdicts(recs):
    return {(c["id"], a): (v["verdict"], json.dumps(v["comparisons"], sort_keys=True), json.dumps(v["checks"]))
            for c, a, v in claims.decided(claims.claims_ledger(recs))}


def test_no_verdict_is_decided_from_a_run_that_did_not_train(records):
    """Drop every variant that has a run whose status is not ok: a verdict that moves rested on such a run, and only
    ``not measured`` may move (the committed course record has a regressor that diverged in 5/5 seeds)."""
    full, bad = _verdicts(records), []
    for name, rec in records.items():
        for variant in sorted({r["variant"] for r in rec.get("runs", []) if r.get("status", "ok") != "ok"}):
            bad.append((name, variant))
            less = copy.deepcopy(records)
            less[name]["runs"] = [r for r in rec["runs"] if r["variant"] != variant]
            for key, v in _verdicts(less).items():
                if v != full[key]:
                    assert full[key][0] == R.NOT_MEASURED, (key, name, variant, full[key][0], v[0])
    assert ("course", "regression") in bad  # the check above ran against a real diverged variant
    row = {c["id"]: c for c in claims.claims_ledger(records)}["loss-speed"]["arms"]["source"]
    assert row["verdict"] == R.NOT_MEASURED and "diverged in 5/5 seeds" in row["facts"][0]["value"]


def test_every_quote_is_verbatim_in_its_source_and_section():
    if not SOURCES.is_dir():
        pytest.skip(f"the source documents are not next to this checkout ({SOURCES})")
    text = {p.name[:3]: p.read_text() for p in SOURCES.glob("0*.txt")}
    for c in claims.CLAIMS:
        assert c.doc in text, (c.id, c.doc)  # a source file, never our own notes (README)
        for part in c.original.split(" / "):
            assert part in text[c.doc], (c.id, part)
        if c.doc == "002":  # numbered sections "N. title": the quote lies between §first and §last + 1
            first, last = (int(x) for x in re.fullmatch(r"§(\d+)(?:-(\d+))?", c.section).groups(default="0"))
            lines = text["002"].splitlines()
            start = next(i for i, s in enumerate(lines) if re.match(rf"{first}\.\s*\S", s))
            end = next(i for i, s in enumerate(lines) if re.match(rf"{max(first, last) + 1}\.\s*\S", s))
            assert c.original in "\n".join(lines[start:end]), (c.id, c.section)


def test_three_kinds_of_row_counted_apart(records):
    ledger = claims.claims_ledger(records)
    kinds = {c["id"]: {a for a, v in c["arms"].items() if v is not None} for c in ledger}
    assert {i for i, k in kinds.items() if "own" in k} == OWN and all(kinds[i] == {"own"} for i in OWN)
    assert kinds["dropout-visible"] == {"source"}  # a claim about source 000's own experiment
    t = claims.tally(ledger)
    assert set(t) == {"source", "right", "own"}
    assert sum(x["claims"] for x in t.values()) == sum(len(k) for k in kinds.values())
    assert t["own"]["claims"] == len(OWN)


def test_a_metric_that_cannot_vary_is_untestable(records):
    zero = R.all_above([R.compare("rise", "loss", "p=0", [0.0] * 5, "p=0.5", [0.0] * 5)])
    assert zero["verdict"] == R.UNTESTABLE and not zero["provisional"]
    arms = {c["id"]: c["arms"] for c in claims.claims_ledger(records)}
    assert arms["dropout-overfit"]["source"]["verdict"] == R.UNTESTABLE
    assert arms["dropout-visible"]["source"]["verdict"] == R.UNTESTABLE
    for _, _, v in claims.decided(claims.claims_ledger(records)):  # no other verdict rests on a constant metric
        if v["verdict"] != R.UNTESTABLE:
            assert not all(c.get("constant") for c in v["comparisons"]) or not v["comparisons"]


def test_oscillation_on_the_committed_runs(records):
    c = verdict("opt-sgd-large", records, "source")["comparisons"][0]
    assert (round(c["mean_a"], 2), round(c["mean_b"], 2)) == (0.44, 0.10)
    assert (round(c["diff"], 2), round(c["low"], 2), round(c["high"], 2)) == (0.33, 0.25, 0.41)


def test_adam_is_fast_only_against_every_rival(records):
    res = verdict("opt-adam-fastest", records)
    rivals = {c["a"] for c in res["comparisons"] if c["metric"].startswith("train loss")}
    assert rivals == {"sgd", "momentum", "rmsprop", "adagrad"}
    assert res["verdict"] == R.CONTRADICTED  # Momentum and RMSProp are lower after epoch 1 beyond noise


def _hparams(choice_acc, at_01, std):
    grid = [{"lr": 0.3, "hidden": 200, "valid_acc": choice_acc}, {"lr": 0.1, "hidden": 200, "valid_acc": at_01}]
    return {"hparams": {"analysis": {"grid": grid, "choice": {"lr": 0.3, "hidden": 200, "valid_acc": choice_acc},
                                     "final": {"n_ok": 5, "valid_acc_std": std}}}}


def test_tuning_rules_have_three_outcomes(records):
    assert verdict("hp-lr", _hparams(0.975, 0.972, 0.0005))["verdict"] == R.REPRODUCED  # 0.3 points below, tight
    assert verdict("hp-lr", _hparams(0.975, 0.955, 0.0005))["verdict"] == R.CONTRADICTED  # 2 points below, tight
    assert verdict("hp-lr", _hparams(0.975, 0.972, 0.005))["verdict"] == R.INCONCLUSIVE  # too wide to tell
    arms = {c["id"]: c["arms"] for c in claims.claims_ledger(records)}
    assert arms["hp-lr"]["right"]["verdict"] == R.INCONCLUSIVE
    assert "3" == str(arms["hp-lr"]["right"]["facts"][0]["value"])  # lr 0.3 beats 0.1 at every hidden size
    assert arms["hp-lr"]["source"]["verdict"] == R.NOT_MEASURED  # the source's 0.1 is 0.05 there: not in the grid


def test_dropout_rise_is_one_number_in_the_table_and_the_ledger(records):
    arms = {c["id"]: c["arms"] for c in claims.claims_ledger(records)}
    c = arms["dropout-overfit"]["right"]["comparisons"][0]
    assert c["mean_a"] == pytest.approx(R.mean_rise(records["dropout"], "dropout_0"))
    row = next(line for line in (REPO / "reports" / "REPORT.md").read_text().splitlines()
               if line.startswith("| dropout_0 |"))
    assert f"| {c['mean_a']:+.4f} |" in row


# ---------------------------------------------------------------- reproduce --only
def test_reproduce_only_refuses_an_unknown_study_in_one_line(tmp_path, capsys):
    from paddle_mnist.apps.cli import build_parser

    with pytest.raises(SystemExit) as e:
        build_parser().parse_args(["reproduce", "--only", "mlp,nosuch", "--runs-dir", str(tmp_path / "runs")])
    err = capsys.readouterr().err.strip()
    assert e.value.code == 2 and "\n" not in err and "unknown experiment 'nosuch'" in err and "softmax" in err
    assert not (tmp_path / "runs").exists()
    assert build_parser().parse_args(["reproduce", "--only", "trajectories,mlp"]).only == ["mlp", "trajectories"]


def test_reproduce_only_reruns_the_named_study_and_prints_its_time(tmp_path):
    """A --quick rerun of one cheap study (trajectories, numpy toy losses, a few seconds): only its results file,
    its measured seconds in reproduce.json and in the closing table, then the report."""
    from paddle_mnist.apps.reproduce import reproduce

    lines = []
    out, failed = reproduce(quick=True, only=["trajectories"], runs_dir=tmp_path, log=lines.append)
    results = tmp_path / "quick" / "results"
    assert not failed and out == tmp_path / "quick" / "REPORT.md" and out.is_file()
    assert sorted(p.name for p in results.glob("*.json")) == ["data.json", "reproduce.json", "trajectories.json"]
    timing = json.loads((results / "reproduce.json").read_text())
    assert list(timing["experiment_seconds"]) == ["trajectories"] and timing["experiment_seconds"]["trajectories"] > 0
    table = lines[-1].splitlines()[1:]  # under its title line
    assert table[0].split()[:4] == ["experiment", "runs", "failed", "wall"]
    assert table[1].split()[0] == "trajectories" and re.fullmatch(r"\d+m\d\ds", table[1].split()[3])


def test_reproduce_only_keeps_the_last_full_run_total(tmp_path):
    from paddle_mnist.apps.reproduce import _timings
    from paddle_mnist.records import write_json

    write_json(tmp_path / "reproduce.json", {"quick": False, "wall_seconds": 2142.8, "experiments": ["mlp", "loss"],
                                             "experiment_seconds": {"mlp": 66.0, "loss": 182.0}, "cpu_count": 2})
    t = _timings(tmp_path, False, ["loss"], {"loss": 170.0}, 175.0)
    assert t["wall_seconds"] == 2142.8 and t["experiment_seconds"] == {"mlp": 66.0, "loss": 170.0}
    assert t["last_only"]["experiments"] == ["loss"] and t["last_only"]["wall_seconds"] == 175.0
