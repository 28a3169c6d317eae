"""The bad-input and fault catalogue (issue 17): every case is one line on stderr, a non-zero exit, nothing
half-written. Commands run in-process through ``paddle_mnist.apps.cli.main``; cache, disk and data faults through
the library functions the commands call."""
from __future__ import annotations

import errno
import json
import os
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


# ---------------------------------------------------------------- the command-line catalogue (in-process)
def _png_header(path, width, height):
    """A PNG whose header declares ``width x height`` (decoding would need the pixels; the check must not)."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))
    return path


def _float_tiff(t, value):
    from PIL import Image

    a = np.zeros((28, 28), np.float32)
    a[8:20, 12:16] = 1.0
    a[0, 0] = value
    path = t / "digit.tif"
    Image.fromarray(a, mode="F").save(path)
    return path


def _fifo(t):
    path = t / "digit.png"
    os.mkfifo(path)
    return path


def _model(t, **kwargs):
    (t / "m.pdparams").write_bytes(b"not read: the description is checked first")
    (t / "m.json").write_text(json.dumps({"model": "mlp", "model_kwargs": kwargs}))
    return t / "m.pdparams"


def _results(t, content):
    folder = t / "res"
    folder.mkdir(exist_ok=True)
    (folder / "mlp.json").write_text(content)
    return folder


def _data(t, **sizes):
    return write_course_file(t / "small.json.gz", make_splits(**sizes))


def _truncated_data(t):
    path = t / "trunc.json.gz"
    path.write_bytes(_data(t).read_bytes()[:-200])
    return path


def _a_file(t):
    (t / "file").write_text("x")
    return t / "file"


def _folder(t):
    (t / "dir").mkdir(exist_ok=True)
    return t / "dir"


def _taken_host_port():
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    _OPEN.append(s)
    return str(s.getsockname()[1])


_OPEN: list = []
def _IMG(t):
    """A valid digit image, so that only the case's fault is wrong."""
    from PIL import Image

    a = np.zeros((28, 28), np.uint8)
    a[6:22, 12:16] = 255
    Image.fromarray(a).save(t / "one.png")
    return t / "one.png"


_TRAIN = ["train", "softmax", "--epochs", "1", "--seeds", "0", "--device", "cpu"]

