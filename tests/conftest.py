"""Shared fixtures: the real data file, a persistent array cache, tiny synthetic data files."""
from __future__ import annotations

import gzip
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
REAL_DATA = REPO / "data" / "mnist.json.gz"
# One cache for the whole suite (and across runs): the cold parse of the real file happens once.
os.environ.setdefault("PADDLE_MNIST_CACHE", str(Path(tempfile.gettempdir()) / "paddle_mnist_test_cache"))


def write_course_file(path: Path, splits, *, indent=None) -> Path:
    """Write ``splits`` ({mode: (x, y)}) in the course's JSON layout, gzip-compressed."""
    data = [[np.asarray(x).tolist(), np.asarray(y).tolist()] for x, y in (splits[m] for m in ("train", "valid", "eval"))]
    path.write_bytes(gzip.compress(json.dumps(data, indent=indent).encode()))
    return path


def make_splits(n_train=40, n_valid=12, n_eval=10, seed=0):
    """Tiny learnable data: each class lights up its own block of pixels, plus noise."""
    rng = np.random.default_rng(seed)
    out = {}
    for mode, n in (("train", n_train), ("valid", n_valid), ("eval", n_eval)):
        y = np.arange(n) % 10
        x = rng.uniform(0, 0.2, size=(n, 784)).astype(np.float32)
        for i, label in enumerate(y):
            x[i, label * 78:(label + 1) * 78] = 1.0
        out[mode] = (np.round(x, 3), y)
    return out


@pytest.fixture
def tiny_data(tmp_path) -> Path:
    return write_course_file(tmp_path / "tiny.json.gz", make_splits())


def _reports_state() -> str:
    """Every file under reports/ with its content hash: what the suite must leave as it found it."""
    import hashlib

    root = REPO / "reports"
    return "\n".join(f"{p.relative_to(root)} {hashlib.sha256(p.read_bytes()).hexdigest()}"
                     for p in sorted(root.rglob("*")) if p.is_file() and not p.name.endswith(".lock"))


@pytest.fixture(scope="session", autouse=True)
def reports_left_untouched():
    """No test may change the committed reference results, models or report (a try-out writes under runs/)."""
    before = _reports_state()
    yield
    after = _reports_state()
    assert after == before, "the test session changed files under reports/: " + ", ".join(
        sorted(set(after.splitlines()) ^ set(before.splitlines()))[:6])


@pytest.fixture(scope="session")
def quick_runs(tmp_path_factory) -> Path:
    """Every registered experiment's ``--quick`` run, once for the whole session, in one runs folder.

    ``RUNS/quick/results/<name>.json`` holds each record (the CLI, study, numpy and notebook tests read them).
    """
    from paddle_mnist.studies import EXPERIMENTS, run_experiment

    runs = tmp_path_factory.mktemp("quick_runs")
    for name in EXPERIMENTS:
        run_experiment(name, quick=True, runs_dir=runs, progress=False, workers=2, log=lambda *a, **k: None)
    return runs


def default_sigint() -> None:
    """``preexec_fn`` of a child a test presses Ctrl-C in: SIGINT back to its default (a pytest started from a
    background job ignores SIGINT, and its children would inherit that)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
