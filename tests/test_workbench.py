"""The workbench (issue 16): try-outs never touch ``reports/``, ``--set``/``--config`` overrides, run names.

    python -m pytest -p no:cacheprovider tests/test_workbench.py -q
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO

from paddle_mnist.engine.experiment import Settings, planned_jobs
from paddle_mnist.engine.overrides import merge, parse_sets, read_config_file, run_tag
from paddle_mnist.errors import ConfigError
from paddle_mnist.studies import get_experiment


def cli(*args, cwd=REPO, env=None):
    return subprocess.run([sys.executable, "-m", "paddle_mnist", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=300)


def _reports_status() -> str:
    return subprocess.run(["git", "status", "--porcelain", "reports/"], cwd=REPO, capture_output=True,
                          text=True).stdout


def test_set_parses_every_type():
    got = parse_sets(["lr=0.01", "hidden=300,100", "histograms=false", "optimizer=sgd", "epochs=3"])
    assert got == {"lr": 0.01, "hidden": (300, 100), "histograms": False, "optimizer": "sgd", "epochs": 3}


@pytest.mark.parametrize("item, words", [("hiden=3", "unknown setting 'hiden'"), ("epochs=x", "expected an integer"),
                                         ("lr", "key=value"), ("histograms=maybe", "true/false")])
def test_set_errors_are_one_line_listing_the_keys(item, words):
    with pytest.raises(ConfigError) as err:
        parse_sets([item])
    assert words in str(err.value) and "valid keys: model, hidden" in str(err.value)
    assert "\n" not in str(err.value)


def test_config_file_json_and_toml(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps({"optimizer": "sgd", "hidden": [300, 100], "lr": 1}))
    (tmp_path / "b.toml").write_text('optimizer = "momentum"\nmomentum = 0.8\n')
    assert read_config_file(tmp_path / "a.json") == {"optimizer": "sgd", "hidden": (300, 100), "lr": 1}
    assert read_config_file(tmp_path / "b.toml") == {"optimizer": "momentum", "momentum": 0.8}
    (tmp_path / "c.json").write_text(json.dumps({"epoch": 3}))
    with pytest.raises(ConfigError, match="unknown setting 'epoch'"):
        read_config_file(tmp_path / "c.json")
    with pytest.raises(ConfigError, match="choose from"):
        merge({}, {"optimizer": "sgdd"}, {})


def test_run_names_encode_the_overrides():
    exp = get_experiment("mlp")
    assert run_tag(exp, Settings.resolve(exp, (0,), False, {"device": "cpu", "lr": exp.base.lr})) == ""
    s = Settings.resolve(exp, (0,), False, {"lr": 0.01, "hidden": (300, 100), "device": "cpu"})
    assert run_tag(exp, s) == "lr0.01-hidden300x100"
    assert [j.name for _, j in planned_jobs(exp, s, tag_runs=True)] == ["adam-lr0.01-hidden300x100-seed0",
                                                                       "adam-cosine-lr0.01-hidden300x100-seed0"]
    assert [j.name for _, j in planned_jobs(exp, s)] == ["adam-seed0", "adam-cosine-seed0"]  # the Python API
    long = Settings.resolve(exp, (0,), False, {"lr": 0.01, "hidden": (512, 256, 128), "dropout": 0.3,
                                               "activation": "tanh", "weight_decay": 1e-4})
    assert len(run_tag(exp, long)) <= 60 and run_tag(exp, long).startswith("lr0.01-weightdecay0.0001-")


def test_dry_run_shows_overridden_names_and_configs(tmp_path):
    res = cli("train", "mlp", "--dry-run", "--json", "--seeds", "0", "--set", "optimizer=sgd", "--set", "hidden=64",
              "--runs-dir", tmp_path)
    assert res.returncode == 0, res.stderr
    first = json.loads(res.stdout)[0]
    assert first["run"] == "sgd-hidden64-seed0" and first["config"]["optimizer"] == "sgd"
    assert first["config"]["hidden"] == [64]
    bad = cli("train", "mlp", "--dry-run", "--set", "colour=red")
    assert bad.returncode != 0 and len(bad.stderr.strip().splitlines()) == 1 and "valid keys" in bad.stderr


TAG = "epochs1-trainsubset300-validsubset100"


@pytest.fixture(scope="module")
def tryout(tmp_path_factory):
    """One tiny ``train`` try-out through the CLI: (its stdout, the runs folder, ``git status reports/`` before)."""
    tmp = tmp_path_factory.mktemp("tryout")
    before = _reports_status()
    res = cli("train", "softmax", "--seeds", "0", "--epochs", "1", "--set", "train_subset=300",
              "--set", "valid_subset=100", "--set", "histograms=false", "--runs-dir", tmp / "runs",
              "--device", "cpu")
    assert res.returncode == 0, res.stderr[-2000:]
    return res.stdout, tmp / "runs", before


def test_a_try_out_leaves_reports_alone(tryout):
    stdout, runs, before = tryout
    assert _reports_status() == before
    tmp_path, res = runs.parent, subprocess.CompletedProcess([], 0, stdout)
    results = tmp_path / "runs" / "results" / f"softmax-{TAG}.json"
    assert results.is_file() and f"results -> {results}" in res.stdout
    record = json.loads(results.read_text())
    assert [r["name"] for r in record["runs"]] == [f"sgd-{TAG}-seed0"]
    assert (tmp_path / "runs" / "models" / f"softmax-{TAG}.pdparams").is_file()


def test_every_run_folder_is_a_model(tryout, tmp_path):
    from PIL import Image

    from paddle_mnist.apps.evaluate import evaluate_model
    from paddle_mnist.datafile.store import read_arrays

    run_dir = tryout[1] / "softmax" / f"sgd-{TAG}-seed0"
    assert not (run_dir / "best.json").exists()
    x, y = read_arrays()["eval"]
    img = tmp_path / "digit.png"
    Image.fromarray((x[0].reshape(28, 28) * 255).astype("uint8")).save(img)
    for model in (run_dir, run_dir / "best.pdparams"):
        res = cli("predict", img, "--model", model)
        assert res.returncode == 0 and res.stdout.startswith(f"{img}: "), res.stderr
    res = evaluate_model(run_dir, "eval")
    summary = json.loads((run_dir / "summary.json").read_text())
    assert res["n"] == 10000 and res["accuracy"] == pytest.approx(summary["test_acc"], abs=1e-6)
    assert len(res["per_class"]) == 10
    assert sum(map(sum, res["confusion"])) == 10000 and res["loss"] > 0
    out = cli("evaluate", run_dir, "--split", "valid")
    assert out.returncode == 0, out.stderr
    assert "accuracy" in out.stdout and "per-class accuracy: 0:" in out.stdout and "confusion matrix" in out.stdout
    bad = cli("evaluate", tmp_path)
    assert bad.returncode != 0 and len(bad.stderr.strip().splitlines()) == 1


# ---------------------------------------------------------------- predict (item 7)
def _photo_on_gradient(path, digit_img, levels: int, size: int = 240):
    """A clear photo: dark ink of ``digit_img`` (28x28, 0..1, ink high) enlarged on paper lit left to right."""
    from PIL import Image

    ink = np.asarray(Image.fromarray((digit_img.reshape(28, 28) * 255).astype("uint8")).resize(
        (size, size), Image.Resampling.BICUBIC), dtype=np.float64) / 255
    paper = np.tile(np.linspace(250, 250 - levels, size), (size, 1))
    rng = np.random.default_rng(0)
    photo = paper * (1 - 0.85 * ink) + rng.normal(0, 2, (size, size))
    Image.fromarray(np.clip(photo, 0, 255).astype("uint8")).convert("RGB").save(path)
    return path


@pytest.mark.parametrize("levels", [40, 80])
def test_a_lighting_gradient_still_finds_the_digit(tmp_path, levels):
    from paddle_mnist.apps.predict import DEFAULT_MODEL, predict_each
    from paddle_mnist.datafile.store import read_arrays

    x, y = read_arrays()["eval"]
    picks = [int(np.flatnonzero(y == d)[0]) for d in (3, 7, 2)]
    paths = [_photo_on_gradient(tmp_path / f"d{y[i]}.jpg", x[i], levels) for i in picks]
    results = predict_each(paths, DEFAULT_MODEL)
    assert all("error" not in r for r in results), results
    assert [r["digit"] for r in results] == [int(y[i]) for i in picks]


def test_predict_reports_each_image_and_saves_inputs(tmp_path):
    from paddle_mnist.datafile.store import read_arrays

    x, y = read_arrays()["eval"]
    good = _photo_on_gradient(tmp_path / "three.png", x[int(np.flatnonzero(y == 3)[0])], 20)
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not a png")
    res = cli("predict", good, bad, good, "--top", "3", "--save-input", tmp_path / "seen")
    assert res.returncode != 0
    lines = res.stdout.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith(f"{good}: 3 ") and "top 3: 3 " in line for line in lines)
    errors = res.stderr.strip().splitlines()
    assert "broken.png" in errors[0] and "1 of 3 image(s)" in errors[-1]
    saved = sorted(p.name for p in (tmp_path / "seen").iterdir())
    assert saved == ["000-three.28x28.png", "001-three.28x28.png"]


# ---------------------------------------------------------------- progress (item 6)
def test_tracker_counts_runs_and_estimates_from_the_measured_rate_of_each_kind():
    from paddle_mnist.apps.progress import Planned, Tracker, summary_table

    now, lines = [0.0], []
    small, big = ("softmax",), ("mlp", (200, 200))
    plan = {"a": [Planned("a0", small, 100), Planned("a1", small, 100)],
            "b": [Planned("b0", big, 200), Planned("b1", big, 200)]}
    t = Tracker(plan, log=lines.append, clock=lambda: now[0])
    t.start("a")
    assert lines[-1] == "[1/2 a] 2 run(s); 0/4 runs done overall, ETA ?"
    now[0] = 10.0
    t.run_done({"name": "a0", "steps": 100})
    assert lines[-1] == "[1/2 a] runs 1/4, elapsed 0m10s, ETA 0m50s"  # 500 steps left; the big kind unmeasured
    now[0] = 20.0
    t.run_done({"name": "a1", "steps": 100})
    t.finish("a")
    t.start("b")
    assert lines[-1].startswith("[2/2 b] 2 run(s); 2/4 runs done overall, ETA 0m40s")
    now[0] = 120.0
    t.run_done({"name": "b0", "steps": 200})  # the big kind took 100 s of wall time: 0.5 s a step
    assert lines[-1].endswith("ETA 1m40s")  # b1 at its own kind's rate, not the mean over every run
    rec = {"runs": [{"name": "x-seed0", "variant": "x", "status": "ok", "best_valid_acc": 0.9, "test_acc": 0.8}],
           "summary": {"x": {"valid_acc_mean": 0.9}}, "settings": {"wall_seconds": 65}}
    table = summary_table({"mlp": rec}, 3700, {"report": "reports/REPORT.md"})
    assert "x-seed0: 90.00% / 80.00%" in table and "1m05s" in table and "total wall time 1h01m" in table
    assert table.endswith("report: reports/REPORT.md")


def test_epochs_leave_one_line_each_off_a_terminal(tiny_data, tmp_path, capsys):
    from paddle_mnist.engine.config import TrainConfig
    from paddle_mnist.engine.fit import fit

    cfg = TrainConfig(model="softmax", epochs=2, batch_size=10, data_path=str(tiny_data), device="cpu",
                      histograms=False)
    fit(cfg, tmp_path / "run-seed0", experiment="demo", progress=None)
    err = [line for line in capsys.readouterr().err.splitlines() if "epoch" in line]
    assert len(err) == 2 and err[0].startswith("demo/run-seed0 epoch 1/2: valid/acc=")
    assert "valid/acc=" in err[1] and err[1].startswith("demo/run-seed0 epoch 2/2")


def test_only_a_recorded_run_writes_the_reference(tmp_path):
    from paddle_mnist.engine.runner import results_dir_for
    from paddle_mnist.paths import RESULTS

    assert results_dir_for(False, tmp_path) == tmp_path / "results"
    assert results_dir_for(False, tmp_path, record=True) == RESULTS
    assert results_dir_for(True, tmp_path, record=True) == tmp_path / "quick" / "results"
    (tmp_path / "trial.toml").write_text('optimizer = "momentum"\nhidden = [128]\n')
    res = cli("train", "mlp", "--dry-run", "--seeds", "0", "--config", tmp_path / "trial.toml", "--set", "lr=0.02",
              "--record", "--json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)[0]["run"] == "momentum-lr0.02-hidden128-seed0"
