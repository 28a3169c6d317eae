"""Issue 22, the filesystem rows: links, other people's files, planted weights, the distributed store, scratch.

A linked run folder, experiment folder, VisualDL folder or lock file is refused in one line before anything is
cleared or written, and the outside file's bytes and the outside folder's listing stay as they were; a fresh
start never deletes a file no run wrote; a planted ``best.pdparams`` is refused before it is copied anywhere;
``train --nproc`` meets on loopback in a private network; a killed run's scratch is removed on the next start.
Commands run in-process on the tiny synthetic data.
"""
from __future__ import annotations

import os
import pickle
import socket
import subprocess
import sys
import tempfile

import pytest
from conftest import REAL_DATA, make_splits, write_course_file

from paddle_mnist.apps.cli import main
from paddle_mnist.engine import distributed
from paddle_mnist.errors import PaddleMnistError
from paddle_mnist.records import LinkRefused, file_lock

TRAIN = ["train", "softmax", "--epochs", "1", "--seeds", "0", "--device", "cpu"]
RUN = "sgd-epochs1-seed0"  # the run folder the CLI names for TRAIN (the softmax base trains SGD)


@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory):
    """The tiny synthetic data and its cache, made once for this module."""
    folder = tmp_path_factory.mktemp("tiny")
    return write_course_file(folder / "tiny.json.gz", make_splits()), folder / "cache"


@pytest.fixture
def cli(tiny_file, tmp_path, monkeypatch, capsys):
    """``cli(*extra)`` -> (exit code, stderr) of ``train softmax`` on tiny data under ``tmp_path/R``."""
    monkeypatch.setenv("PADDLE_MNIST_DATA", str(tiny_file[0]))
    monkeypatch.setenv("PADDLE_MNIST_CACHE", str(tiny_file[1]))

    def run(*extra):
        code = main([str(a) for a in [*TRAIN, "--runs-dir", tmp_path / "R", "--results-dir",
                                      tmp_path / "R" / "results", *extra]])
        return code, capsys.readouterr().err
    return run


def _outside(tmp_path):
    """The user's own folder and file a link points at."""
    home = tmp_path / "home"
    (home / "data").mkdir(parents=True)
    (home / "data" / "keep.bin").write_bytes(b"the user's data\x00\x01")
    (home / "notes.txt").write_text("the user's notes\n")
    return home


def _state(folder):
    """Every path under ``folder`` with its bytes (a file) or None (a folder)."""
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None) for p in sorted(folder.rglob("*"))}


def _one_line(code, err):
    lines = [line for line in err.splitlines() if line.strip()]
    assert code not in (0, None), err
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


# (case, path of the link under R, link target under home, fragment of the one-line error)
LINKS = [
    ("linked run folder", f"softmax/{RUN}", "data", "is a link"),
    ("linked experiment folder", "softmax", "data", "is a link"),
    ("linked VisualDL folder", f"vdl/softmax/{RUN}", "data", "is a link"),
    ("linked results folder", "results", "data", "is a link"),
    ("linked run lock", f"softmax/{RUN}/.lock", "notes.txt", "lock file is a link"),
    ("linked experiment lock", "softmax/.lock", "notes.txt", "lock file is a link"),
    ("hard-linked experiment lock", "softmax/.lock", "notes.txt", "hard link"),
]


@pytest.mark.parametrize("case,where,target,fragment", LINKS, ids=[c[0] for c in LINKS])
def test_a_link_in_the_runs_is_refused_and_nothing_outside_changes(case, where, target, fragment, tmp_path, cli):
    home = _outside(tmp_path)
    before = _state(home)
    link = tmp_path / "R" / where
    link.parent.mkdir(parents=True, exist_ok=True)
    if case.startswith("hard-linked"):
        os.link(home / target, link)
    else:
        link.symlink_to(home / target)
    line = _one_line(*cli())
    assert fragment in line and str(link) in line, line
    assert _state(home) == before, "a file or folder outside the runs changed"
    assert not (tmp_path / "R" / "softmax" / RUN / "summary.json").exists(), "a run trained anyway"


@pytest.mark.parametrize("where", ["quick/softmax/default-seed0", "quick/softmax/default-seed0/.lock", "quick"])
def test_the_issues_quick_reproduction_is_refused(where, tmp_path, monkeypatch, capsys):
    """Issue 22 rows 1-2 as filed: ``train softmax --quick --seeds 0 --runs-dir R`` over a linked folder or lock."""
    monkeypatch.setenv("PADDLE_MNIST_DATA", str(REAL_DATA))
    home = _outside(tmp_path)
    before = _state(home)
    link = tmp_path / "R" / where
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(home / ("notes.txt" if where.endswith(".lock") else "data"))
    code = main(["train", "softmax", "--quick", "--seeds", "0", "--device", "cpu", "--runs-dir", str(tmp_path / "R")])
    assert "is a link" in _one_line(code, capsys.readouterr().err)
    assert _state(home) == before


def test_a_fresh_start_never_deletes_a_file_no_run_wrote(tmp_path, cli):
    run_dir = tmp_path / "R" / "softmax" / RUN
    run_dir.mkdir(parents=True)
    (run_dir / "notes.txt").write_text("mine")
    (run_dir / "summary.json").symlink_to(_outside(tmp_path) / "notes.txt")  # a run's name, but a link
    line = _one_line(*cli())
    assert "holds notes.txt, summary.json, which no run wrote" in line, line
    assert sorted(p.name for p in run_dir.iterdir()) == [".lock", "notes.txt", "summary.json"]
    assert (tmp_path / "home" / "notes.txt").read_text() == "the user's notes\n"


