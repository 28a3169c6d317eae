"""Settings that never lie (issue 21 items 1-3, issue 22 item 3): every setting applied to every run or refused in
one line, names from the trained config, ``--resume --epochs N`` extending a run, limits checked before any folder.

    python -m pytest -p no:cacheprovider tests/test_settings.py -q
"""
from __future__ import annotations

import json
from dataclasses import fields

import numpy as np
import pytest
from conftest import make_splits, write_course_file

from paddle_mnist.apps.cli import main
from paddle_mnist.engine.checkpoint import CHECKPOINT, load_state
from paddle_mnist.engine.config import TrainConfig
from paddle_mnist.engine.experiment import Settings, planned_jobs
from paddle_mnist.engine.optimizers import OPTIMIZERS
from paddle_mnist.engine.overrides import NAME_ORDER, _fmt, name_settings
from paddle_mnist.errors import PaddleMnistError
from paddle_mnist.studies import EXPERIMENTS

# two valid values per key: the test takes the first that differs from the experiment's base
CANDIDATES = {
    "model": ("softmax", "mlp"), "hidden": ((64, 32), (50,)), "activation": ("tanh", "sigmoid"),
    "dropout": (0.25, 0.1), "dropout_after": ("fc1", "all"), "out_features": (12, 11),
    "double_softmax": (True, False), "init": ("xavier", "msra"), "loss": ("square_error_onehot", "cross_entropy"),
    "optimizer": ("rmsprop", "adam"), "lr": (0.05, 0.02), "lr_schedule": ("cosine", "constant"),
    "momentum": (0.5, 0.8), "weight_decay": (1e-4, 2e-4), "epochs": (3, 4), "batch_size": (50, 64),
    "seed": (7, 8), "max_steps": (30, 40), "train_subset": (300, 400), "valid_subset": (100, 200),
    "data_path": ("elsewhere/mnist.json.gz", "x.json.gz"), "log_every": (7, 9), "histograms": (False, True),
    "score_eval": (False, True), "device": ("cpu", "auto"),
}
PROCESS_WIDE = ("device",)  # set for the whole process (``engine.device``); numpy studies take it and ignore it


def test_every_key_has_candidates():
    assert set(CANDIDATES) == {f.name for f in fields(TrainConfig)}


def _value(exp, key):
    return next(v for v in CANDIDATES[key] if getattr(exp.base, key) != v)


def _check_name(name: str, cfg: TrainConfig, key: str, value) -> None:
    """The name states no value its config does not hold, and states the set value."""
    for k, text in name_settings(name).items():
        assert text == _fmt(getattr(cfg, k)), (name, k)
    words = name.split("-")
    assert all(w == cfg.optimizer for w in words if w in OPTIMIZERS), name
    assert "cosine" not in words or cfg.lr_schedule == "cosine", name
    assert words[-1] == f"seed{cfg.seed}", name
    if key == "optimizer":
        assert value in words, name
    elif key in NAME_ORDER and key != "data_path":
        assert name_settings(name).get(key) == _fmt(value), (name, key)


@pytest.mark.parametrize("key", list(CANDIDATES))
@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_a_setting_is_applied_to_every_run_or_refused(name, key):
    exp = EXPERIMENTS[name]
    value = _value(exp, key)
    try:
        s = Settings.resolve(exp, (0,), False, {key: value})
        jobs = planned_jobs(exp, s, tag_runs=True)
    except PaddleMnistError as refused:
        assert str(refused) and "\n" not in str(refused)
        return
    assert key != "seed", "seed comes from --seeds only"
    assert jobs
    for _, job in jobs:
        if isinstance(job.config, TrainConfig):
            assert getattr(job.config, key) == value, (job.name, key)
            _check_name(job.name, job.config, key, value)
        elif key not in PROCESS_WIDE:
            assert job.config.get(key) == value, (job.name, key)


def test_the_issue_examples():
    exp = EXPERIMENTS["mlp"]
    s = Settings.resolve(exp, (0,), False, {"optimizer": "sgd", "lr": 0.05, "hidden": (300, 100), "epochs": 2})
    assert [j.name for _, j in planned_jobs(exp, s, tag_runs=True)] == [
        "sgd-lr0.05-hidden300x100-epochs2-seed0", "sgd-cosine-lr0.05-hidden300x100-epochs2-seed0"]
    with pytest.raises(PaddleMnistError, match="the optimizers study sets lr per optimizer; use `train mlp"):
        Settings.resolve(EXPERIMENTS["optimizers"], None, False, {"lr": 0.05})
    with pytest.raises(PaddleMnistError, match="seed is set with --seeds"):
        Settings.resolve(exp, (0,), False, {"seed": 7})