# (name, argv builder, environment builder, fragment of the one-line error)
CATALOGUE = [
    ("empty --runs-dir", lambda t: [*_TRAIN, "--runs-dir", ""], None, "--runs-dir is empty"),
    ("empty --results-dir for train", lambda t: [*_TRAIN, "--results-dir", ""], None, "--results-dir is empty"),
    ("empty --model", lambda t: ["predict", _IMG(t), "--model", ""], None, "--model is empty"),
    ("empty report --out", lambda t: ["report", "--out", ""], None, "--out is empty"),
    ("empty report --results-dir", lambda t: ["report", "--results-dir", ""], None, "--results-dir is empty"),
    ("empty prepare-data --out", lambda t: ["prepare-data", "--out", ""], None, "--out is empty"),
    ("empty dashboard --runs-dir", lambda t: ["dashboard", "--runs-dir", ""], None, "--runs-dir is empty"),
    ("empty export --out", lambda t: ["export", "--out", " "], None, "--out is empty"),
    ("empty image path", lambda t: ["predict", ""], None, "an image path is empty"),
    ("prepare-data --out a device", lambda t: ["prepare-data", "--out", "/dev/full"], None, "not a regular file"),
    ("prepare-data --out a folder", lambda t: ["prepare-data", "--out", _folder(t)], None, "is a folder"),
    ("report --out a folder", lambda t: ["report", "--out", _folder(t)], None, "is a folder"),
    ("report --out a device", lambda t: ["report", "--out", "/dev/null"], None, "not a regular file"),
    ("--runs-dir naming a file", lambda t: [*_TRAIN, "--runs-dir", _a_file(t)], None, "is a file, not a folder"),
    ("--results-dir naming a file", lambda t: ["report", "--results-dir", _a_file(t)], None, "is a file"),
    ("results holding a list", lambda t: ["report", "--results-dir", _results(t, "[1, 2]"), "--out", t / "R.md"],
     None, "not a results record"),
    ("results with runs a number", lambda t: ["report", "--results-dir", _results(t, '{"runs": 5}'),
                                              "--out", t / "R.md"], None, "not a results record"),
    ("results without a title", lambda t: ["report", "--results-dir", _results(t, '{"experiment": "mlp", "runs": []}'),
                                           "--out", t / "R.md"], None, "not a results record"),
    ("results with runs of numbers", lambda t: ["report", "--results-dir", _results(t, '{"runs": [1]}'),
                                                "--out", t / "R.md"], None, "not a results record"),
    ("results with summary a list", lambda t: ["report", "--results-dir", _results(t, '{"summary": []}'),
                                               "--out", t / "R.md"], None, "not a results record"),
    ("truncated results file", lambda t: ["report", "--results-dir", _results(t, '{"runs": ['), "--out", t / "R.md"],
     None, "corrupted JSON"),
    ("FIFO as an image", lambda t: ["predict", _fifo(t)], None, "not a regular file"),
    ("device as an image", lambda t: ["predict", "/dev/zero"], None, "not a regular file"),
    ("float image holding NaN", lambda t: ["predict", _float_tiff(t, float("nan"))], None, "NaN"),
    ("float image holding inf", lambda t: ["predict", _float_tiff(t, float("inf"))], None, "NaN or infinite"),
    ("13300x13300 PNG", lambda t: ["predict", _png_header(t / "big.png", 13300, 13300)], None, "too large"),
    ("41-megapixel PNG", lambda t: ["predict", _png_header(t / "big.png", 41000, 1000)], None, "too large"),
    ("sidecar hidden [2000000000]", lambda t: ["predict", _IMG(t), "--model", _model(t, hidden=[2000000000])], None,
     "parameters (the limit is"),
    ("sidecar out_features 10**9", lambda t: ["predict", _IMG(t), "--model", _model(t, out_features=10**9)], None,
     "parameters (the limit is"),
    ("sidecar hidden [0]", lambda t: ["predict", _IMG(t), "--model", _model(t, hidden=[0])], None,
     "positive integers"),
    ("sidecar hidden a string", lambda t: ["predict", _IMG(t), "--model", _model(t, hidden="200")], None,
     "positive integers"),
    ("sidecar hidden [true]", lambda t: ["predict", _IMG(t), "--model", _model(t, hidden=[True])], None,
     "positive integers"),
    ("dashboard --port 70000", lambda t: ["dashboard", "--runs-dir", t, "--port", "70000"], None, "out of range"),
    ("dashboard --port 65536", lambda t: ["dashboard", "--runs-dir", t, "--port", "65536"], None, "out of range"),
    ("dashboard bad --host name", lambda t: ["dashboard", "--runs-dir", t, "--host", "no.such.host.invalid"], None,
     "--host no.such.host.invalid: not an address"),
    ("dashboard --host not this machine", lambda t: ["dashboard", "--runs-dir", t, "--host", "192.0.2.7"], None,
     "--host 192.0.2.7: cannot listen there"),
    ("dashboard port in use", lambda t: ["dashboard", "--runs-dir", t, "--port", _taken_host_port()], None,
     "already in use"),
    ("--quick on a small file", lambda t: ["train", "softmax", "--quick", "--runs-dir", t / "runs"],
     lambda t: {"PADDLE_MNIST_DATA": str(_data(t))}, "--quick trains on the first 5000"),
    ("empty valid split", lambda t: [*_TRAIN, "--runs-dir", t / "runs"],
     lambda t: {"PADDLE_MNIST_DATA": str(_data(t, n_valid=0))}, "the valid split is empty"),
    ("empty train split", lambda t: [*_TRAIN, "--runs-dir", t / "runs"],
     lambda t: {"PADDLE_MNIST_DATA": str(_data(t, n_train=0))}, "the train split is empty"),
    ("bench data on a truncated file", lambda t: ["bench", "data"],
     lambda t: {"PADDLE_MNIST_DATA": str(_truncated_data(t))}, "truncated gzip"),
    ("bench data on a missing file", lambda t: ["bench", "data"],
     lambda t: {"PADDLE_MNIST_DATA": str(t / "none.json.gz")}, "prepare-data"),
    ("PADDLE_MNIST_CACHE naming a file", lambda t: [*_TRAIN, "--runs-dir", t / "runs"],
     lambda t: {"PADDLE_MNIST_CACHE": str(_a_file(t))}, "PADDLE_MNIST_CACHE="),
    ("PADDLE_MNIST_CACHE empty", lambda t: [*_TRAIN, "--runs-dir", t / "runs"],
     lambda t: {"PADDLE_MNIST_CACHE": ""}, "PADDLE_MNIST_CACHE is set but empty"),
]


