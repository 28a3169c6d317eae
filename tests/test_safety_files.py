"""Issue 22, "every file the program reads is untrusted": rows 3, 4, 9, 12, 15, 16 and the allow-list loader's fuzz.

Each row is a crafted file fed to the code that reads it: one line of error (or a rebuilt record), never a crash.

    python -m pytest -q tests/test_safety_files.py
"""
from __future__ import annotations

import functools
import json
import os
import pickle
import pickletools
import random
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from conftest import make_splits

from paddle_mnist.engine.safe_load import safe_load, safe_loads
from paddle_mnist.errors import PaddleMnistError

REPO = Path(__file__).resolve().parent.parent


def _one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text and text, text
    return text


# ---------------------------------------------------------------- row 4: the allow-list loader is bounded
def _tuple_bomb(levels: int, pair=lambda t: (t, t)):
    t = 1
    for _ in range(levels):
        t = pair(t)
    return t


BOMBS = {
    "shared tuples (t=(t,t) x40), the issue's 190 bytes": pickle.dumps({"fc1.weight": _tuple_bomb(40)}, protocol=4),
    "shared tuples as a dict key (hashing is 2**40)": b"\x80\x02}" + pickle.dumps(_tuple_bomb(40), 2)[2:-1] + b"K\x01s.",
    "shared lists x40": pickle.dumps({"fc1.weight": _tuple_bomb(40, lambda t: [t, t])}, protocol=4),
    "tuples nested 100,000 deep": b"\x80\x04N" + b"\x85" * 100_000 + b".",
    "memo slot 2**31 (protocol 4)": b"\x80\x04N\x94r\xff\xff\xff\x7f.",
    "memo slot 2**32-1 (protocol 2)": b"\x80\x02Nr\xff\xff\xff\xff.",
    "an array of 10**10 bytes from _reconstruct": (
        b"\x80\x02cnumpy._core.multiarray\n_reconstruct\ncnumpy\nndarray\n"
        b"\x8a\x05\x00\xe4\x0bT\x02\x85C\x01b\x87R."),
    "one array shared by 5,000 keys": pickle.dumps(dict.fromkeys(map(str, range(5000)), np.ones(1000, np.float32)),
                                                   protocol=4),
    "a list holding itself": pickle.dumps((lambda x: (x.append(x), x)[1])([]), protocol=4),
    "a structured dtype": pickle.dumps(np.zeros(2, dtype=[("a", "f4"), ("b", "i4")]), protocol=4),
}


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_row4_crafted_pickles_are_refused_fast_in_bounded_memory(name, tmp_path):
    path = tmp_path / "bomb.pdparams"
    path.write_bytes(BOMBS[name])
    started = time.perf_counter()
    with pytest.raises(PaddleMnistError) as info:
        safe_load(path)
    seconds = time.perf_counter() - started
    line = _one_line(info.value)
    assert line.startswith(f"{path}: ") and "refused to load" in line, line
    tracemalloc.start()  # memory in a second pass: tracing slows the loader several times
    try:
        with pytest.raises(PaddleMnistError):
            safe_load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert seconds < 1.0 and peak < 100e6, (seconds, peak)


def test_row4_shared_but_small_structures_still_load():
    """A memo for shared objects: 2**15 uses of one tuple walk in time proportional to the distinct ones."""
    t = _tuple_bomb(15)
    got = safe_loads(pickle.dumps({"w": t, "a": np.arange(3.0)}, protocol=4))
    assert got["w"] == t and got["a"].tolist() == [0.0, 1.0, 2.0]


def _seeds() -> list[bytes]:
    """Small pickles of every shape the loader admits, in every protocol."""
    arr = np.arange(12, dtype=np.float32).reshape(3, 4)
    objs = [{"fc1.weight": arr, "fc1.bias": np.zeros(4, np.float64), "StructuredToParameterName@@": {"fc1.weight": "l"}},
            {"model": {"w": arr}, "epoch": 3, "history": {"valid_acc": [0.5, 0.75]}, "rng": [{"seed": 1}],
             "opt": ("fc1.weight", arr), "t": (1, 2.5, "x", b"y", None, True, 1j)},
            [np.float32(1.5), np.int64(7), np.dtype("f4"), [[1, 2], [3]], {"k": (2, [])}]]
    return [pickle.dumps(o, protocol=p) for o in objs for p in range(6)]


