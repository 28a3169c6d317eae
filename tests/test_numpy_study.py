"""The numpy, trajectories and init experiments: quick runs, their results files, the eval spy, the report."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from paddle_mnist.engine import pool
from paddle_mnist.perf import env as perf_env
from paddle_mnist.studies import init as init_study
from paddle_mnist.studies import numpy_assignment as assignment
from paddle_mnist.studies import numpy_nets as numpy_study

NAMES = ("trajectories", "numpy", "init")


@pytest.fixture(scope="module")
def quick(quick_runs):
    """The results folder of the session's quick runs (``conftest.quick_runs``: every experiment once)."""
    return quick_runs / "quick" / "results"


def load(results, name):
    return json.loads((results / f"{name}.json").read_text())


# ------------------------------------------------------------------ numpy
def test_numpy_results_structure(quick):
    rec = load(quick, "numpy")
    assert rec["experiment"] == "numpy" and rec["settings"]["quick"] is True
    labels = [label for label, *_ in numpy_study.OPTIMIZER_RUNS]
    assert [r["variant"] for r in rec["runs"]] == labels
    assert list(rec["summary"]) == labels
    assert numpy_study.numpy().seeds == (0, 1, 2) and rec["settings"]["seeds"] == [0]  # --quick: the first seed
    pin = rec["settings"]["numpy_pin"]
    assert pin["env"]["OPENBLAS_NUM_THREADS"] == "1" and len(pin["runtime"]) == 1  # every worker ran the same
    blas = pin["runtime"][0]["openblas"]
    assert blas["threads"] == 1 and blas["core"] == pin["env"].get("OPENBLAS_CORETYPE", blas["core"])
    for r in rec["runs"]:
        assert r["status"] == "ok" and len(r["weights_digest"]) == 16 and "runtime" not in r
        assert 0 < r["cpu_seconds"] and 0 < r["seconds"]
        assert r["iterations"] == numpy_study.PROPER_QUICK["iterations"]
        assert 0.0 < r["test_acc"] <= 1.0 and 0.0 < r["valid_acc"] <= 1.0
        h = r["history"]
        assert len(h["epoch"]) == len(h["iteration"]) == len(h["valid_acc"]) == len(h["update_rms"]) == 3
        assert r["reference_test_acc"] == numpy_study.SOURCE_004.get(r["variant"])
    by = {r["variant"]: r for r in rec["runs"]}
    assert by["adam"]["test_acc"] > 0.85  # 200-300 steps of Adam already classify most digits
    assert by["momentum-init0.01"]["test_acc"] < by["momentum"]["test_acc"]  # source 004's tiny init crawls
    assert numpy_study.SOURCE_004 == {"adam": 0.9821, "rmsprop": 0.9759, "sgd": 0.9784, "adagrad": 0.9191,
                                    "momentum": 0.9136, "nesterov": 0.914}

    s = rec["search"]
    grid = assignment.ASSIGNMENT_QUICK
    assert len(s["runs"]) == len(grid["lr"]) * len(grid["hidden"])
    assert all("state" not in r and "runtime" not in r for r in s["runs"])
    c = s["choice"]
    best = max(r["best_valid_acc"] for r in s["runs"] if r["best_valid_acc"] is not None)
    assert c["valid_acc"] == best and 1 <= c["epochs"] <= grid["max_epochs"]
    assert 0.0 <= s["eval"]["acc"] <= 1.0 and s["baseline"]["valid_loss"] > 5  # the label variance, about 8.3
    (again,) = s["eval"]["runs"]  # the chosen point from the one --quick seed, scored once on eval
    assert (again["lr"], again["hidden"], again["epochs"], again["seed"]) == (c["lr"], c["hidden"], c["epochs"], 0)
    assert s["eval"]["acc"] == again["eval_acc"] and s["eval"]["n"] == 1
    chosen = next(r for r in s["runs"] if (r["lr"], r["hidden"]) == (c["lr"], c["hidden"]))
    assert s["rerun_matches_grid"] is True and again["valid_acc"] == c["valid_acc"]  # same seed, same bits
    assert again["weights_digest"] == chosen["weights_digest"]


def _spy(monkeypatch):
    """Log every access to the eval split and the moment the search makes its choice."""
    events = []

    class Spy(dict):
        def __getitem__(self, key):
            if key == "eval":
                events.append("eval")
            return super().__getitem__(key)

    real_read, real_choose = assignment.read_arrays, assignment.choose_point
    monkeypatch.setattr(assignment, "read_arrays", lambda *a, **k: Spy(real_read(*a, **k)))

    def choose(runs):
        events.append("choice")
        return real_choose(runs)

    monkeypatch.setattr(assignment, "choose_point", choose)
    return events


def test_assignment_search_never_touches_eval_before_its_choice(monkeypatch):
    events = _spy(monkeypatch)
    result = assignment.assignment_search(quick=True, seeds=(0, 1), workers=1, log=lambda *a: None)
    assert events == ["choice", "eval", "eval"]  # valid decides; eval is read afterwards, once per seed
    assert result["choice"]["lr"] in assignment.ASSIGNMENT_QUICK["lr"]
    assert [r["seed"] for r in result["eval"]["runs"]] == [0, 1] and result["eval"]["n"] == 2