@pytest.fixture(autouse=True)
def _close_sockets():
    yield
    while _OPEN:
        _OPEN.pop().close()


@pytest.mark.parametrize("name,argv,env,fragment", CATALOGUE, ids=[c[0] for c in CATALOGUE])
def test_bad_input_is_one_line(name, argv, env, fragment, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PADDLE_MNIST_CACHE", str(tmp_path / "cache"))
    for key, value in (env(tmp_path) if env else {}).items():
        monkeypatch.setenv(key, value)
    reports = {p: p.stat().st_mtime_ns for p in (REAL_DATA.parent.parent / "reports").rglob("*") if p.is_file()}
    line = one_line_error(capsys, argv(tmp_path))
    assert line.startswith("error: ") and fragment in line, line
    assert os.stat("/dev/full").st_mode and stat.S_ISCHR(os.stat("/dev/full").st_mode), "the device is left alone"
    now = {p: p.stat().st_mtime_ns for p in (REAL_DATA.parent.parent / "reports").rglob("*") if p.is_file()}
    assert now == reports, "nothing under reports/ is written"


# ---------------------------------------------------------------- planted files through the real entry points
class _Call:
    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def _plant(path, marker):
    import pickle

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps({"model": _Call(os.system, f"touch {marker}")}, protocol=2))
    return path


def _train_tiny(tmp_path, monkeypatch, capsys, *extra):
    monkeypatch.setenv("PADDLE_MNIST_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PADDLE_MNIST_DATA", str(_data(tmp_path)))
    argv = [*_TRAIN, "--runs-dir", tmp_path / "runs", "--results-dir", tmp_path / "res", *extra]
    return main([str(a) for a in argv]), capsys.readouterr().err


def _run_dir(tmp_path):
    return next(p for p in (tmp_path / "runs" / "softmax").iterdir() if p.is_dir())


@pytest.mark.parametrize("kind", ["train --resume over checkpoint.pdckpt", "train --resume over best.pdparams",
                                  "predict --model evil.pdparams"])
def test_planted_file_is_refused_through_the_command(kind, tmp_path, monkeypatch, capsys):
    marker = tmp_path / "PWNED"
    if kind == "predict --model evil.pdparams":
        _plant(tmp_path / "evil.pdparams", marker)
        (tmp_path / "evil.json").write_text('{"model": "mlp", "model_kwargs": {"hidden": [8]}}')
        argv = ["predict", _IMG(tmp_path), "--model", tmp_path / "evil.pdparams"]
    else:
        code, err = _train_tiny(tmp_path, monkeypatch, capsys)
        assert code == 0, err
        run = _run_dir(tmp_path)
        (run / "summary.json").unlink()  # so --resume reads the run's files again
        _plant(run / ("checkpoint.pdckpt" if "checkpoint" in kind else "best.pdparams"), marker)
        argv = [*_TRAIN, "--runs-dir", tmp_path / "runs", "--results-dir", tmp_path / "res", "--resume"]
    line = one_line_error(capsys, argv)
    assert "refused to load: the file names posix.system" in line, line
    assert not marker.exists()


def test_resume_never_mixes_settings(tmp_path, monkeypatch, capsys):
    """Other named settings are another run (its own folder and record); a setting that names no run is an error."""
    code, err = _train_tiny(tmp_path, monkeypatch, capsys)
    assert code == 0, err
    (first,) = (tmp_path / "res").glob("softmax*.json")
    before = first.read_bytes()
    code, err = _train_tiny(tmp_path, monkeypatch, capsys, "--resume", "--lr", "0.5", "--batch-size", "25")
    assert code == 0, err
    assert first.read_bytes() == before  # the earlier run's record is untouched
    assert len(list((tmp_path / "runs" / "softmax").glob("sgd-lr0.5-*batchsize25*"))) == 1
    line = one_line_error(capsys, [*_TRAIN, "--runs-dir", tmp_path / "runs", "--results-dir", tmp_path / "res",
                                   "--resume", "--set", "log_every=7"])
    assert "differs in log_every 50 -> 7" in line, line
    assert first.read_bytes() == before


