"""safe_load / safe_save: real Paddle files load, checkpoints resume bit for bit, planted files run nothing."""
from __future__ import annotations

import errno
import os
import pickle
import random
import subprocess
import time
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

import paddle_mnist.engine.safe_load as safe_load_module
from paddle_mnist.errors import PaddleMnistError
from paddle_mnist.engine.safe_load import NAME_TABLE, plain_to_rng_state, rng_state_to_plain, safe_load, safe_save

REPO = Path(__file__).resolve().parent.parent
MODELS = REPO / "reports" / "models"
paddle = pytest.importorskip("paddle")


def _one_line_error(path, match: str) -> str:
    with pytest.raises(PaddleMnistError) as info:
        safe_load(path)
    msg = str(info.value)
    assert "\n" not in msg and str(path) in msg and match in msg, msg
    return msg


# -- (a) the committed models ------------------------------------------------------------------

@pytest.mark.parametrize("name", ["mlp", "softmax"])
def test_committed_models_load_as_paddle_load_does(name):
    path = MODELS / f"{name}.pdparams"
    got, want = safe_load(path), paddle.load(str(path))
    assert list(got) == list(want) and NAME_TABLE not in got
    for key, tensor in want.items():
        assert type(got[key]) is np.ndarray and got[key].dtype == tensor.numpy().dtype
        assert np.array_equal(got[key], tensor.numpy()), key


# -- (b) a checkpoint round trip resumes training bit for bit ----------------------------------

def _build():
    model = paddle.nn.Sequential(paddle.nn.Linear(12, 16), paddle.nn.ReLU(), paddle.nn.Dropout(0.3),
                                 paddle.nn.Linear(16, 4))
    sched = paddle.optimizer.lr.CosineAnnealingDecay(learning_rate=0.05, T_max=4)
    return model, sched, paddle.optimizer.Adam(learning_rate=sched, parameters=model.parameters())


def _fresh_names():
    """Parameter and optimizer-slot names start again from 0, as in a fresh process."""
    return paddle.utils.unique_name.guard()


def _train(model, sched, opt, x, y, steps: int) -> list[float]:
    losses = []
    for _ in range(steps):  # all three generators matter: numpy picks rows, random the batch size, paddle drops
        rows = np.random.permutation(len(y))[: random.randint(8, 16)]
        loss = paddle.nn.functional.cross_entropy(model(paddle.to_tensor(x[rows])), paddle.to_tensor(y[rows]))
        loss.backward()
        opt.step()
        opt.clear_grad()
        sched.step()
        losses.append(float(loss))
    return losses


def _seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    paddle.seed(seed)


def test_checkpoint_round_trip_resumes_bit_identically(tmp_path):
    data = np.random.default_rng(0)
    x, y = data.normal(size=(32, 12)).astype("float32"), data.integers(0, 4, size=32).astype("int64")
    with _fresh_names():
        _seed(1)
        model, sched, opt = _build()
        straight = _train(model, sched, opt, x, y, 6)
        want = {k: v.numpy() for k, v in model.state_dict().items()}
    with _fresh_names():
        _seed(1)
        model, sched, opt = _build()
        first = _train(model, sched, opt, x, y, 3)
        ckpt = safe_save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3,
                          "history": {"loss": first},
                          "rng": {"random": random.getstate(), "numpy": np.random.get_state(),
                                  "paddle": paddle.get_rng_state()}}, tmp_path / "c.pdckpt")
    with _fresh_names():
        _seed(99)  # as a fresh process would: other weights, other generators
        model, sched, opt = _build()
        state = safe_load(ckpt)
        assert type(state["model"]) is OrderedDict and all(type(v) is np.ndarray for v in state["model"].values())
        assert any("moment1" in k for k in state["optimizer"]) and any("beta2_pow" in k for k in state["optimizer"])
        assert state["optimizer"]["LR_Scheduler"]["last_epoch"] == 3 and state["history"]["loss"] == first
        model.set_state_dict(state["model"])
        opt.set_state_dict(state["optimizer"])
        random.setstate(state["rng"]["random"])
        np.random.set_state(state["rng"]["numpy"])
        paddle.set_rng_state(plain_to_rng_state(state["rng"]["paddle"]))
        assert sched.last_epoch == 3
        assert first + _train(model, sched, opt, x, y, 3) == straight
    for key, value in model.state_dict().items():
        assert np.array_equal(value.numpy(), want[key]), key


