"""The studies of issue 4 (``loss``, ``dropout``, ``optimizers``, ``hparams``) and the claims ledger.

Each study's ``--quick`` run goes through ``runner.run_experiment`` on the real data
(a few seconds each); the report sections are rendered from those results. The
``hparams`` test spies on every read of the ``eval`` split and fails if one
happens before the choice is fixed.

    PADDLE_MNIST_CACHE=/tmp/pmcache python -m pytest tests/test_studies.py -q
"""
from __future__ import annotations

import copy
import dataclasses
import json
import math
from pathlib import Path

import pytest

from paddle_mnist.studies import claims, stats
from paddle_mnist.studies import hparams as hparams_study
from paddle_mnist.studies import loss as loss_study
from paddle_mnist.studies import optimizers as optimizers_study
from paddle_mnist.engine.config import TrainConfig
from paddle_mnist.report.context import Context
from paddle_mnist.engine.jobs import run_configs
from paddle_mnist.studies import run_experiment

LOSS_VARIANTS = ["cross_entropy", "square_error_onehot", "square_error_regression"]
COURSE_26 = ["double_softmax", "logits", "regression", "dropout_fc1"]
REPORT_SETTINGS = ["sgd_0.01", "sgd_0.0001", "sgd_0.9", "momentum_0.01", "adagrad_0.01", "adagrad_0.001",
                   "adam_0.001", "adam_0.01", "rmsprop_0.001"]
CLAIM_IDS = ["loss-speed", "loss-acc", "dropout-speed", "dropout-loss", "dropout-overfit",
             "dropout-visible", "opt-sgd-small", "opt-sgd-large", "opt-adagrad", "opt-adam", "opt-momentum",
             "opt-adam-fastest", "opt-advanced", "hp-lr", "hp-hidden"]


def _silent(*args, **kwargs):
    pass


@pytest.fixture(scope="module")
def quick(quick_runs):
    """The four studies' ``--quick`` records (the session's runs): {name: record}, plus the runs folder."""
    records = {name: json.loads((quick_runs / "quick" / "results" / f"{name}.json").read_text())
               for name in ("loss", "dropout", "optimizers", "hparams", "course")}
    return quick_runs, records


def _on_disk(runs_dir: Path, name: str) -> dict:
    path = runs_dir / "quick" / "results" / f"{name}.json"
    assert path.is_file()
    return json.loads(path.read_text())


# ---------------------------------------------------------------- the quick runs
def test_loss_quick(quick):
    runs_dir, records = quick
    rec = _on_disk(runs_dir, "loss")
    assert list(rec["summary"]) == LOSS_VARIANTS
    assert {r["variant"]: r["status"] for r in rec["runs"]} == {v: "ok" for v in LOSS_VARIANTS}
    a = rec["analysis"]
    assert set(a) == set(LOSS_VARIANTS)
    assert a["cross_entropy"]["lowest_logged_loss_min"] < 1.0
    # the regressor starts near E[y^2] (output ~0), far above the label variance
    lab = rec["reference"]["labels"]
    assert 8.0 < lab["variance"] < 8.6 and lab["second_moment"] > 25
    assert a["square_error_regression"]["initial_loss_mean"] > lab["variance"]
    for v in LOSS_VARIANTS:
        assert a[v]["test_acc_mean"] is not None and len(a[v]["reach"]) == 2
        run = next(r for r in rec["runs"] if r["variant"] == v)
        assert len(run["history"]["epoch"]) == 2 and run["iterations"]["step"][0] == 1