@pytest.mark.parametrize("argv, words", [
    (["optimizers", "--lr", "0.05"], "the optimizers study sets lr per optimizer; use `train mlp --set optimizer="),
    (["mlp", "--set", "seed=7", "--seeds", "0"], "seed is set with --seeds"),
    (["mlp", "--config", "CONFIG"], "seed is set with --seeds"),
    (["hparams", "--epochs", "3"], "chooses lr, hidden units and epochs on valid"),
    (["numpy", "--set", "hidden=50"], "hidden cannot be set"),
])
def test_a_refusal_is_one_line_saying_what_to_use(argv, words, tmp_path, capsys):
    (tmp_path / "c.toml").write_text("seed = 7\n")
    argv = [str(tmp_path / "c.toml") if a == "CONFIG" else a for a in argv]
    assert main(["train", *argv, "--runs-dir", str(tmp_path / "runs")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0], err
    assert not (tmp_path / "runs").exists()


def test_a_long_name_keeps_its_first_settings_and_hashes_the_rest():
    exp = EXPERIMENTS["mlp"]
    many = {"lr": 0.01, "hidden": (512, 256, 128), "dropout": 0.3, "activation": "tanh", "weight_decay": 1e-4}
    s = Settings.resolve(exp, (0,), False, many)
    other = Settings.resolve(exp, (0,), False, {**many, "dropout": 0.2})
    a, b = (planned_jobs(x, y, tag_runs=True)[0][1].name for x, y in ((exp, s), (exp, other)))
    assert a != b and a.startswith("adam-lr0.01-weightdecay0.0001-") and len(a) < 80


# ------------------------------------------------------------------ trained: one per study family
FAMILIES = {  # experiment -> settings; --quick on the tiny data (its subsets set to the tiny file's size)
    "mlp": ["--set", "hidden=16", "--set", "weight_decay=0.0001", "--set", "histograms=false"],  # a grid
    "hparams": ["--set", "weight_decay=0.0001"],  # a staged plan (a choice made on valid)
}  # (the init study's own configs are covered by the dry runs above: its 61 runs would take minutes)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return write_course_file(tmp_path_factory.mktemp("tiny") / "tiny.json.gz", make_splits(n_train=40))


@pytest.mark.parametrize("name", list(FAMILIES))
def test_trained_runs_hold_their_settings(name, tiny, tmp_path, capsys):
    argv = ["train", name, "--quick", "--seeds", "0", "--runs-dir", str(tmp_path), "--device", "cpu",
            "--set", f"data_path={tiny}", "--set", "train_subset=40", "--set", "valid_subset=12",
            "--set", "batch_size=8", *FAMILIES[name]]
    assert main(argv) == 0, capsys.readouterr().err
    folders = sorted(p.parent for p in (tmp_path / "quick" / name).rglob("config.json"))
    assert folders
    for run in folders:
        cfg = TrainConfig(**{k: tuple(v) if k == "hidden" else v
                             for k, v in json.loads((run / "config.json").read_text())["config"].items()})
        assert (cfg.weight_decay, cfg.batch_size, cfg.train_subset, cfg.data_path) == (1e-4, 8, 40, str(tiny))
        assert cfg == TrainConfig(**{k: tuple(v) if k == "hidden" else v
                                     for k, v in json.loads((run / "summary.json").read_text())["config"].items()})
        _check_name(run.name, cfg, "weight_decay", 1e-4)


# ------------------------------------------------------------------ --resume --epochs N
def _train(tmp_path, runs, *extra):
    return main(["train", "softmax", "--seeds", "0", "--runs-dir", str(tmp_path / runs), "--device", "cpu",
                 "--set", f"data_path={tmp_path / 'd.json.gz'}", "--set", "batch_size=8",
                 "--set", "histograms=false", *extra])


def test_resume_with_more_epochs_extends_a_finished_run(tmp_path, capsys):
    write_course_file(tmp_path / "d.json.gz", make_splits(n_train=80))
    assert _train(tmp_path, "a", "--epochs", "2") == 0
    assert _train(tmp_path, "a", "--epochs", "3", "--resume") == 0
    assert _train(tmp_path, "b", "--epochs", "3") == 0
    capsys.readouterr()
    two, three = (next((tmp_path / "a" / "softmax").glob(f"sgd-epochs{n}-batchsize8-data*-seed0")) for n in (2, 3))
    fresh = tmp_path / "b" / "softmax" / three.name
    ext, new, old = (json.loads((p / "summary.json").read_text()) for p in (three, fresh, two))
    assert ext["extended_from_run"] == two.name and ext["epochs_extended_from"] == 2
    assert len(old["history"]["epoch"]) == 2 and ext["config"] == new["config"]  # the 2-epoch run is kept
    for key in ("valid_loss", "train_loss", "valid_acc"):
        assert ext["history"][key] == new["history"][key]
    assert ext["iterations"] == new["iterations"] and ext["test_acc"] == new["test_acc"]
    for file in ("best.pdparams", CHECKPOINT):
        a, b = load_state(three / file), load_state(fresh / file)
        a, b = (x["model"] if "model" in x else x for x in (a, b))
        assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_resume_refuses_to_stretch_a_cosine_schedule(tmp_path, capsys):
    write_course_file(tmp_path / "d.json.gz", make_splits(n_train=40))
    assert _train(tmp_path, "a", "--epochs", "2", "--set", "lr_schedule=cosine") == 0
    before = sorted(p.name for p in (tmp_path / "a" / "softmax").iterdir())
    capsys.readouterr()
    assert _train(tmp_path, "a", "--epochs", "3", "--set", "lr_schedule=cosine", "--resume") == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cosine learning rate decays over its epoch count" in err[0]
    assert sorted(p.name for p in (tmp_path / "a" / "softmax").iterdir()) == before


# ------------------------------------------------------------------ limits before any folder (issue 22 item 3)
def _rows(tmp):
    (tmp / "nan.json").write_text('{"momentum": NaN, "lr": 1e999}')
    (tmp / "deep.json").write_text("[" * 30000 + "]" * 30000)
    (tmp / "deep.toml").write_text("x = " + "[" * 30000 + "]" * 30000)
    (tmp / "passwd.json").write_text(json.dumps({"data_path": "/etc/passwd"}))
    (tmp / "a-file").write_text("x")
    return {
        "lr=inf": ["--set", "lr=inf"], "weight_decay=nan": ["--set", "weight_decay=nan"],
        "config NaN/1e999": ["--config", tmp / "nan.json"], "lr=1e999": ["--set", "lr=1e999"],
        "hidden=70000": ["--set", "hidden=70000"], "hidden=1e8": ["--set", "hidden=100000000"],
        "data /etc/passwd": ["--set", "data_path=/etc/passwd"], "data missing": ["--set", f"data_path={tmp}/no.gz"],
        "data folder": ["--set", f"data_path={tmp}"], "config data": ["--config", tmp / "passwd.json"],
        "out_features=0": ["--set", "out_features=0"], "nproc 3": ["--nproc", "3"],
        "seed huge": ["--seed", "99999999999999999999"], "set seed": ["--set", "seed=4294967296", "--seeds", "0"],
        "seed and seeds": ["--seed", "3", "--seeds", "1,2"], "device gpu:abc": ["--set", "device=gpu:abc"],
        "results-dir a file": ["--results-dir", tmp / "a-file"], "deep JSON": ["--config", tmp / "deep.json"],
        "deep TOML": ["--config", tmp / "deep.toml"],
    }


ROWS = [  # the keys of ``_rows`` (issue 22 rows 6, 10, 17, 18, 19)
    "lr=inf", "weight_decay=nan", "config NaN/1e999", "lr=1e999", "hidden=70000", "hidden=1e8", "data /etc/passwd",
    "data missing", "data folder", "config data", "out_features=0", "nproc 3", "seed huge", "set seed",
    "seed and seeds", "device gpu:abc", "results-dir a file", "deep JSON", "deep TOML"]


@pytest.mark.parametrize("row", ROWS)
def test_bad_settings_stop_before_any_run_folder(row, tmp_path, capsys):
    extra = _rows(tmp_path)[row]
    runs = tmp_path / "runs"
    argv = ["train", "mlp", "--runs-dir", str(runs), "--epochs", "1", "--set", "max_steps=1",
            "--set", "train_subset=100", "--set", "valid_subset=100", *map(str, extra)]
    if "--seeds" not in argv and "--seed" not in argv:
        argv += ["--seeds", "0"]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    assert not runs.exists() or not any(runs.rglob("config.json")), sorted(runs.rglob("*"))
    assert not (runs / "mlp").exists()


def test_a_saved_config_over_the_limit_is_refused(tmp_path, capsys):
    run = tmp_path / "run-seed0"
    run.mkdir()
    (run / "best.pdparams").write_bytes(b"not read: the config is checked first")
    (run / "config.json").write_text(json.dumps({"config": {"model": "mlp", "hidden": [70000]}}))
    assert main(["evaluate", str(run)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "parameters" in err[0]