@pytest.mark.parametrize("protocol", [2, 3, 4])
def test_paddle_save_files_of_every_protocol_load(protocol, tmp_path):
    model, _, opt = _build()
    weights, ckpt = tmp_path / "m.pdparams", tmp_path / "c.pdckpt"
    paddle.save(model.state_dict(), str(weights), protocol=protocol)
    paddle.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 2,
                 "history": {"loss": [0.5, float("nan")]}}, str(ckpt), protocol=protocol)
    want = {k: v.numpy() for k, v in model.state_dict().items()}
    got, state = safe_load(weights), safe_load(ckpt)
    assert got.keys() == want.keys() and all(np.array_equal(got[k], want[k]) for k in want)
    assert all(np.array_equal(state["model"][k], want[k]) for k in want) and state["epoch"] == 2
    assert state["history"]["loss"][0] == 0.5 and np.isnan(state["history"]["loss"][1])


def test_safe_save_files_read_the_same_with_paddle_load(tmp_path):
    model, _, opt = _build()
    weights = safe_save(model.state_dict(), tmp_path / "m.pdparams")
    ckpt = safe_save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 1}, tmp_path / "c.pdckpt")
    ref = tmp_path / "ref.pdparams"
    paddle.save(model.state_dict(), str(ref))
    assert safe_load(weights).keys() == safe_load(ref).keys() == paddle.load(str(weights)).keys()
    for key, tensor in paddle.load(str(weights)).items():
        assert np.array_equal(tensor.numpy(), model.state_dict()[key].numpy())
        assert tensor.name == model.state_dict()[key].name  # the name table travels
    loaded = paddle.load(str(ckpt))
    assert isinstance(loaded["model"]["0.weight"], paddle.Tensor) and loaded["epoch"] == 1


def test_old_checkpoint_with_paddle_rng_objects_loads_as_plain_data(tmp_path):
    path = tmp_path / "old.pdckpt"
    paddle.seed(5)
    paddle.save({"epoch": 1, "rng": {"paddle": paddle.get_rng_state()}}, str(path))
    want = paddle.rand([4]).numpy()
    plain = safe_load(path)["rng"]["paddle"]
    assert isinstance(plain, list) and set(plain[0]) == {"device", "seed", "offset", "engine"}
    paddle.seed(6)
    paddle.set_rng_state(plain_to_rng_state(plain))
    assert np.array_equal(paddle.rand([4]).numpy(), want)


def test_rng_state_plain_round_trip_reproduces_numbers():
    paddle.seed(11)
    paddle.rand([3])
    plain = rng_state_to_plain()
    want = paddle.rand([5]).numpy()
    paddle.seed(12)
    paddle.set_rng_state(plain_to_rng_state(plain))
    assert np.array_equal(paddle.rand([5]).numpy(), want)
    with pytest.raises(PaddleMnistError, match="RNG state"):
        plain_to_rng_state([{"seed": 1}])


