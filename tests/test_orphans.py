"""No orphans: SIGKILL of a parent takes its worker processes and the dashboard's VisualDL child with it (Linux)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, make_splits, write_course_file

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal: Linux only")


def _stat(pid: int):
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return fields[0], int(fields[1])  # state, parent pid


def descendants(pid: int) -> set[int]:
    """Every living process below ``pid``."""
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (st := _stat(int(entry))) is not None and st[0] != "Z":
            kids.setdefault(st[1], []).append(int(entry))
    out, todo = set(), [pid]
    while todo:
        for child in kids.get(todo.pop(), []):
            out.add(child)
            todo.append(child)
    return out


def _alive(pids) -> set[int]:
    return {p for p in pids if (st := _stat(p)) is not None and st[0] != "Z"}


def _kill_parent_and_wait(proc, children, timeout=15.0) -> set[int]:
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + timeout
    while _alive(children) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = _alive(children)
    for pid in left:  # never leave them behind, even when the test fails
        os.kill(pid, signal.SIGKILL)
    return left


def test_sigkill_of_train_with_workers_leaves_no_worker(tmp_path):
    data = write_course_file(tmp_path / "d.json.gz", make_splits(n_train=400, n_valid=20, n_eval=20))
    cmd = [sys.executable, "-m", "paddle_mnist", "train", "mlp", "--seeds", "0,1", "--epochs", "200",
           "--batch-size", "4", "--workers", "2", "--device", "cpu", "--runs-dir", str(tmp_path / "runs"),
           "--results-dir", str(tmp_path / "res")]
    env = {**os.environ, "PADDLE_MNIST_DATA": str(data)}
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while len(list((tmp_path / "runs").rglob("metrics.csv"))) < 2:  # both workers are training
        assert proc.poll() is None and time.monotonic() < deadline, "training did not start"
        time.sleep(0.1)
    workers = descendants(proc.pid)
    assert len(workers) >= 2
    assert _kill_parent_and_wait(proc, workers) == set(), "workers outlived their parent"


def test_sigkill_of_dashboard_leaves_no_visualdl(tmp_path):
    """Also: ``--host 0.0.0.0`` prints a URL other machines can use (not 0.0.0.0) and a warning."""
    from paddle_mnist.apps.dashboard import free_port

    port = free_port()
    cmd = [sys.executable, "-m", "paddle_mnist", "dashboard", "--runs-dir", str(tmp_path), "--port", str(port),
           "--host", "0.0.0.0"]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()  # printed once VisualDL answers
    assert "VisualDL dashboard: http://" in line and "0.0.0.0" not in line, line
    assert line.split()[2].endswith(f":{port}/app/scalar")
    children = descendants(proc.pid)
    assert children
    assert _kill_parent_and_wait(proc, children) == set(), "VisualDL outlived the dashboard command"
    assert "warning: --host 0.0.0.0 serves the dashboard, without a password" in proc.stderr.read()