def _mutations(rng: random.Random, seeds: list[bytes], cases: int):
    """Random bytes, random bytes after a pickle header, and mutated or spliced valid pickles."""
    ops = [data[pos: pos + 12] for data in seeds for _op, _arg, pos in pickletools.genops(data)]
    for i in range(cases):
        kind = i % 6
        if kind == 0:
            yield rng.randbytes(rng.randrange(64))
        elif kind == 1:
            yield bytes([0x80, rng.randrange(6)]) + rng.randbytes(rng.randrange(64))
        elif kind == 5:
            yield b"\x80\x04" + b"".join(rng.choice(ops)[:rng.randrange(1, 12)] for _ in range(rng.randrange(30))) + b"."
        else:
            data = bytearray(rng.choice(seeds))
            for _ in range(rng.randrange(1, 4)):
                at = rng.randrange(len(data))
                if kind == 2:
                    data[at] = rng.randrange(256)
                elif kind == 3:
                    data[at:at] = rng.randbytes(rng.randrange(1, 9))
                else:
                    del data[at: at + rng.randrange(1, 9)]
            yield bytes(data)


def fuzz(cases: int = 12_000, seed: int = 22) -> dict:
    """Run the fuzz in this process: ``{cases, loaded, seconds, slowest_s, rss_growth_mb, bad}``."""
    import resource

    rng, seeds = random.Random(seed), _seeds()
    assert all(isinstance(safe_loads(s), (dict, list)) for s in seeds)  # the seeds themselves load
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out = {"cases": 0, "loaded": 0, "slowest_s": 0.0, "bad": []}
    started = time.perf_counter()
    for data in [*BOMBS.values(), *_mutations(rng, seeds, cases)]:  # the crafted bombs count in the peak too
        t0 = time.perf_counter()
        try:
            safe_loads(data, "f")
            out["loaded"] += 1
        except PaddleMnistError as exc:
            if not str(exc).startswith("f: ") or "\n" in str(exc):
                out["bad"].append(repr(exc)[:200])
        except BaseException as exc:  # noqa: BLE001  (anything else is the failure this test looks for)
            out["bad"].append(f"{type(exc).__name__}: {exc!s:.160} from {data[:60]!r}")
        out["slowest_s"] = max(out["slowest_s"], time.perf_counter() - t0)
        out["cases"] += 1
    out["seconds"] = time.perf_counter() - started
    out["rss_growth_mb"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024
    return out


def test_row4_fuzz_12000_random_and_mutated_pickles():
    """Every case loads or gives one line; none takes 1 s or 100 MB. In a fresh process, so that its peak
    memory is the fuzz's own (measured: 12,000 cases in ~1.5-3 s, peak growth under 1 MB)."""
    code = "import json, test_safety_files as t; print(json.dumps(t.fuzz()))"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")])}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    print(f"fuzz: {out['cases']} cases in {out['seconds']:.2f} s, {out['loaded']} loaded, slowest "
          f"{out['slowest_s'] * 1e3:.1f} ms, peak RSS growth {out['rss_growth_mb']:.1f} MB")
    assert out["bad"] == [] and out["cases"] == 12_000 + len(BOMBS)
    assert out["slowest_s"] < 1.0 and out["rss_growth_mb"] < 100
    assert 0 < out["loaded"] < out["cases"]  # some mutations still load: the fuzz reaches past the header checks


# ---------------------------------------------------------------- row 15: the data file's digest keys the cache
def _write_plain(path: Path, splits: dict) -> Path:
    """``splits`` in the course layout as plain JSON (the loader takes it as it takes the gzip file)."""
    path.write_text(json.dumps([[np.asarray(x).tolist(), np.asarray(y).tolist()] for x, y in splits.values()]))
    return path