def test_safe_save_refuses_non_plain_objects_and_cleans_up_a_failed_write(tmp_path, monkeypatch):
    with pytest.raises(TypeError, match="cannot save"):
        safe_save({"layer": paddle.nn.Linear(2, 2)}, tmp_path / "x.pdparams")
    path = safe_save({"a": np.arange(3)}, tmp_path / "keep.pdparams")

    def full_disk(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(PaddleMnistError, match="No space left") as info:
        safe_save({"a": np.arange(5)}, path)
    assert "\n" not in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.pdparams"]  # no temporary file left
    assert np.array_equal(safe_load(path)["a"], np.arange(3))


# -- (c) planted files run nothing -------------------------------------------------------------

class Call:
    """Unpickles as ``func(*args)``: what a planted file does when it is opened."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def _write_marker_code(marker: Path) -> str:
    return f"open({str(marker)!r}, 'w').close()"


def _numpy_runstring():
    from numpy.testing._private.utils import runstring
    return runstring


# name -> (payload(marker, folder), pickle protocol, byte replacement, the name the error reports)
PAYLOADS = {
    "os.system": (lambda m, d: Call(os.system, f"touch {m}"), 2, (b"cposix\nsystem\n", b"cos\nsystem\n"),
                  "os.system"),
    "posix.system-reduce": (lambda m, d: Call(os.system, f"touch {m}"), 4, None, "posix.system"),
    "posix.system-global": (lambda m, d: Call(os.system, f"touch {m}"), 2, None, "posix.system"),
    "builtins.eval": (lambda m, d: Call(eval, _write_marker_code(m)), 4, None, "builtins.eval"),
    "subprocess.Popen": (lambda m, d: Call(subprocess.Popen, ["touch", str(m)]), 4, None, "subprocess.Popen"),
    "numpy.load": (lambda m, d: Call(np.load, str(d / "planted.npy")), 4, None, "numpy.load"),
    "numpy.testing": (lambda m, d: Call(_numpy_runstring(), _write_marker_code(m), {}), 4, None,
                      "numpy.testing._private.utils.runstring"),
    "protocol-0": (lambda m, d: Call(eval, _write_marker_code(m)), 0, None, "builtins.eval"),
    "protocol-5": (lambda m, d: Call(os.system, f"touch {m}"), 5, None, "posix.system"),
    "paddle-internals": (lambda m, d: Call(paddle.load, str(_inner_planted(m, d))), 2, None,
                         "paddle.framework.io.load"),
}


def _inner_planted(marker: Path, folder: Path) -> Path:
    inner = folder / "inner.pdparams"
    inner.write_bytes(pickle.dumps(Call(os.system, f"touch {marker}"), protocol=2))
    return inner


def _nested(payload, depth=12):
    obj = payload
    for i in range(depth):
        obj = [i, {"level": obj}] if i % 2 else (f"k{i}", {"x": obj})
    return obj


KINDS = {  # file kind -> (suffix, wrap(payload))
    "weights": (".pdparams", lambda p: {"fc1.weight": np.ones((3, 2), "float32"), "fc1.bias": p,
                                         NAME_TABLE: {"fc1.weight": "linear_0.w_0", "fc1.bias": "linear_0.b_0"}}),
    "checkpoint": (".pdckpt", lambda p: {"model": OrderedDict([("fc1.weight", ("linear_0.w_0", np.ones(2)))]),
                                         "optimizer": {"LR_Scheduler": {"last_epoch": 1}}, "epoch": 1,
                                         "history": {"loss": [1.0]},
                                         "rng": {"numpy": np.random.get_state(), "paddle": [p]}}),
    "nested": (".pdckpt", _nested),
    "bare": (".pdparams", lambda p: p),
}


def _planted(payload: str, kind: str, folder: Path, marker: Path) -> Path:
    make, protocol, replace, _ = PAYLOADS[payload]
    suffix, wrap = KINDS[kind]
    data = pickle.dumps(wrap(make(marker, folder)), protocol=protocol)
    if replace:
        assert replace[0] in data
        data = data.replace(*replace)
    path = folder / f"planted{suffix}"
    path.write_bytes(data)
    return path


def _appears(marker: Path, wait: float) -> bool:
    end = time.monotonic() + wait
    while not marker.exists() and time.monotonic() < end:
        time.sleep(0.05)
    return marker.exists()


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("payload", sorted(PAYLOADS))
def test_planted_payload_is_refused_and_runs_nothing(payload, kind, tmp_path, monkeypatch):
    marker = tmp_path / "PWNED"
    path = _planted(payload, kind, tmp_path, marker)

    def no_unpickling(*args, **kwargs):
        raise AssertionError("the opcode scan let the file through to unpickling")

    monkeypatch.setattr(safe_load_module, "_RestrictedUnpickler", no_unpickling)  # refused before any object
    msg = _one_line_error(path, f"refused to load: the file names {PAYLOADS[payload][3]}, which is not plain data")
    assert msg.endswith("(arrays, dicts, lists, numbers)")
    assert not _appears(marker, 0.3 if payload == "subprocess.Popen" else 0.0)


@pytest.mark.parametrize("payload", sorted(set(PAYLOADS) - {"numpy.load"}))
def test_planted_payloads_are_live_under_plain_pickle(payload, tmp_path):
    """The payloads above do run code when a file is unpickled the ordinary way."""
    marker = tmp_path / "PWNED"
    path = _planted(payload, "bare", tmp_path, marker)
    pickle.loads(path.read_bytes())
    assert _appears(marker, 5.0)


def test_stack_global_hidden_from_the_scan_is_still_refused(tmp_path):
    marker = tmp_path / "PWNED"
    cmd = f"touch {marker}".encode()
    # 'posix' 'system', then a pushed-and-popped 'x' that hides them from the opcode scan
    data = (b"\x80\x04\x8c\x05posix\x8c\x06system\x8c\x01x0\x93\x8c" + bytes([len(cmd)]) + cmd + b"\x85R.")
    path = tmp_path / "hidden.pdparams"
    path.write_bytes(data)
    _one_line_error(path, "the file names posix.system")
    assert not marker.exists()


def test_persistent_references_and_foreign_codecs_are_refused(tmp_path):
    path = tmp_path / "p.pdparams"
    path.write_bytes(b"\x80\x04\x8c\x03abc\x94Q.")  # BINPERSID
    _one_line_error(path, "persistent")
    path.write_bytes(b"\x80\x02c_codecs\nencode\nX\x03\x00\x00\x00abcX\x04\x00\x00\x00zlib\x86R.")
    _one_line_error(path, "_codecs.encode with encoding zlib")


def test_paddle_generator_state_name_only_ever_yields_checked_data(tmp_path):
    path = tmp_path / "g.pdckpt"
    path.write_bytes(b"\x80\x02cpaddle.base.libpaddle\nGeneratorState\n)\x81X\x01\x00\x00\x00xb.")  # state 'x'
    _one_line_error(path, "corrupted")
    path.write_bytes(b"\x80\x02cpaddle.base.libpaddle\nGeneratorState\nX\x01\x00\x00\x00x\x85R.")  # called
    _one_line_error(path, "corrupted")


# -- (d) truncated and corrupted files ---------------------------------------------------------

CORRUPT = {
    "half": lambda raw: raw[: len(raw) // 2],
    "ten-bytes": lambda raw: raw[:10],
    "no-stop": lambda raw: raw[:-1],
    "empty": lambda raw: b"",
    "text": lambda raw: b"this is not a weights file\n",
    "flipped": lambda raw: raw[:40] + bytes(b ^ 0xFF for b in raw[40:80]) + raw[80:],
}


@pytest.mark.parametrize("damage", sorted(CORRUPT))
def test_truncated_or_corrupted_file_is_a_one_line_error(damage, tmp_path):
    path = tmp_path / "broken.pdparams"
    path.write_bytes(CORRUPT[damage]((MODELS / "softmax.pdparams").read_bytes()))
    with pytest.raises(PaddleMnistError) as info:
        safe_load(path)
    assert "\n" not in str(info.value) and str(info.value).startswith(f"{path}: ")


def test_missing_file_and_folder_are_one_line_errors(tmp_path):
    _one_line_error(tmp_path / "absent.pdparams", "file not found")
    _one_line_error(tmp_path, "is a folder")