def test_course_arm_quick(quick):
    """Source 000's own setup: double softmax floored, the SGD-0.1 regressor diverged, one Dropout after fc1."""
    runs_dir, _ = quick
    rec = _on_disk(runs_dir, "course")
    cfg = {r["variant"]: r["config"] for r in rec["runs"]}
    assert list(rec["summary"])[:4] == COURSE_26 and "adagrad_0.01" in rec["summary"]
    assert cfg["double_softmax"]["double_softmax"] and cfg["double_softmax"]["optimizer"] == "sgd"
    assert cfg["double_softmax"]["lr"] == 0.1 and cfg["dropout_fc1"]["dropout_after"] == "fc1"
    assert not cfg["logits"]["double_softmax"] and cfg["regression"]["out_features"] == 1
    status = {r["variant"]: r["status"] for r in rec["runs"]}
    assert status["regression"] == "diverged" and status["double_softmax"] == status["logits"] == "ok"
    a = rec["analysis"]
    assert rec["reference"]["double_softmax_floor"] == pytest.approx(1.4612, abs=1e-4)
    # the double-softmax loss really stays above its floor; the same net on logits goes below it
    assert a["loss"]["double_softmax"]["lowest_logged_loss_min"] >= loss_study.DOUBLE_SOFTMAX_FLOOR - 1e-3
    assert a["loss"]["logits"]["lowest_logged_loss_min"] < loss_study.DOUBLE_SOFTMAX_FLOOR
    d = a["loss"]["regression"]["diverged"][0]
    assert d["step"] >= 1 and math.isfinite(d["last_finite_loss"])
    assert a["dropout"]["dropout_fc1"]["dropout"] == 0.5 and "adam_0.01" in a["optimizers"]
    assert all(r["config"]["epochs"] == 2 for r in rec["runs"])  # --quick caps every part


def test_dropout_quick(quick):
    runs_dir, _ = quick
    rec = _on_disk(runs_dir, "dropout")
    assert list(rec["summary"]) == ["dropout_0", "dropout_0.2", "dropout_0.5"]
    assert [r["config"]["dropout"] for r in rec["runs"]] == [0.0, 0.2, 0.5]
    assert all(r["status"] == "ok" for r in rec["runs"])
    for v, a in rec["analysis"].items():
        assert len(a["curves"]["valid_loss"]) == len(a["loss_gap"]) == 2
        assert a["seconds_per_epoch_mean"] > 0 and a["test_acc_mean"] is not None
        assert a["loss_gap"][-1] == pytest.approx(a["curves"]["valid_loss"][-1] - a["curves"]["train_loss"][-1])
    # measured with dropout active, p = 0.5 has the highest train loss
    a = rec["analysis"]
    assert a["dropout_0.5"]["final_train_loss"] > a["dropout_0"]["final_train_loss"]


def test_optimizers_quick(quick):
    runs_dir, _ = quick
    rec = _on_disk(runs_dir, "optimizers")
    by_stage = {}
    for r in rec["runs"]:
        by_stage.setdefault(r["stage"], []).append(r)
    assert [r["variant"] for r in by_stage["report"]] == REPORT_SETTINGS
    assert all(r["eval_scored"] for r in by_stage["report"] if r["status"] == "ok")
    grid = optimizers_study.sweep_grid(quick=True)
    assert len(by_stage["sweep"]) == sum(len(g) for g in grid.values())
    for r in by_stage["sweep"]:  # the sweep only informs a choice: eval is never scored
        assert r["eval_scored"] is False and r["test_acc"] is None
        assert r["config"]["lr"] in grid[r["config"]["optimizer"]]
    tuned = {r["config"]["optimizer"]: r for r in by_stage["tuned"]}
    assert list(tuned) == list(grid)
    for opt, r in tuned.items():
        mine = [s for s in by_stage["sweep"] if s["config"]["optimizer"] == opt and s["status"] == "ok"]
        best = max(mine, key=lambda s: (max(s["history"]["valid_acc"]), -s["config"]["lr"]))
        assert r["config"]["lr"] == best["config"]["lr"] == rec["analysis"]["choice"][opt]["lr"]
        assert r["test_acc"] is not None
    assert rec["analysis"]["best_tuned"] in grid
    assert min(t["gap_to_best"] for t in rec["analysis"]["tuned"].values()) == 0.0


