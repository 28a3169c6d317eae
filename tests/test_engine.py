"""The engine on tiny synthetic data in a temp dir: records, determinism, divergence, failures, resume."""
from __future__ import annotations

import csv
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import paddle
import pytest
from conftest import REAL_DATA, REPO, default_sigint

from paddle_mnist.engine.loop import evaluate
from paddle_mnist.engine import fit as engine
from paddle_mnist.engine.checkpoint import load_state
from paddle_mnist.perf import tuned
from paddle_mnist.engine.config import TrainConfig, from_dict
from paddle_mnist.errors import ConfigError, PaddleMnistError
from paddle_mnist.engine.optimizers import OPTIMIZERS


def tiny_config(path, **kw) -> TrainConfig:
    base = dict(model="mlp", hidden=(32,), epochs=3, batch_size=8, lr=0.01, data_path=str(path), log_every=2,
                device="cpu")
    base.update(kw)
    return TrainConfig(**base)


def test_fit_writes_every_record(tiny_data, tmp_path):
    run = tmp_path / "run"
    res = engine.fit(tiny_config(tiny_data), run, experiment="t", vdl_dir=tmp_path / "vdl", command=["x"])
    assert res["status"] == "ok"
    for name in ("config.json", "metrics.csv", "summary.json", "best.pdparams", engine.CHECKPOINT):
        assert (run / name).is_file(), name
    saved = json.loads((run / "config.json").read_text())
    assert saved["command"] == ["x"] and saved["config"]["hidden"] == [32]
    rows = list(csv.DictReader((run / "metrics.csv").open()))
    assert list(rows[0]) == engine.METRIC_COLUMNS and len(rows) == 3
    assert res["history"]["epoch"] == [1, 2, 3]
    assert res["steps"] == 3 * 5 and res["iterations"]["step"][0] == 1
    assert res["test_acc"] is not None and 0 <= res["test_acc"] <= 1
    assert res["best_valid_acc"] == max(res["history"]["valid_acc"])
    assert json.loads((run / "summary.json").read_text())["test_acc"] == res["test_acc"]
    assert any((tmp_path / "vdl").iterdir()), "VisualDL log written"


def test_tiny_problem_is_learned(tiny_data, tmp_path):
    res = engine.fit(tiny_config(tiny_data, epochs=15, lr=0.01), tmp_path / "r")
    assert res["history"]["train_loss"][-1] < 0.5 * res["history"]["train_loss"][0]
    assert res["best_valid_acc"] >= 0.9


def test_same_seed_same_numbers_other_seed_differs(tiny_data, tmp_path):
    cfg = tiny_config(tiny_data, dropout=0.3)
    a = engine.fit(cfg, tmp_path / "a")
    b = engine.fit(cfg, tmp_path / "b")
    c = engine.fit(dataclasses.replace(cfg, seed=1), tmp_path / "c")
    keys = ["train_loss", "train_acc", "valid_loss", "valid_acc"]
    assert all(a["history"][k] == b["history"][k] for k in keys)
    assert a["iterations"] == b["iterations"] and a["test_acc"] == b["test_acc"]
    assert a["history"]["train_loss"] != c["history"]["train_loss"]


def test_evaluate_uses_no_grad_and_eval_mode(tiny_data):
    from paddle_mnist.datafile.store import read_arrays
    from paddle_mnist.engine.losses import get_loss
    from paddle_mnist.engine.nets import MLP

    x, y = read_arrays(tiny_data)["valid"]
    model = MLP(hidden=(16,), dropout=0.5)
    model.train()
    seen = {}

    def spy(layer, inputs, outputs):
        seen["training"] = layer.training
        seen["grad_enabled"] = paddle.is_grad_enabled()

    model.fc1.register_forward_post_hook(spy)
    loss, acc, pred = evaluate(model, x, y, get_loss("cross_entropy"))
    assert seen == {"training": False, "grad_enabled": False}
    assert model.training, "evaluate restores training mode"
    assert pred.shape == y.shape and acc == float((pred == y).mean())
    loss2, acc2, _ = evaluate(model, x, y, get_loss("cross_entropy"), batch_size=5)
    assert acc2 == acc and abs(loss2 - loss) < 1e-5


@pytest.mark.parametrize("opt", sorted(OPTIMIZERS))
def test_every_optimizer_trains(tiny_data, tmp_path, opt):
    lr = {"sgd": 0.1, "momentum": 0.05, "nesterov": 0.05, "adagrad": 0.05}.get(opt, 0.005)
    res = engine.fit(tiny_config(tiny_data, optimizer=opt, lr=lr, epochs=4), tmp_path / opt)
    assert res["status"] == "ok"
    assert res["history"]["train_loss"][-1] < res["history"]["train_loss"][0]