def test_choose_point_uses_valid_accuracy_then_loss():
    runs = [{"lr": 0.1, "hidden": 50, "best_epoch": 2, "best_valid_acc": 0.8, "best_valid_loss": 1.0},
            {"lr": 0.3, "hidden": 50, "best_epoch": 1, "best_valid_acc": 0.8, "best_valid_loss": 0.5},
            {"lr": 1.0, "hidden": 50, "best_epoch": None, "best_valid_acc": None, "best_valid_loss": None}]
    assert assignment.choose_point(runs) == {"lr": 0.3, "hidden": 50, "epochs": 1, "valid_acc": 0.8,
                                             "valid_loss": 0.5}
    with pytest.raises(RuntimeError):
        assignment.choose_point(runs[2:])


# ----------------------------------------------------------- trajectories
def test_trajectories_exact_sgd_check_through_results(quick):
    rec = load(quick, "trajectories")
    assert [r["optimizer"] for r in rec["runs"]] == ["sgd", "momentum", "rmsprop", "adam", "adagrad", "nesterov",
                                                      "adadelta"]
    sgd = rec["runs"][0]
    assert sgd["lr"] == 0.95 and len(sgd["numpy"]) == len(sgd["paddle"]) == 21
    np.testing.assert_array_equal(np.round(sgd["final"], 4), [-0.1035, 0.2432])
    np.testing.assert_array_equal(np.round(sgd["paddle_final"], 4), [-0.1035, 0.2432])
    assert rec["check"]["passed"] is True and rec["check"]["expected"] == [-0.1035, 0.2432]
    assert rec["check"]["max_numpy_paddle_diff"] < 1e-6
    assert rec["summary"] == {} and all(r["status"] == "ok" for r in rec["runs"])


# ------------------------------------------------------------------ init
def test_init_zero_stays_near_chance_and_histograms(quick):
    rec = load(quick, "init")
    runs = init_study.grid_runs(rec)  # 表1's other nets are tests/test_init_table.py's
    assert len(runs) == len(init_study.INIT_OPTIMIZERS) * 3 * 5
    assert all(r["steps"] == init_study.INIT_STEPS_QUICK for r in runs if r["status"] == "ok")
    zero = [r for r in runs if r["init"] == "zero"]
    assert len(zero) == 6 and all(r["status"] == "ok" and r["best_valid_acc"] < 0.15 for r in zero)
    good = [r["best_valid_acc"] for r in runs if r["init"] in ("xavier", "msra") and r["activation"] == "tanh"]
    assert max(good) > 0.5  # the same budget trains a well-initialised net far past chance

    hists = rec["histograms"]
    assert list(hists) == ["sigmoid", "tanh", "relu"]
    for act, per_init in hists.items():
        assert list(per_init) == list(init_study.INIT_SCHEMES)
        for layers in per_init.values():
            assert len(layers) == len(init_study.INIT_HIDDEN)
            for h in layers:
                assert len(h["edges"]) == len(h["counts"]) + 1 == init_study.HIST_BINS + 1
                assert sum(h["counts"]) <= init_study.HIST_IMAGES * 100
    assert all(h["zero"] == 1.0 for h in hists["relu"]["zero"])
    assert all(h["std"] == 0.0 for h in hists["sigmoid"]["zero"])
    assert np.mean([h["saturated"] for h in hists["tanh"]["normal"]]) > 0.5  # N(0, 1) saturates tanh
    relu_msra = [h["std"] for h in hists["relu"]["msra"]]
    relu_small = [h["std"] for h in hists["relu"]["normal_small"]]
    assert max(relu_msra) / min(relu_msra) < 2 and relu_small[-1] < 1e-3 * relu_small[0]


# ----------------------------------------------------------------- report
def test_report_sections_render_from_quick_results(quick, tmp_path):
    from paddle_mnist.report import numpy_nets as numpy_report
    from paddle_mnist.report import scratch as traj_report
    from paddle_mnist.report.context import Context
    from paddle_mnist.report.init import section_init

    ctx = Context(quick, tmp_path / "figures", tmp_path / "bench", tmp_path)
    numpy_md = numpy_report.section_numpy(ctx)
    traj_md = traj_report.section_trajectories(ctx)
    init_md = section_init(ctx)
    assert numpy_md.startswith("## Numpy") and "### The assignment's net" in numpy_md
    for name in ("Adam", "RMSProp", "SGD", "AdaGrad", "Momentum", "Nesterov"):
        assert f"**{name} " in numpy_md
    lines = [line for line in numpy_md.splitlines() if line.startswith("- **")]
    assert len(lines) == 6 and all("source 004 (one run)" in line and "seed noise" in line for line in lines)
    assert "pinned environment" in numpy_md  # stated here, listed in the appendix
    assert "`OPENBLAS_NUM_THREADS=1`" in numpy_report.section_numpy_environment(ctx)
    assert "**passed**" in traj_md and "(-0.1035, 0.2432)" in traj_md
    assert "Zero initialisation stays at chance" in init_md and "Which scheme wins" in init_md
    for md in (numpy_md, traj_md, init_md):
        assert "--quick" in md
    for fig in ("numpy_assignment_search", "numpy_optimizers", "trajectories", "activation_functions",
                "init_histograms", "init_accuracy"):
        assert (tmp_path / "figures" / f"{fig}.png").stat().st_size > 1000

    empty = Context(tmp_path / "nothing", tmp_path / "figs2", tmp_path / "bench", tmp_path)
    assert "No results yet" in numpy_report.section_numpy(empty)
    assert "No results yet" in traj_report.section_trajectories(empty)
    assert "No results yet" in section_init(empty)