def test_hparams_quick(quick):
    runs_dir, _ = quick
    rec = _on_disk(runs_dir, "hparams")
    a = rec["analysis"]
    g = hparams_study.QUICK_HPARAMS
    grid_lr = [t for t in a["grid"] if t["stage"] == "grid-lr"]
    assert sorted((t["lr"], t["hidden"]) for t in grid_lr) == sorted((lr, h) for lr in g["lrs"] for h in g["lr_hidden"])
    at_best = {t["hidden"] for t in a["grid"] if t["lr"] == a["best_lr_stage1"]}
    assert at_best == set(g["hidden"]) | set(g["lr_hidden"])
    assert a["grid_runs_scored_on_eval"] == 0
    c = a["choice"]
    assert c["valid_acc"] == max(v for t in a["grid"] if t["valid_acc"] is not None for v in t["curve"])
    final = [r for r in rec["runs"] if r["stage"] == "final"]
    assert len(final) == 1 and final[0]["test_acc"] is not None
    cfg = final[0]["config"]
    assert (cfg["lr"], cfg["hidden"], cfg["epochs"]) == (c["lr"], [c["hidden"]] * 2, c["epochs"])


# ---------------------------------------------------------------- eval is read only after the choice
class _GuardedArrays(dict):
    def __init__(self, arrays, events, state):
        super().__init__(arrays)
        self.events, self.state = events, state

    def __getitem__(self, key):
        if key == "eval":
            self.events.append("eval" if self.state["chosen"] else "EARLY-EVAL")
            if not self.state["chosen"]:
                raise AssertionError("eval read before the hyperparameters were chosen")
        return super().__getitem__(key)


@pytest.fixture
def eval_spy(monkeypatch):
    """Every ``engine.read_arrays`` result records (and, before the choice, refuses) reads of ``eval``."""
    from paddle_mnist.engine import fit as engine

    events, state = [], {"chosen": False}
    real_read = engine.read_arrays
    real_choose = hparams_study.choose_hparams

    def read(path=None, **kw):
        return _GuardedArrays(real_read(path, **kw), events, state)

    def choose(grid_runs):
        events.append("choice")
        state["chosen"] = True
        return real_choose(grid_runs)

    monkeypatch.setattr(engine, "read_arrays", read)
    monkeypatch.setattr(hparams_study, "choose_hparams", choose)
    return events, state


def test_hparams_never_reads_eval_before_its_choice(eval_spy, tmp_path):
    events, _ = eval_spy
    rec = run_experiment("hparams", quick=True, runs_dir=tmp_path, log=_silent)
    assert all(r["status"] == "ok" for r in rec["runs"]), [r.get("error") for r in rec["runs"]]
    assert "EARLY-EVAL" not in events
    assert events[0] == "choice" and events.count("eval") == 1  # one final run (one seed under --quick)
    assert sum(r["stage"].startswith("grid") for r in rec["runs"]) == 7


def test_eval_spy_catches_an_early_read(eval_spy, tmp_path):
    """The spy is not vacuous: an ordinary engine run scores eval and is caught before the choice."""
    events, _ = eval_spy
    cfg = TrainConfig(epochs=1, train_subset=500, valid_subset=200, histograms=False)
    (run,) = run_configs("spy", [("r", "r", cfg)], runs_dir=tmp_path, log=_silent)
    assert events == ["EARLY-EVAL"] and run["status"] == "failed"


# ---------------------------------------------------------------- divergence is a record, not an exception
@pytest.mark.parametrize("valid_only", [False, True])
def test_diverging_configuration_is_recorded(tmp_path, valid_only):
    cfg = TrainConfig(optimizer="sgd", lr=1e6, epochs=2, train_subset=1000, valid_subset=200, histograms=False)
    job = ("huge-lr", "huge-lr", dataclasses.replace(cfg, score_eval=not valid_only), {"stage": "sweep"})
    (run,) = run_configs("diverge", [job], runs_dir=tmp_path, log=_silent)
    assert run["status"] == "diverged"
    assert isinstance(run["diverged_step"], int) and 1 <= run["diverged_step"] <= 10
    assert math.isfinite(run["last_finite_loss"]) and run["test_acc"] is None
    assert run["history"]["epoch"] == []  # it diverged inside the first epoch
    # and a diverged rate can never be chosen
    ok = copy.deepcopy(run)
    ok.update(status="ok", history={"valid_acc": [0.5], "epoch": [1]}, config=dict(run["config"], lr=0.1))
    assert optimizers_study.choose_learning_rates([run, ok])["sgd"]["lr"] == 0.1