@pytest.mark.parametrize("held", ["run folder", "experiment folder"])
def test_a_run_held_by_another_command_is_one_line(held, tmp_path, monkeypatch, capsys):
    import fcntl

    code, err = _train_tiny(tmp_path, monkeypatch, capsys)
    assert code == 0, err
    folder = _run_dir(tmp_path) if held == "run folder" else tmp_path / "runs" / "softmax"
    with open(folder / ".lock", "a+") as fh:  # as another process holds it
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        line = one_line_error(capsys, [*_TRAIN, "--runs-dir", tmp_path / "runs", "--results-dir", tmp_path / "res"])
    assert "in use by another command" in line
    assert (_run_dir(tmp_path) / "summary.json").is_file(), "the held run is left alone"


# ---------------------------------------------------------------- full and read-only disks
def _enospc(*a, **k):
    raise OSError(errno.ENOSPC, "No space left on device")


def _erofs(*a, **k):
    raise OSError(errno.EROFS, "Read-only file system")


def _leftovers(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                  if p.name.endswith(".tmp") or (p.is_file() and p.stat().st_size == 0 and p.name != ".lock"))


@pytest.mark.parametrize("fault,target,fragment", [
    ("ENOSPC at fsync", "os.fsync", "No space left on device"),
    ("ENOSPC at write", "os.fdopen", "No space left on device"),
    ("read-only at create", "tempfile.mkstemp", "Read-only file system"),
])
def test_full_or_read_only_disk_during_train_is_one_line_and_leaves_no_debris(fault, target, fragment, tmp_path,
                                                                              monkeypatch, capsys):
    from paddle_mnist import records

    module, name = target.split(".")
    monkeypatch.setattr(getattr(records, module), name, _erofs if "read-only" in fault else _enospc)
    code, err = _train_tiny(tmp_path, monkeypatch, capsys)
    lines = [line for line in err.splitlines() if line.strip()]
    assert code != 0 and len(lines) == 1 and fragment in lines[0] and "Traceback" not in err, err
    assert _leftovers(tmp_path) == [], "no temporary or 0-byte files"
    assert not list(tmp_path.rglob("error.txt"))


@pytest.mark.parametrize("argv", [
    lambda t: [*_TRAIN, "--runs-dir", _a_file(t) / "runs"],
    lambda t: ["report", "--results-dir", _folder(t), "--out", _a_file(t) / "REPORT.md"],
    lambda t: ["prepare-data", "--out", _a_file(t) / "mnist.json.gz", "--idx-dir", _folder(t), "--source", "dir"],
], ids=["train --runs-dir under a file", "report --out under a file", "prepare-data --out under a file"])
def test_output_under_a_file_is_one_line(argv, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PADDLE_MNIST_DATA", str(_data(tmp_path)))
    monkeypatch.setenv("PADDLE_MNIST_CACHE", str(tmp_path / "cache"))
    line = one_line_error(capsys, argv(tmp_path))
    assert "error: " in line


def test_failed_write_keeps_the_old_file_and_removes_the_temporary(tmp_path, monkeypatch):
    from paddle_mnist import records
    from paddle_mnist.engine.checkpoint import save_state

    target = tmp_path / "x.json"
    records.write_json(target, {"v": 1})
    monkeypatch.setattr(records.os, "fsync", _enospc)
    with pytest.raises(OSError, match="No space"):
        records.write_json(target, {"v": 2})
    with pytest.raises(OSError, match="No space"):
        save_state({"w": np.ones(3)}, tmp_path / "c.pdckpt")
    assert json.loads(target.read_text()) == {"v": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.json"]


def test_error_txt_is_never_a_0_byte_file(tmp_path, monkeypatch):
    from paddle_mnist import records
    from paddle_mnist.engine import jobs

    monkeypatch.setattr(records.os, "fsync", _enospc)
    note = jobs._write_error(tmp_path, "Traceback ...")
    assert "not saved" in note and not (tmp_path / "error.txt").exists()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("target", ["/dev/full", "/dev/null", "folder", "fifo"])
def test_writers_never_replace_a_folder_or_device(target, tmp_path):
    from paddle_mnist import records

    if target == "folder":
        path = _folder(tmp_path)
    elif target == "fifo":
        path = tmp_path / "pipe"
        os.mkfifo(path)
    else:
        path = target
    before = os.stat(path).st_mode
    with pytest.raises(PaddleMnistError, match="name a file to write"):
        records.write_json(path, {"x": 1})
    assert os.stat(path).st_mode == before