def _seeded(rec: dict, accs: dict) -> dict:
    """The quick record with every run repeated for three seeds, test accuracies as given per variant."""
    runs = []
    for seed in range(3):
        for r in rec["runs"]:
            runs.append(dict(r, seed=seed, name=f"{r['variant']}-seed{seed}",
                             test_acc=accs.get(r["variant"], [r["test_acc"]] * 3)[seed]))
    return dict(rec, runs=runs, settings=dict(rec["settings"], seeds=[0, 1, 2]))


def test_report_says_seed_noise_from_the_interval_not_a_threshold(quick, tmp_path):
    from paddle_mnist.report.context import Context
    from paddle_mnist.report.numpy_nets import section_numpy

    rec = load(quick, "numpy")
    (tmp_path / "r").mkdir()

    def adam_line(accs):
        (tmp_path / "r" / "numpy.json").write_text(json.dumps(_seeded(rec, {"adam": accs})))
        md = section_numpy(Context(tmp_path / "r", tmp_path / "f", tmp_path, tmp_path))
        return next(line for line in md.splitlines() if line.startswith("- **Adam"))

    far = adam_line([0.9700, 0.9702, 0.9704])  # 1.2 points below 98.21%, seeds 0.02 points apart
    assert "beyond seed noise" in far and "n = 3/1" in far
    wide = adam_line([0.9400, 0.9700, 0.9990])  # further below on average, but the seeds spread widely
    assert "within seed noise" in wide and "difference -1.24 points" in wide


# ---------------------------------------------------------------- helpers
def test_parallel_map_uses_single_threaded_workers():
    keys = ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"]
    before = {k: os.environ.get(k) for k in keys}
    assert pool.parallel_map(os.getenv, keys, workers=2) == ["1", "1"]
    assert {k: os.environ.get(k) for k in keys} == before  # the parent's environment is restored
    assert pool.parallel_map(abs, [-1, 2], workers=1) == [1, 2]
    assert isinstance(perf_env.keep_freed_memory(), bool)


def test_a_failing_numpy_run_is_recorded_and_reported(quick, tmp_path, monkeypatch):
    from paddle_mnist.report import numpy_nets as numpy_report
    from paddle_mnist.report.context import Context

    def boom(job):
        raise FloatingPointError("synthetic failure")

    monkeypatch.setattr(numpy_study, "train_numpy_net", boom)
    job = {"label": "adam", "optimizer": "adam", "lr": 1e-3, "init": "xavier", "seed": 0,
           "settings": numpy_study.PROPER_QUICK}
    failed = numpy_study.train_numpy_net_safe(job)
    assert failed["status"] == "failed" and "synthetic failure" in failed["error"]
    assert failed["test_acc"] is None and failed["reference_test_acc"] == 0.9821

    rec = load(quick, "numpy")
    rec["runs"][0] = failed
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "numpy.json").write_text(json.dumps(rec))
    md = numpy_report.section_numpy(Context(tmp_path / "results", tmp_path / "figures", tmp_path, tmp_path))
    assert "| adam | Adam | 0.001 | xavier | 0/1 (failed) |" in md and "failed, no accuracy to compare" in md


def test_numpy_runs_sit_next_to_the_paddle_optimizer_study(quick, tmp_path):
    from paddle_mnist.report import numpy_nets as numpy_report
    from paddle_mnist.report.context import Context

    results = tmp_path / "results"
    results.mkdir()
    (results / "numpy.json").write_text((quick / "numpy.json").read_text())
    cfg = {"optimizer": "adam", "lr": 0.001, "hidden": [200, 200], "epochs": 5}
    fake = {"runs": [{"variant": "adam_0.001", "config": cfg, "status": "ok", "test_acc": 0.979},
                     {"variant": "sweep_adam_0.01", "config": dict(cfg, lr=0.01), "status": "ok", "test_acc": None}],
            "summary": {"adam_0.001": {"test_acc_mean": 0.979, "test_acc_std": 0.001, "n_ok": 1},
                        "sweep_adam_0.01": {"test_acc_mean": None, "test_acc_std": None, "n_ok": 1}}}
    (results / "optimizers.json").write_text(json.dumps(fake))
    md = numpy_report.section_numpy(Context(results, tmp_path / "figures", tmp_path, tmp_path))
    row = next(line for line in md.splitlines() if line.startswith("| Adam | 0.001 |"))
    assert "`adam_0.001` (lr 0.001, 784-200-200-10, 5 epochs): 97.90 ± 0.10%" in row and "sweep" not in row