# ---------------------------------------------------------------- pure functions
def _run(lr, hidden, curve, status="ok", name=None, stage="grid-lr"):
    return {"status": status, "name": name or f"lr{lr}-h{hidden}", "stage": stage,
            "config": {"lr": lr, "hidden": [hidden, hidden], "optimizer": "sgd"},
            "history": {"epoch": list(range(1, len(curve) + 1)), "valid_acc": curve}}


def test_choose_hparams_uses_the_best_epoch_and_breaks_ties_small():
    runs = [_run(0.1, 200, [0.90, 0.95, 0.94]), _run(0.3, 100, [0.93, 0.95]), _run(1.0, 50, [0.99], "diverged")]
    c = hparams_study.choose_hparams(runs)
    assert (c["lr"], c["hidden"], c["epochs"], c["valid_acc"]) == (0.3, 100, 2, 0.95)  # tie: fewer units
    assert c["n_runs"] == 2 and c["n_points"] == 5
    assert hparams_study.best_lr_of(runs) == 0.1  # tie at 0.95: the smaller rate
    assert hparams_study.choose_hparams([_run(0.1, 50, [0.9], "diverged")]) is None


def test_first_reach_and_roughness():
    run = {"history": {"valid_acc": [0.90, 0.955, 0.975], "seconds": [2.0, 3.0, 4.0]}, "steps_per_epoch": 500,
           "steps": 1500, "iterations": {"step": [1, 500, 600, 700, 800], "train_loss": [2.3, 1.0, 0.5, 1.5, 0.5]}}
    assert stats.first_reach(run, 0.95) == {"epoch": 2, "steps": 1000, "seconds": 5.0}
    assert stats.first_reach(run, 0.99) is None
    s = stats.reach_summary([run, dict(run, history={"valid_acc": [0.1], "seconds": [1.0]})], 0.97)
    assert (s["n"], s["n_reached"], s["epoch_mean"]) == (2, 1, 3)
    assert stats.roughness(run) == pytest.approx(1.0 / (2.5 / 3))  # |1.0| + |1.0| over mean 0.8333


# ---------------------------------------------------------------- claims ledger and report sections
def test_claims_ledger_from_quick_results(quick):
    _, records = quick
    ledger = claims.claims_ledger(records)
    ids = [c["id"] for c in ledger]
    assert [i for i in ids if i in CLAIM_IDS] == CLAIM_IDS  # the original rows keep their ids and order
    for c in ledger:
        assert all(v is None or v["verdict"] in claims.VERDICTS for v in c["arms"].values()), c
        assert c["claim"] and c["source"] and c["rule"] and c["original"]
    empty = claims.claims_ledger({})
    assert {v["verdict"] for c, a, v in claims.decided(empty) if c["id"] != "adadelta-lr0"} == {"not measured"}
    assert len(empty) == len(ledger)
    course = {c["id"]: c["arms"]["source"]["verdict"] for c in ledger if c["arms"]["source"]}
    assert course["loss-speed"] == course["loss-acc"] == "not measured"  # a diverged regressor decides nothing


def _set_acc(rec, variant, values):
    runs = [r for r in rec["runs"] if r["variant"] == variant and r["status"] == "ok"]
    for r, v in zip(runs, values):
        r["test_acc"] = v