def _same_size_rewrite(path: Path, splits: dict) -> None:
    """Rewrite ``path`` in place (same inode) with ``splits``' labels shifted by one (same size), mtime set back."""
    st = path.stat()
    text = _write_plain(path.with_suffix(".new"), {m: (x, (y + 1) % 10) for m, (x, y) in splits.items()}).read_bytes()
    assert len(text) == st.st_size
    with open(path, "r+b") as fh:
        fh.write(text)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_mtime_ns == st.st_mtime_ns and path.stat().st_size == st.st_size


@pytest.mark.parametrize("racy", [True, False], ids=["rewritten at once", "rewritten later"])
def test_row15_same_size_rewrite_with_mtime_set_back_is_seen(racy, tmp_path, monkeypatch):
    from paddle_mnist.datafile import store

    monkeypatch.setenv("PADDLE_MNIST_CACHE", str(tmp_path / "cache"))
    if not racy:
        monkeypatch.setattr(store, "RACY_NS", 0)  # trust identities at once: the change must show in them
    splits = make_splits(seed=4)
    data = _write_plain(tmp_path / "d.json", splits)
    store._VERIFIED.clear()
    assert np.array_equal(store.read_arrays(data)["eval"][1], splits["eval"][1])
    hashed = []
    monkeypatch.setattr(store, "_file_sha256", lambda p, real=store._file_sha256: hashed.append(p.name) or real(p))
    if not racy:
        store._VERIFIED.clear()  # a new process: a warm load hashes nothing
        assert np.array_equal(store.read_arrays(data)["eval"][1], splits["eval"][1]) and hashed == []
        time.sleep(0.05)  # past the file clock's granularity, so the rewrite's ctime differs
    _same_size_rewrite(data, splits)
    store._VERIFIED.clear()
    got = store.read_arrays(data)
    assert data.name in hashed  # the changed identity made the data file be hashed again
    for mode, (_x, y) in splits.items():
        assert np.array_equal(got[mode][1], (np.asarray(y) + 1) % 10), mode