@pytest.mark.parametrize("loss", ["cross_entropy", "square_error_onehot", "square_error_regression"])
def test_every_loss_runs(tiny_data, tmp_path, loss):
    out = 1 if loss == "square_error_regression" else 10
    res = engine.fit(tiny_config(tiny_data, loss=loss, out_features=out, epochs=2), tmp_path / loss)
    assert res["status"] == "ok" and np.isfinite(res["history"]["train_loss"]).all()


def test_divergence_is_recorded_not_raised(tiny_data, tmp_path):
    res = engine.fit(tiny_config(tiny_data, optimizer="sgd", lr=1e12, epochs=5), tmp_path / "d")
    assert res["status"] == "diverged"
    assert res["diverged_step"] >= 1 and res["diverged_step"] <= 5 * 5
    assert res["last_finite_loss"] is None or np.isfinite(res["last_finite_loss"])
    assert json.loads((tmp_path / "d" / "summary.json").read_text())["status"] == "diverged"


def test_max_steps_budget(tiny_data, tmp_path):
    res = engine.fit(tiny_config(tiny_data, epochs=10, max_steps=7), tmp_path / "m")
    assert res["steps"] == 7 and len(res["history"]["epoch"]) == 2


def test_config_rejects_unknown_keys_and_wrong_types():
    with pytest.raises(ConfigError, match="unknown config key"):
        from_dict({"learning_rate": 0.1})
    with pytest.raises(ConfigError, match="epochs must be int"):
        TrainConfig(epochs="3")
    with pytest.raises(ConfigError, match="epochs must be positive"):
        TrainConfig(epochs=-1)
    with pytest.raises(ConfigError, match="dropout"):
        TrainConfig(dropout=1.0)
    with pytest.raises(ConfigError, match="hidden"):
        TrainConfig(hidden=(0,))
    with pytest.raises(ConfigError, match="must be bool"):
        TrainConfig(double_softmax=1)
    assert TrainConfig(lr=1).lr == 1.0 and isinstance(TrainConfig(lr=1).lr, float)
    assert from_dict(TrainConfig(hidden=(5, 6)).to_dict()) == TrainConfig(hidden=(5, 6))


def test_corrupted_checkpoint_names_the_file(tmp_path):
    bad = tmp_path / engine.CHECKPOINT
    bad.write_bytes(b"\x80\x04garbage")
    with pytest.raises(PaddleMnistError, match=str(bad)):
        load_state(bad)


def _train_cmd(runs, tiny, epochs=6, extra=()):
    code = ("import sys, dataclasses; from paddle_mnist.studies import run_experiment; "
            "r = run_experiment('mlp', seeds=(0,), runs_dir=sys.argv[1], results_dir=sys.argv[1] + '/res', "
            "models_dir=sys.argv[1] + '/models', overrides=dict(data_path=sys.argv[2], hidden=(64,), epochs=int(sys.argv[3]), "
            "batch_size=4, dropout=0.2, device='cpu'), resume='--resume' in sys.argv, progress=False)")
    return [sys.executable, "-c", code, str(runs), str(tiny), str(epochs), *extra]


