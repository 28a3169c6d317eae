"""The command line: help, list, dry runs, quick training of every experiment, and the bad-input catalogue."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REAL_DATA, REPO

from paddle_mnist.engine.experiment import recorded_runs
from paddle_mnist.studies import EXPERIMENTS


def cli(*args, env=None, cwd=REPO):
    return subprocess.run([sys.executable, "-m", "paddle_mnist", *map(str, args)], cwd=cwd, capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=600)


def _tree_digest(folder: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")) if folder.exists() else []:
        if p.is_file():
            h.update(str(p.relative_to(folder)).encode() + p.read_bytes())
    return h.hexdigest()


def test_help_states_defaults():
    out = cli("train", "--help").stdout
    for text in ("--epochs", "--batch-size", "--lr", "--seeds", "--device", "--quick", "default"):
        assert text in out
    assert "(default: auto)" in out


def test_list_names_every_experiment():
    out = cli("list").stdout
    for name in EXPERIMENTS:
        assert name in out


def test_dry_run_prints_configs_without_training(tmp_path):
    args = ("train", "mlp", "--dry-run", "--epochs", "3", "--lr", "0.01", "--seeds", "4,5", "--runs-dir", tmp_path)
    res = cli(*args, "--json")
    assert res.returncode == 0
    plan = json.loads(res.stdout)
    assert [p["run"] for p in plan] == ["adam-lr0.01-epochs3-seed4", "adam-lr0.01-epochs3-seed5",
                                        "adam-cosine-lr0.01-epochs3-seed4", "adam-cosine-lr0.01-epochs3-seed5"]
    assert plan[0]["config"]["epochs"] == 3 and plan[0]["config"]["lr"] == 0.01 and len(plan[0]["config"]) > 20
    table = cli(*args).stdout.splitlines()  # one row per run, its seeds together
    assert table[0].split() == ["run", "settings", "that", "differ", "epochs", "seeds"]
    assert table[1].split() == ["adam-lr0.01-epochs3", "lr=0.01", "3", "4,5"]
    assert table[2].split() == ["adam-cosine-lr0.01-epochs3", "lr=0.01", "lr_schedule=cosine", "3", "4,5"]
    assert not any(tmp_path.iterdir())


def test_quick_train_through_the_command_line(tmp_path):
    res = cli("train", "softmax", "--quick", "--runs-dir", tmp_path / "runs", "--device", "cpu")
    assert res.returncode == 0, res.stderr[-2000:]
    record = json.loads((tmp_path / "runs" / "quick" / "results" / "softmax.json").read_text())
    assert record["experiment"] == "softmax" and record["settings"]["quick"] is True
    assert [r["status"] for r in record["runs"]] == ["ok"]
    assert "results -> " in res.stdout


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_quick_run_of_every_experiment(name, quick_runs, capsys, tmp_path):
    """Every experiment's quick run (the session's) is ok, and --dry-run lists exactly the runs it recorded."""
    from paddle_mnist.apps.cli import main

    record = json.loads((quick_runs / "quick" / "results" / f"{name}.json").read_text())
    assert record["experiment"] == name and record["settings"]["quick"] is True
    assert record["runs"] and all(r["status"] in ("ok", "diverged") for r in record["runs"])
    # --dry-run lists exactly the runs the quick run recorded (sweeps, tuned and chosen runs included)
    assert main(["train", name, "--quick", "--dry-run", "--json", "--runs-dir", str(tmp_path / "dry")]) == 0
    planned = [p["run"] for p in json.loads(capsys.readouterr().out)]
    assert len(planned) == recorded_runs(record), (name, len(planned), recorded_runs(record))
    # names fixed before any choice match; hparams' hidden sweep runs at the lr its first stage chose
    names = [r["name"] for r in record["runs"] if "name" in r and r.get("stage") != "grid-hidden"]
    assert set(names) <= set(planned), sorted(set(names) - set(planned))


# ---------------------------------------------------------------- the bad-input catalogue
def _corrupt_data(tmp: Path) -> Path:
    path = tmp / "corrupt.json.gz"
    path.write_bytes(REAL_DATA.read_bytes()[:100_000])
    return path


def _not_an_image(tmp: Path) -> Path:
    path = tmp / "digit.png"
    path.write_text("this is not a picture")
    return path


def _empty_dir(tmp: Path) -> Path:
    path = tmp / "empty"
    path.mkdir(exist_ok=True)
    return path


def _a_digit(tmp: Path) -> Path:
    import numpy as np
    from PIL import Image

    from paddle_mnist.datafile.store import read_arrays

    x = read_arrays(REAL_DATA)["eval"][0][0]
    path = tmp / "seven.png"
    Image.fromarray((np.asarray(x).reshape(28, 28) * 255).astype("uint8")).save(path)
    return path


# (label, argv builder, env builder, text expected in the one-line error)
CATALOGUE = [
    ("unknown subcommand", lambda t: ["frobnicate"], None, "invalid choice"),
    ("unknown experiment", lambda t: ["train", "resnet"], None, "unknown experiment 'resnet'"),
    ("zero epochs", lambda t: ["train", "mlp", "--epochs", "0"], None, "positive integer"),
    ("negative epochs", lambda t: ["train", "mlp", "--epochs", "-3"], None, "positive integer"),
    ("fractional epochs", lambda t: ["train", "mlp", "--epochs", "2.5"], None, "positive integer"),
    ("non-numeric epochs", lambda t: ["train", "mlp", "--epochs", "ten"], None, "positive integer"),
    ("zero batch size", lambda t: ["train", "mlp", "--batch-size", "0"], None, "positive integer"),
    ("negative batch size", lambda t: ["train", "mlp", "--batch-size", "-5"], None, "positive integer"),
    ("negative learning rate", lambda t: ["train", "mlp", "--lr", "-0.1"], None, "positive number"),
    ("zero learning rate", lambda t: ["train", "mlp", "--lr", "0"], None, "positive number"),
    ("non-numeric learning rate", lambda t: ["train", "mlp", "--lr", "fast"], None, "positive number"),
    ("nan learning rate", lambda t: ["train", "mlp", "--lr", "nan"], None, "positive number"),
    ("bad seeds list", lambda t: ["train", "mlp", "--seeds", "1,x"], None, "comma-separated"),
    ("empty seeds list", lambda t: ["train", "mlp", "--seeds", ","], None, "distinct non-negative"),
    ("duplicate seeds", lambda t: ["train", "mlp", "--seeds", "1,1"], None, "distinct non-negative"),
    ("negative seed", lambda t: ["train", "mlp", "--seeds", "-1"], None, "distinct non-negative"),
    ("unknown device", lambda t: ["train", "mlp", "--device", "tpu"], None, "auto, cpu, gpu"),
    ("gpu on a CPU build", lambda t: ["train", "mlp", "--quick", "--device", "gpu"], None, "CPU-only"),
    ("missing data file", lambda t: ["train", "mlp", "--quick"],
     lambda t: {"PADDLE_MNIST_DATA": str(t / "nowhere.json.gz")}, "prepare-data"),
    ("corrupted data file", lambda t: ["train", "mlp", "--quick"],
     lambda t: {"PADDLE_MNIST_DATA": str(_corrupt_data(t))}, "truncated gzip"),
    ("missing model for predict", lambda t: ["predict", _a_digit(t), "--model", t / "none.pdparams"], None,
     "none.pdparams"),
    ("image that is not an image", lambda t: ["predict", _not_an_image(t)], None, "digit.png"),
    ("empty directory as image", lambda t: ["predict", _empty_dir(t)], None, "empty"),
    ("empty directory as IDX source", lambda t: ["prepare-data", "--idx-dir", _empty_dir(t), "--source", "dir",
                                                 "--out", t / "x.json.gz"], None, "no train-images"),
    ("unknown data source", lambda t: ["prepare-data", "--source", "ftp"], None, "invalid choice"),
    ("unknown benchmark", lambda t: ["bench", "gpu"], None, "invalid choice"),
    ("bad dashboard port", lambda t: ["dashboard", "--port", "http"], None, "positive integer"),
    ("missing results for report", lambda t: ["report", "--results-dir", t / "nowhere"], None, "nowhere"),
]
N_CASES = len(CATALOGUE)


def test_catalogue_size():
    assert N_CASES == 28


@pytest.mark.parametrize("label,argv,env,expected", CATALOGUE, ids=[c[0] for c in CATALOGUE])
def test_bad_input_gives_one_clear_line(label, argv, env, expected, tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    (results / "mlp.json").write_text('{"experiment": "mlp", "runs": []}\n')
    before, repo_before = _tree_digest(results), _tree_digest(REPO / "reports")
    args = argv(tmp_path)
    if args[0] == "train":
        args += ["--runs-dir", tmp_path / "runs", "--results-dir", results]
    res = cli(*args, env=env(tmp_path) if env else None)
    assert res.returncode != 0, res.stdout
    lines = [line for line in res.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1, res.stderr
    assert "Traceback" not in res.stderr
    assert expected in lines[0], lines[0]
    assert _tree_digest(results) == before, "existing results must be left untouched"
    assert _tree_digest(REPO / "reports") == repo_before


def test_a_failing_run_is_recorded_and_named(tmp_path):
    """One run raising does not stop the others; the command exits non-zero naming it."""
    from paddle_mnist.engine import jobs
    from paddle_mnist.engine.config import TrainConfig

    configs = [("good", "a", TrainConfig(hidden=(8,), epochs=1, train_subset=200, valid_subset=100, device="cpu")),
               ("bad", "b", TrainConfig(hidden=(8,), epochs=1, train_subset=200, valid_subset=100, device="cpu",
                                        data_path=str(tmp_path / "missing.json.gz")))]
    runs = jobs.run_configs("t", configs, runs_dir=tmp_path, progress=False, log=lambda *_: None)
    assert [r["status"] for r in runs] == ["ok", "failed"]
    assert "missing.json.gz" in runs[1]["error"]
    assert (tmp_path / "t" / "bad" / "error.txt").is_file()


def test_two_processes_share_runs_and_results(tmp_path):
    """Two experiments at once into the same runs/ and results/ never clobber each other."""
    cmds = [[sys.executable, "-m", "paddle_mnist", "train", name, "--quick", "--runs-dir", str(tmp_path / "runs"),
             "--results-dir", str(tmp_path / "res"), "--device", "cpu"] for name in ("softmax", "mlp")]
    procs = [subprocess.Popen(c, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for c in cmds]
    for p in procs:
        assert p.wait(timeout=300) == 0, p.stderr.read()
    for name in ("softmax", "mlp"):
        record = json.loads((tmp_path / "res" / f"{name}.json").read_text())
        assert record["experiment"] == name and record["runs"][0]["status"] == "ok"


def test_concurrent_writers_of_one_results_file_are_serialised(tmp_path):
    code = ("import sys, json, time; from paddle_mnist.records import file_lock, write_json, read_json\n"
            "p = sys.argv[1]\n"
            "for i in range(30):\n"
            "    with file_lock(p):\n"
            "        try: d = read_json(p)\n"
            "        except FileNotFoundError: d = {'n': 0}\n"
            "        time.sleep(0.002); d['n'] += 1; write_json(p, d)\n")
    target = tmp_path / "shared.json"
    procs = [subprocess.Popen([sys.executable, "-c", code, str(target)], cwd=REPO) for _ in range(3)]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    assert json.loads(target.read_text())["n"] == 90, "no update may be lost"


def test_corrupted_results_file_names_the_file(tmp_path):
    from paddle_mnist.errors import PaddleMnistError
    from paddle_mnist.engine.runner import load_results

    (tmp_path / "mlp.json").write_text('{"experiment": "mlp", "runs": [')
    with pytest.raises(PaddleMnistError, match="mlp.json"):
        load_results("mlp", tmp_path)

