"""``train --nproc 2``: real ``paddle.distributed.launch`` processes (gloo on the CPU).

Same global batch -> the same weights as one process (within 1e-6 after 20 steps);
a killed two-process run resumes and ends exactly where an uninterrupted one does, and its next start removes
the scratch folder the killed process left.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import REAL_DATA, REPO

from paddle_mnist.engine.safe_load import safe_load


def _train(runs, *args, env=None, **kw):
    cmd = [sys.executable, "-m", "paddle_mnist", "train", *args, "--runs-dir", str(runs), "--device", "cpu",
           "--results-dir", str(runs / "results")]
    return subprocess.run(cmd, cwd=REPO, env={**os.environ, **(env or {})}, capture_output=True, text=True,
                          timeout=300, **kw)


def _weights(path):
    return safe_load(path)["model"]


def test_two_processes_match_one_with_the_same_global_batch(tmp_path):
    env = {"PADDLE_MNIST_DATA": str(REAL_DATA)}
    args = ["mlp", "--quick", "--seeds", "0", "--epochs", "1", "--batch-size", "250"]  # 5,000 images: 20 steps
    one = _train(tmp_path / "one", *args, env=env)
    two = _train(tmp_path / "two", *args, "--nproc", "2", env=env)
    assert one.returncode == 0, one.stderr[-2000:]
    assert two.returncode == 0, two.stderr[-2000:]
    runs = sorted(p.name for p in (tmp_path / "one" / "quick" / "mlp").iterdir() if p.is_dir())
    assert len(runs) == 2 and all(r.startswith(("adam-", "adam-cosine-")) for r in runs), runs  # named by --set
    assert runs == sorted(p.name for p in (tmp_path / "two" / "quick" / "mlp").iterdir() if p.is_dir())
    for run in runs:
        a = _weights(tmp_path / "one" / "quick" / "mlp" / run / "checkpoint.pdckpt")
        b = _weights(tmp_path / "two" / "quick" / "mlp" / run / "checkpoint.pdckpt")
        assert a.keys() == b.keys()
        diff = max(float(np.abs(a[k] - b[k]).max()) for k in a)
        assert diff < 1e-6, (run, diff)
        assert safe_load(tmp_path / "two" / "quick" / "mlp" / run / "checkpoint.pdckpt")["record"]["step"] == 20


def test_batch_that_does_not_split_is_one_line(monkeypatch):
    """Each process takes an equal share of every batch: a batch size that does not divide is refused clearly."""
    from paddle_mnist.engine import distributed
    from paddle_mnist.errors import PaddleMnistError

    monkeypatch.setenv("PADDLE_TRAINERS_NUM", "2")
    monkeypatch.setenv("PADDLE_TRAINER_ID", "1")
    x, y = np.arange(40, dtype=np.float32).reshape(10, 4), np.arange(10)
    with pytest.raises(PaddleMnistError, match="does not split into 2 equal shares"):
        distributed.shard(lambda: iter([(x, y)]), 25)
    shares = list(distributed.shard(lambda: iter([(x, y)]), 10)())
    assert [s[1].tolist() for s in shares] == [[5, 6, 7, 8, 9]]  # process 1's contiguous half


def _epochs_done(run_dir) -> int:
    metrics = run_dir / "metrics.csv"
    return max(0, len(metrics.read_text().splitlines()) - 1) if metrics.is_file() else 0


def test_killed_two_process_run_resumes_to_the_same_weights(tmp_path):
    args = ["mlp", "--quick", "--seeds", "0", "--epochs", "2", "--nproc", "2"]
    scratch = tmp_path / "tmp"  # the processes' temporary folder: rank 1's scratch lands here
    scratch.mkdir()
    env = {**os.environ, "PADDLE_MNIST_DATA": str(REAL_DATA), "TMPDIR": str(scratch)}
    cmd = [sys.executable, "-m", "paddle_mnist", "train", *args, "--device", "cpu"]
    proc = subprocess.Popen(cmd + ["--runs-dir", str(tmp_path / "killed"), "--results-dir", str(tmp_path / "res")], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    run_dir = tmp_path / "killed" / "quick" / "mlp" / "adam-seed0"
    deadline = time.time() + 240
    while _epochs_done(run_dir) < 1 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.2)
    assert proc.poll() is None, "the run ended before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)  # the launcher and both training processes
    proc.wait(timeout=30)
    assert _epochs_done(run_dir) == 1
    assert list(scratch.glob("paddle_mnist-rank1-*")), "the killed rank 1 left no scratch to clean up"
    resumed = _train(tmp_path / "killed", *args, "--resume",
                     env={"PADDLE_MNIST_DATA": str(REAL_DATA), "TMPDIR": str(scratch)})
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert not list(scratch.glob("paddle_mnist-rank*")), "the next start left the killed run's scratch"
    whole = _train(tmp_path / "whole", *args, env={"PADDLE_MNIST_DATA": str(REAL_DATA)})
    assert whole.returncode == 0, whole.stderr[-2000:]
    for run in ("adam-seed0", "adam-cosine-seed0"):
        a = _weights(tmp_path / "killed" / "quick" / "mlp" / run / "checkpoint.pdckpt")
        b = _weights(tmp_path / "whole" / "quick" / "mlp" / run / "checkpoint.pdckpt")
        assert all(np.array_equal(a[k], b[k]) for k in a), run
