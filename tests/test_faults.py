"""The bad-input and fault catalogue (issue 17): every case is one line on stderr, a non-zero exit, nothing
half-written. Commands run in-process through ``paddle_mnist.apps.cli.main``; cache, disk and data faults through
the library functions the commands call."""
from __future__ import annotations

import errno
import json
import os
import shutil
import stat

import numpy as np
import pytest
from conftest import REAL_DATA, make_splits, write_course_file

from paddle_mnist.apps.cli import main
from paddle_mnist.datafile import store
from paddle_mnist.errors import PaddleMnistError


def one_line_error(capsys, argv) -> str:
    code = main([str(a) for a in argv])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code not in (0, None), err
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


# ---------------------------------------------------------------- the data cache
@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PADDLE_MNIST_CACHE", str(tmp_path / "cache"))
    store._VERIFIED.clear()
    data = write_course_file(tmp_path / "d.json.gz", make_splits(seed=3))
    store.read_arrays(data)  # builds the cache
    folder = next(p for p in (tmp_path / "cache").iterdir() if p.is_dir())
    return data, folder


def _zero(path):
    path.write_bytes(path.read_bytes()[:128] + bytes(path.stat().st_size - 128))


def _truncate(path):
    path.write_bytes(path.read_bytes()[:-40])


CACHE_DAMAGE = {
    "zeroed labels (same size)": lambda f: _zero(f / "eval_y.npy"),
    "zeroed images (same size)": lambda f: _zero(f / "train_x.npy"),
    "truncated array": lambda f: _truncate(f / "valid_x.npy"),
    "missing array": lambda f: (f / "train_y.npy").unlink(),
    "missing checksums": lambda f: (f / "checksums.json").unlink(),
    "checksums a list": lambda f: (f / "checksums.json").write_text("[1, 2]"),
    "array replaced by a folder": lambda f: ((f / "eval_x.npy").unlink(), (f / "eval_x.npy").mkdir()),
}


@pytest.mark.parametrize("damage", sorted(CACHE_DAMAGE))
def test_damaged_cache_is_detected_and_rebuilt_atomically(damage, cache):
    data, folder = cache
    want = make_splits(seed=3)
    CACHE_DAMAGE[damage](folder)
    store._VERIFIED.clear()  # a new process
    arrays = store.read_arrays(data)
    for mode in store.MODES:
        assert np.array_equal(arrays[mode][1], want[mode][1])
        assert np.array_equal(arrays[mode][0], want[mode][0].astype(np.float32))
    store._VERIFIED.clear()
    again = store._load_cache(folder)  # rebuilt in place: verified, memory-mapped
    assert again is not None and isinstance(again["train"][0], np.memmap)
    assert [p.name for p in folder.parent.iterdir() if p.name.startswith(".")] == [], "no temporary folders left"


def test_read_only_cache_falls_back_to_memory(tmp_path, monkeypatch):
    monkeypatch.setenv("PADDLE_MNIST_CACHE", str(tmp_path / "ro"))
    real_mkdtemp = store.tempfile.mkdtemp

    def read_only(*a, **k):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(store.tempfile, "mkdtemp", read_only)
    data = write_course_file(tmp_path / "d.json.gz", make_splits(seed=5))
    arrays = store.read_arrays(data)
    assert np.array_equal(arrays["eval"][1], make_splits(seed=5)["eval"][1])
    monkeypatch.setattr(store.tempfile, "mkdtemp", real_mkdtemp)


@pytest.mark.parametrize("index", ["[1, 2, 3]", "42", '{"x": [1]}', "{", '{"%s": "nonsense"}'])
def test_cache_index_of_the_wrong_shape_is_ignored(index, tmp_path, monkeypatch):
    monkeypatch.setenv("PADDLE_MNIST_CACHE", str(tmp_path / "cache"))
    data = write_course_file(tmp_path / "d.json.gz", make_splits(seed=6))
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "index.json").write_text(index.replace("%s", str(data.resolve())))
    assert np.array_equal(store.read_arrays(data)["valid"][1], make_splits(seed=6)["valid"][1])
    assert isinstance(json.loads((tmp_path / "cache" / "index.json").read_text()), dict)