def test_a_fresh_start_clears_a_runs_own_files(tmp_path, cli):
    code, err = cli()
    assert code == 0, err
    run_dir = tmp_path / "R" / "softmax" / RUN
    (run_dir / ".best.pdparams.abc123.tmp").write_bytes(b"left by a killed write")
    code, err = cli()
    assert code == 0, err
    assert not (run_dir / ".best.pdparams.abc123.tmp").exists()
    assert (run_dir / "summary.json").is_file()


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


@pytest.mark.parametrize("plant", ["pickle payload", "weights of another model"])
def test_planted_best_pdparams_is_refused_before_it_is_copied(plant, tmp_path, cli):
    code, err = cli()
    assert code == 0, err
    run_dir, models = tmp_path / "R" / "softmax" / RUN, tmp_path / "R" / "models"
    copy = models / "softmax-epochs1.pdparams"
    assert copy.read_bytes() == (run_dir / "best.pdparams").read_bytes(), "the checked copy is the run's own bytes"
    for f in models.iterdir():
        f.unlink()
    marker = tmp_path / "PWNED"
    if plant == "pickle payload":
        data = pickle.dumps({"fc1.weight": _Payload(marker)}, protocol=2)
    else:
        import numpy as np

        data = pickle.dumps({"fc1.weight": np.zeros((784, 3), "float32"), "fc1.bias": np.zeros(3, "float32")})
    (run_dir / "best.pdparams").write_bytes(data)
    line = _one_line(*cli("--resume"))
    assert ("refused to load" if plant == "pickle payload" else "do not fit") in line, line
    assert str(run_dir / "best.pdparams") in line, line
    assert list(models.iterdir()) == [], "something was copied"
    assert not marker.exists()


@pytest.mark.parametrize("kind", ["symlink", "hard link"])
def test_file_lock_never_writes_through_a_link(kind, tmp_path):
    outside = _outside(tmp_path) / "notes.txt"
    lock = tmp_path / "results" / "mlp.json.lock"
    lock.parent.mkdir()
    lock.symlink_to(outside) if kind == "symlink" else os.link(outside, lock)
    with pytest.raises(LinkRefused):
        with file_lock(tmp_path / "results" / "mlp.json"):
            pass
    assert outside.read_text() == "the user's notes\n"


# ---------------------------------------------------------------- train --nproc: loopback and scratch
def test_multi_process_runs_meet_on_loopback(tmp_path):
    cmd, env, private = distributed.launch_command(["softmax"], 2, tmp_path / "logs", "cpu", environ={})
    at = cmd.index("--ips")
    assert cmd[at:at + 2] == ["--ips", "127.0.0.1"] and int(cmd[cmd.index("--start_port") + 1]) > 0
    assert env["GLOO_SOCKET_IFNAME"] == "lo" and private
    named = {"PADDLE_MASTER": "10.0.0.5:6170", "PADDLE_NNODES": "2"}
    cmd, env, private = distributed.launch_command(["softmax"], 2, tmp_path / "logs", "cpu", environ=named)
    assert "--ips" not in cmd and "GLOO_SOCKET_IFNAME" not in env and not private, "the user's host is kept"


@pytest.mark.skipif(not distributed.private_network_works(), reason="this system refuses user namespaces")
def test_the_store_of_a_multi_process_run_is_unreachable_from_outside():
    """Paddle's store binds every interface; inside the private network that is loopback alone."""
    listen = ("import socket, time\ns = socket.socket(); s.bind(('0.0.0.0', 0)); s.listen()\n"
              "print(s.getsockname()[1], flush=True)\n"
              "socket.create_connection(('127.0.0.1', s.getsockname()[1]), timeout=5); print('inside', flush=True)\n"
              "time.sleep(30)")
    proc = subprocess.Popen([sys.executable, "-c", listen], stdout=subprocess.PIPE, text=True,
                            preexec_fn=distributed.private_network)
    try:
        port = int(proc.stdout.readline())
        assert proc.stdout.readline().strip() == "inside"
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
    finally:
        proc.kill()
        proc.wait()


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_killed_runs_scratch_is_removed_on_the_next_start(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    dead, alive, unmarked, old = (tmp / f"{distributed.SCRATCH_PREFIX}1-{n}" for n in ("dead", "alive", "x", "y"))
    for folder, pid in ((dead, _dead_pid()), (alive, os.getpid()), (unmarked, None)):
        folder.mkdir()
        (folder / "best.pdparams").write_bytes(b"scratch")
        if pid is not None:
            (folder / distributed.SCRATCH_MARK).write_text(str(pid))
    (tmp / "rank1-old").mkdir()  # not the program's name: never touched
    home = _outside(tmp_path)
    (home / "data" / distributed.SCRATCH_MARK).write_text(str(_dead_pid()))
    old.symlink_to(home / "data")  # a link with the name and a marker: not a folder of ours
    before = _state(home)
    with distributed.scratch() as mine:  # what every process but 0 does at its start
        assert mine.parent == tmp and (mine / distributed.SCRATCH_MARK).read_text() == str(os.getpid())
        assert not dead.exists(), "the killed run's scratch is left"
        assert alive.is_dir() and unmarked.is_dir() and (tmp / "rank1-old").is_dir() and old.is_symlink()
    assert not mine.exists()
    assert _state(home) == before


def test_scratch_of_another_user_or_a_file_is_left_alone(tmp_path):
    (tmp_path / f"{distributed.SCRATCH_PREFIX}1-file").write_text("not a folder")
    assert distributed.clean_stale_scratch(tmp_path) == []
    assert (tmp_path / f"{distributed.SCRATCH_PREFIX}1-file").read_text() == "not a folder"


def test_one_process_is_no_multi_process_run(tmp_path):
    with pytest.raises(PaddleMnistError, match="at least 2"):
        distributed.launch_command(["softmax"], 1, tmp_path, "cpu", environ={})