def test_row15_cache_array_rewritten_later_is_seen_by_its_identity(tmp_path, monkeypatch):
    """A cache array rewritten in place (same size, mtime set back) after it was trusted: its ctime changed,
    so the next load hashes it, finds the damage and rebuilds the cache."""
    from paddle_mnist.datafile import store

    monkeypatch.setenv("PADDLE_MNIST_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(store, "RACY_NS", 0)
    splits = make_splits(seed=5)
    data = _write_plain(tmp_path / "d.json", splits)
    store._VERIFIED.clear()
    store.read_arrays(data)
    folder = next(p for p in (tmp_path / "cache").iterdir() if p.is_dir())
    time.sleep(0.05)
    labels = folder / "eval_y.npy"
    st = labels.stat()
    with open(labels, "r+b") as fh:
        fh.seek(st.st_size - 8)
        fh.write(np.int64(7).tobytes())
    os.utime(labels, ns=(st.st_atime_ns, st.st_mtime_ns))
    store._VERIFIED.clear()
    assert np.array_equal(store.read_arrays(data)["eval"][1], splits["eval"][1])


# ---------------------------------------------------------------- rows 3, 12: a crafted export folder
HEADLINE_EXPORT = REPO / "reports" / "models" / "inference" / "mlp"


@pytest.fixture
def paddle_names_kept():
    """Paddle numbers each saved op's ``struct_name`` from a process-wide tree (``/Linear_3/``), which the
    committed exports' bytes reflect: a test that saves a program leaves that tree as it found it."""
    from paddle.base import framework

    saved, framework._name_struct = framework._name_struct, framework.NameStruct()
    yield
    framework._name_struct = saved


def _export_copy(root: Path, meta_change=None, files: dict | None = None) -> Path:
    """A copy of the committed MLP export with its meta changed by ``meta_change(meta)`` and extra ``files``."""
    import shutil

    folder = root / "mlp"
    shutil.copytree(HEADLINE_EXPORT, folder)
    meta = json.loads((folder / "inference.meta.json").read_text())
    if meta_change is not None:
        meta = meta_change(meta) or meta
    (folder / "inference.meta.json").write_text(json.dumps(meta))
    for name, make in (files or {}).items():
        make(folder / name)
    return folder


def _set(path: str, value):
    """A meta change: the field at dotted ``path`` set to ``value``."""
    *parents, last = path.split(".")
    return lambda meta: functools.reduce(dict.__getitem__, parents, meta).__setitem__(last, value)


def _junk(size: int):
    return lambda p: p.write_bytes(random.Random(size).randbytes(size))


CRAFTED_EXPORTS = {  # row 3: paths out of the folder, programs Paddle would crash on; row 12: meta of the wrong shape
    "row3 program a junk .pdmodel": (_set("program", "inference.pdmodel"), {"inference.pdmodel": _junk(3000)},
                                     "program must be a plain .json file name"),
    "row3 program ../../../etc/passwd": (_set("program", "../../../etc/passwd"), {}, "plain .json file name"),
    "row3 program in a subfolder": (_set("program", "sub/inference.json"), {}, "plain .json file name"),
    "row3 program absolute": (_set("program", "/etc/inference.json"), {}, "plain .json file name"),
    "row3 params ../": (_set("params", "../inference.pdiparams"), {}, "plain .pdiparams file name"),
    "row3 program a link": (_set("program", "link.json"),
                            {"link.json": lambda p: p.symlink_to(HEADLINE_EXPORT / "inference.json")},
                            "not a regular file"),
    "row3 program junk bytes": (None, {"inference.json": _junk(3000)}, "not valid JSON"),
    "row3 program JSON of another shape": (None, {"inference.json": lambda p: p.write_text('{"a": [1]}')},
                                           "not a Paddle program"),
    "row3 program nested 100,000 deep": (None, {"inference.json": lambda p: p.write_text("[" * 100_000)},
                                         "not valid JSON"),
    "row3 program missing": (None, {"inference.json": lambda p: p.unlink()}, "missing"),
    "row3 params junk of the same size": (None, {"inference.pdiparams": _junk(796997)},
                                          "cannot load the inference model"),
    "row12 no output": (lambda m: {k: v for k, v in m.items() if k != "output"}, {}, "has no 'output'"),
    "row12 program a number": (_set("program", 5), {}, "program must be str"),
    "row12 source.info a string": (_set("source.info", "mlp"), {}, "source.info must be an object"),
    "row12 hidden a string": (_set("source.info.model_kwargs.hidden", "200"), {}, "hidden must be a list"),
    "row12 output kind unknown": (_set("output.kind", "softmax"), {}, "output.kind must be"),
    "row12 meta a list": (lambda m: [m], {}, "not a paddle-mnist-inference/1 description"),
    "row12 meta junk": (None, {"inference.meta.json": _junk(500)}, "not valid JSON"),
}


@pytest.mark.parametrize("case", sorted(CRAFTED_EXPORTS))
def test_rows3_12_crafted_export_is_one_line_before_paddle_parses(case, tmp_path):
    from paddle_mnist.apps.export import InferenceModel

    change, files, fragment = CRAFTED_EXPORTS[case]
    folder = _export_copy(tmp_path, change, files)
    with pytest.raises(PaddleMnistError) as info:
        InferenceModel(folder)
    assert fragment in _one_line(info.value), str(info.value)


def test_row3_a_program_of_another_output_shape_is_one_line(tmp_path, paddle_names_kept):
    import paddle

    from paddle_mnist.apps.export import InferenceModel

    folder = _export_copy(tmp_path)
    with paddle.utils.unique_name.guard():
        paddle.jit.save(paddle.nn.Linear(784, 3), str(folder / "inference"),
                        input_spec=[paddle.static.InputSpec([None, 784], "float32", "x")])
    with pytest.raises(PaddleMnistError) as info:
        InferenceModel(folder).logits(np.zeros((2, 784), np.float32))
    assert "expected [2, 10]" in _one_line(info.value)


def test_rows3_12_predict_and_demo_refuse_a_crafted_export_in_one_line(tmp_path, capsys):
    """The issue's reproduction: ``predict --engine inference`` and the demo on a junk ``.pdmodel`` program
    (a segmentation fault inside Paddle before): one line, exit 1."""
    from paddle_mnist.apps.cli import main
    from paddle_mnist.apps.demo import load_models

    change, files, fragment = CRAFTED_EXPORTS["row3 program a junk .pdmodel"]
    folder = _export_copy(tmp_path, change, files)
    image = tmp_path / "one.png"
    from PIL import Image

    digit = np.zeros((28, 28), np.uint8)
    digit[6:22, 12:16] = 255  # a "1"
    Image.fromarray(digit).save(image)
    code = main(["predict", "--engine", "inference", "--model", str(folder), str(image)])
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code not in (0, None) and len(err) == 1 and fragment in err[0], err
    with pytest.raises(PaddleMnistError, match="plain .json file name"):
        load_models([folder])  # demo --model FOLDER


# ---------------------------------------------------------------- row 16: export --out over the user's files
def test_row16_export_refuses_a_folder_of_the_users_files(tmp_path, capsys):
    from paddle_mnist.apps.cli import main

    out = tmp_path / "mine"
    out.mkdir()
    (out / "inference.json").write_text("my own notes\n")
    code = main(["export", "--model", str(REPO / "reports" / "models" / "softmax.pdparams"), "--out", str(out)])
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert code not in (0, None) and len(err) == 1 and "not an export of this program" in err[0], err
    assert [p.name for p in out.iterdir()] == ["inference.json"]
    assert (out / "inference.json").read_text() == "my own notes\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]  # no temporary folder left either


def test_row16_export_replaces_a_previous_export_and_keeps_other_files(tmp_path, paddle_names_kept):
    from paddle_mnist.apps.export import export_model, read_meta

    folder = _export_copy(tmp_path, files={"notes.txt": lambda p: p.write_text("mine")})
    export_model(REPO / "reports" / "models" / "softmax.pdparams", folder)
    assert read_meta(folder)["source"]["info"]["model"] == "softmax"
    assert (folder / "notes.txt").read_text() == "mine"


# ---------------------------------------------------------------- row 9: summaries and configs read back
@pytest.mark.parametrize("field, value", [("best_valid_acc", [1]), ("test_acc", "y"), ("best_valid_acc", 7.5),
                                          ("history", {"epoch": "x"}), ("steps", -3), ("seconds", None)])
def test_row9_summary_of_the_wrong_type_is_rebuilt_with_one_line(field, value, tmp_path, capsys):
    from paddle_mnist.engine import fit as engine
    from paddle_mnist.engine.config import TrainConfig

    data = _write_plain(tmp_path / "t.json", make_splits(n_train=20, n_valid=10, n_eval=10))
    cfg = TrainConfig(hidden=(8,), epochs=1, batch_size=10, data_path=str(data), device="cpu", histograms=False)
    good = engine.fit(cfg, tmp_path / "r", progress=False)
    summary = tmp_path / "r" / "summary.json"
    summary.write_text(json.dumps({**json.loads(summary.read_text()), field: value}))
    capsys.readouterr()
    again = engine.fit(cfg, tmp_path / "r", resume=True, progress=False)
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and f"{summary}: {field}" in err[0] and "rebuilding" in err[0], err
    assert again["test_acc"] == good["test_acc"] and json.loads(summary.read_text())[field] == good[field]


@pytest.mark.parametrize("config, fragment", [({"config": {"model": "mlp", "hidden": [70000]}}, "parameters"),
                                              ("[" * 100_000, "not a run's config"),
                                              ([1, 2], "not a run's config")])
def test_row9_run_config_used_as_a_model_is_checked(config, fragment, tmp_path):
    from paddle_mnist.engine.checkpoint import load_model

    run = tmp_path / "run"
    run.mkdir()
    (run / "best.pdparams").write_bytes(pickle.dumps({}))
    (run / "config.json").write_text(config if isinstance(config, str) else json.dumps(config))
    with pytest.raises(PaddleMnistError) as info:
        load_model(run / "best.pdparams")
    assert fragment in _one_line(info.value)