def _wait_for_epoch(run_dir, epoch, proc, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        metrics = run_dir / "metrics.csv"
        if metrics.is_file() and len(metrics.read_text().strip().splitlines()) - 1 >= epoch \
                and (run_dir / engine.CHECKPOINT).is_file():
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError("training did not reach the epoch in time")


@pytest.fixture
def bigger_tiny(tmp_path):
    from conftest import make_splits, write_course_file

    return write_course_file(tmp_path / "bigger.json.gz", make_splits(n_train=400, n_valid=40, n_eval=40))


def test_sigkill_then_resume_matches_uninterrupted(bigger_tiny, tmp_path):
    ref = subprocess.run(_train_cmd(tmp_path / "ref", bigger_tiny), cwd=REPO, capture_output=True, text=True)
    assert ref.returncode == 0, ref.stderr
    runs = tmp_path / "killed"
    run_dir = runs / "mlp" / "adam-seed0"
    proc = subprocess.Popen(_train_cmd(runs, bigger_tiny), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _wait_for_epoch(run_dir, 2, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (run_dir / "summary.json").is_file(), "killed before the end"
    done = subprocess.run(_train_cmd(runs, bigger_tiny, extra=("--resume",)), cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    a = json.loads((tmp_path / "ref" / "res" / "mlp.json").read_text())["runs"][0]
    b = json.loads((runs / "res" / "mlp.json").read_text())["runs"][0]
    for key in ("train_loss", "train_acc", "valid_loss", "valid_acc", "epoch"):
        assert a["history"][key] == b["history"][key], key
    assert a["iterations"] == b["iterations"] and a["test_acc"] == b["test_acc"]
    wa = paddle.load(str(tmp_path / "ref" / "mlp" / "adam-seed0" / "best.pdparams"))
    wb = paddle.load(str(run_dir / "best.pdparams"))
    assert all(np.array_equal(wa[k].numpy(), wb[k].numpy()) for k in wa)
    # a second --resume skips the finished run
    again = subprocess.run(_train_cmd(runs, bigger_tiny, extra=("--resume",)), cwd=REPO, capture_output=True,
                           text=True)
    assert again.returncode == 0
    assert json.loads((runs / "res" / "mlp.json").read_text())["runs"][0]["history"] == b["history"]


def test_sigint_saves_and_exits_130(bigger_tiny, tmp_path):
    runs = tmp_path / "runs"
    cmd = [sys.executable, "-m", "paddle_mnist", "train", "mlp", "--seeds", "0", "--runs-dir", str(runs),
           "--results-dir", str(runs / "res"), "--epochs", "50", "--batch-size", "4", "--device", "cpu"]
    env = {**os.environ, "PADDLE_MNIST_DATA": str(bigger_tiny)}
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=default_sigint)
    run_dir = runs / "mlp" / "adam-epochs50-batchsize4-seed0"  # the CLI names runs after their overrides
    _wait_for_epoch(run_dir, 1, proc)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "--resume" in err and "Traceback" not in err
    state = load_state(run_dir / engine.CHECKPOINT)
    assert state["epoch"] >= 1 and len(state["history"]["epoch"]) == state["epoch"]


@pytest.mark.skipif(not REAL_DATA.is_file(), reason="data/mnist.json.gz missing")
def test_thread_count_does_not_change_the_numbers(tmp_path):
    """MKL_CBWR=AUTO,STRICT: two MKL threads (a lone run) and one (a parallel worker) give the same bits."""
    cfg = TrainConfig(epochs=1, train_subset=3000, valid_subset=1000, score_eval=False, device="cpu",
                      histograms=False)
    runs = [engine.fit(cfg, tmp_path / f"t{n}", threads=n) for n in (1, 2)]
    assert [r["threads"] for r in runs] == [1, 2]
    assert runs[0]["history"]["train_loss"] == runs[1]["history"]["train_loss"]
    w1, w2 = (paddle.load(str(tmp_path / f"t{n}" / "best.pdparams")) for n in (1, 2))
    assert all(np.array_equal(w1[k].numpy(), w2[k].numpy()) for k in w1)


@pytest.mark.skipif(not REAL_DATA.is_file(), reason="data/mnist.json.gz missing")
def test_determinism_check_and_its_report_section(tmp_path):
    from paddle_mnist.perf import env as _env
    from paddle_mnist.report.build import section_reproducibility
    from paddle_mnist.report.context import Context
    from paddle_mnist.studies.determinism import check_determinism

    record = check_determinism(tmp_path / "runs", tmp_path / "results")
    assert record["identical"] is True and record["max_weight_diff"] == 0.0
    assert record["threads"] == [_env.train_threads(), 1]
    assert json.loads((tmp_path / "results" / "determinism.json").read_text())["identical"] is True
    text = section_reproducibility(Context(tmp_path / "results", tmp_path, tmp_path, tmp_path))
    assert "gave identical metrics and weights" in text and "the second on 1" in text


def test_as_tensor_shares_a_gathered_batch_and_copies_a_read_only_one(tmp_path):
    batch = np.arange(12, dtype=np.float32).reshape(3, 4)
    t = tuned.as_tensor(batch)
    batch[0, 0] = 99.0
    assert t.numpy()[0, 0] == 99.0  # one buffer: no copy per training step
    labels = np.array([3, 1, 4], dtype=np.int64)
    assert tuned.as_tensor(labels).numpy().tolist() == [3, 1, 4]
    np.save(tmp_path / "x.npy", batch)
    mapped = np.load(tmp_path / "x.npy", mmap_mode="r")  # read-only: DLPack refuses it, so it is copied
    copied = tuned.as_tensor(mapped)
    assert np.array_equal(copied.numpy(), batch)
    strided = tuned.as_tensor(batch[:, ::2])
    assert np.array_equal(strided.numpy(), batch[:, ::2])
    assert tuned.as_tensor(np.zeros((0, 4), np.float32)).shape == [0, 4]


def test_load_data_batches_are_plain_arrays(tiny_data):
    from paddle_mnist.engine.batches import load_data

    xb, yb = next(load_data("train", 4, path=tiny_data)())
    assert type(xb) is np.ndarray and type(yb) is np.ndarray  # not np.memmap: no Python-level indexing per batch
    assert xb.flags.writeable and xb.flags.c_contiguous and xb.dtype == np.float32 and yb.dtype == np.int64


def test_batches_bound_for_a_gpu_are_copied_not_shared():
    batch = np.ones((2, 3), np.float32)
    assert tuned.step_kit("cpu", tuned=True).to_tensor(batch).numpy()[0, 0] == 1.0
    t = tuned.step_kit("gpu:0", tuned=True).to_tensor(batch)  # what fit gets when set_device picked a GPU
    batch[0, 0] = 5.0
    assert t.numpy()[0, 0] == 1.0