def test_claim_verdicts_follow_the_numbers():
    """Welch verdicts on the committed loss record with its test accuracies replaced (no training)."""
    from paddle_mnist.paths import RESULTS

    rec = json.loads((RESULTS / "loss.json").read_text())

    def verdict():
        return next(c for c in claims.claims_ledger({"loss": rec}) if c["id"] == "loss-acc")["arms"]["right"]["verdict"]

    _set_acc(rec, "cross_entropy", [0.980, 0.981, 0.979, 0.980, 0.981])
    _set_acc(rec, "square_error_onehot", [0.950, 0.951, 0.949, 0.950, 0.951])
    _set_acc(rec, "square_error_regression", [0.80, 0.81, 0.79, 0.80, 0.81])
    assert verdict() == "reproduced"
    _set_acc(rec, "square_error_onehot", [0.985, 0.970, 0.990, 0.975, 0.985])  # overlaps cross entropy: within noise
    assert verdict() == "inconclusive"
    _set_acc(rec, "square_error_regression", [0.990, 0.991, 0.989, 0.990, 0.991])
    assert verdict() == "contradicted"
    # targets: a 98.1% cross entropy meets the 98.0% target, a 97.9% one does not
    a = rec["analysis"]
    a["cross_entropy"].update(test_acc_mean=0.981)
    assert claims.targets({"loss": rec})[0]["met"] is True
    a["cross_entropy"].update(test_acc_mean=0.979)
    assert claims.targets({"loss": rec})[0]["met"] is False


def test_report_sections_render_from_quick_results(quick, tmp_path):
    from paddle_mnist.report import studies as study_report

    runs_dir, records = quick
    ctx = Context(runs_dir / "quick" / "results", tmp_path / "figures", tmp_path / "bench", tmp_path)
    md = {f.__name__: f(ctx) for f in study_report.SECTIONS}
    assert md["section_loss"].startswith("## 2.6.1-2.6.2")
    for v in LOSS_VARIANTS:
        assert f"| {v} |" in md["section_loss"]
    assert "diverged" in md["section_loss"] and "1.4612" in md["section_loss"]
    for v in ("dropout_0", "dropout_0.2", "dropout_0.5"):
        assert f"| {v} |" in md["section_dropout"]
    for v in REPORT_SETTINGS:
        assert f"| {v} |" in md["section_optimizers"]
    c = records["hparams"]["analysis"]["choice"]
    assert f"lr {c['lr']:g}, {c['hidden']} hidden units, {c['epochs']} epoch" in md["section_hparams"]
    ledger = md["section_claims"]
    for claim in claims.claims_ledger(records):
        assert claim["claim"] in ledger
    rows = [line for line in ledger.splitlines() if line.startswith("| ") and line.split("|")[1].strip().isdigit()]
    assert len(rows) == len(claims.CLAIMS)
    assert all(any(f"**{v}**" in row for v in claims.VERDICTS) for row in rows)
    assert "cross entropy MLP ≥ 98.0%" in ledger
    figures = ["loss_study", "dropout_study", "optimizers_curves", "optimizers_sweeps", "hparams"]
    for name in figures:
        png = tmp_path / "figures" / f"{name}.png"
        assert png.is_file() and png.stat().st_size > 10_000
        assert f"](figures/{name}.png)" in "".join(md.values())
    assert all("--quick" in text for name, text in md.items())


def test_sections_without_results(tmp_path):
    from paddle_mnist.report import studies as study_report

    ctx = Context(tmp_path / "none", tmp_path / "figures", tmp_path / "bench", tmp_path)
    for f, name in zip(study_report.SECTIONS[:4], ("loss", "dropout", "optimizers", "hparams")):
        assert f"python -m paddle_mnist train {name}" in f(ctx)
    assert "not measured" in study_report.section_claims(ctx)
    assert not (tmp_path / "figures").exists()


def test_registry_and_cli_dry_run(capsys):
    from paddle_mnist.apps.cli import main
    from paddle_mnist.studies import EXPERIMENTS

    names = list(EXPERIMENTS)
    assert [n for n in names if n in ("loss", "dropout", "optimizers", "hparams")] == ["loss", "dropout",
                                                                                       "optimizers", "hparams"]
    assert names.index("loss") == names.index("mlp") + 1
    assert [v for v, _ in EXPERIMENTS["optimizers"].variants] == REPORT_SETTINGS
    assert main(["train", "loss", "--quick", "--dry-run", "--json"]) == 0
    assert [p["run"] for p in json.loads(capsys.readouterr().out)] == [f"{v}-seed0" for v in LOSS_VARIANTS]
