"""Check 1, the data API: the student's ``load_data(mode, batch_size)`` against the file and the reference loader.

Runs in the child process of ``check`` (it calls the student's code). Each line compares what the
student's loader yields with ``datafile.store.read_arrays`` (the file's arrays) and
``engine.batches.load_data`` (the reference loader): the generator-function API, shapes and dtypes,
values in [0, 1], reshuffling, order, the last short batch, the values themselves and the time.

    python -m paddle_mnist check my_solution.py
"""
from __future__ import annotations

import builtins
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from paddle_mnist.engine.batches import load_data as reference
from paddle_mnist.apps.check_source import error_text, line
from paddle_mnist.datafile.store import read_arrays

CHECK = "data"
SHORT_BATCH = 128  # 10,000 valid images in batches of 128: the last one holds 16


@contextmanager
def counting_opens(data_file: Path):
    """Count how often the data file (or its unzipped copy) is opened: ``open`` and what is built on it (gzip)."""
    name = Path(data_file).name
    targets, original, count = {name, name.removesuffix(".gz")}, builtins.open, [0]

    def spy(file, *args, **kwargs):
        if isinstance(file, (str, Path)) and Path(file).name in targets and not _from_the_store():
            count[0] += 1
        return original(file, *args, **kwargs)

    builtins.open = spy
    try:
        yield count
    finally:
        builtins.open = original


def _from_the_store() -> bool:
    """Whether the project's own data store is the caller (it re-hashes a file whose timestamps are too fresh to
    trust): those reads are the reference's, not the student's."""
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_globals.get("__name__") == "paddle_mnist.datafile.store":
            return True
        frame = frame.f_back
    return False


def _arrays(batch):
    x, y = batch[0], batch[1]
    x = x.numpy() if hasattr(x, "numpy") else np.asarray(x)
    y = y.numpy() if hasattr(y, "numpy") else np.asarray(y)
    return x, y


def _batches(result):
    """The iterator of one pass: a generator function is called, a generator is used as it is."""
    return iter(result()) if callable(result) else iter(result)


def _fingerprint(x: np.ndarray) -> np.ndarray:
    proj = np.random.default_rng(12345).standard_normal(784).astype(np.float32)
    return np.asarray(x, dtype=np.float32).reshape(len(x), -1)[:, :784] @ proj


def _epoch(loader, mode, batch_size) -> dict:
    """One pass, summarised per batch: image fingerprints, labels, batch sizes, value range and seconds."""
    t0 = time.perf_counter()
    fps, ys, lo, hi = [], [], np.inf, -np.inf
    for batch in _batches(loader(mode, batch_size)):
        x, y = _arrays(batch)
        y = y.reshape(-1)
        x = x.reshape(len(y), -1)
        fps.append(_fingerprint(x))
        ys.append(y)
        lo, hi = min(lo, float(x.min())), max(hi, float(x.max()))
    secs = time.perf_counter() - t0
    cat = (lambda parts: np.concatenate(parts)) if ys else (lambda parts: np.zeros(0))
    return {"fp": cat(fps), "y": cat(ys), "sizes": [len(y) for y in ys], "secs": secs, "range": (lo, hi)}


def check_api(loader) -> tuple[list, tuple | None]:
    """``load_data('train', 100)`` returns a generator function whose batches are (images, labels)."""
    result = loader("train", 100)
    if not callable(result):
        kind = "a generator" if hasattr(result, "__next__") else type(result).__name__
        return [line(CHECK, "api", "failed", f"load_data returned {kind}, not a generator function: return the "
                     "inner function itself (no parentheses), as the course does", "data_api")], None
    batch = next(iter(result()))
    if not (isinstance(batch, (tuple, list)) and len(batch) == 2):
        return [line(CHECK, "api", "failed", "each batch should be a pair (images, labels)", "data_api")], None
    return [line(CHECK, "api", "passed", "load_data returns a generator function of (images, labels)",
                 "data_api")], _arrays(batch)


def check_shapes(x, y) -> list:
    b = len(y.reshape(-1))
    problems = []
    if b != 100 or x.size != b * 784 or y.size != b:
        problems.append(f"a batch of 100 is images {x.shape} and labels {y.shape}; want [100, 784] and [100]")
    if x.dtype != np.float32:
        problems.append(f"images are {x.dtype}; Paddle's layers want float32")
    if y.dtype != np.int64:
        problems.append(f"labels are {y.dtype}; F.cross_entropy wants int64")
    if not problems:
        return [line(CHECK, "shapes", "passed", "images float32 [100, 784], labels int64 [100]", "data_api")]
    status = "failed" if b != 100 or x.size != b * 784 else "warned"
    return [line(CHECK, "shapes", status, "; ".join(problems), "data_api")]


def check_range(lo: float, hi: float) -> list:
    if hi > 2.0:
        return [line(CHECK, "range", "failed", f"values reach {hi:.0f}: 0-255 input; divide by 255 so that they "
                     "lie in [0, 1] like the file's (unnormalised input slows or breaks training)", "input_scale")]
    if lo < -1e-6 or hi > 1 + 1e-6:
        return [line(CHECK, "range", "warned", f"values span [{lo:.2f}, {hi:.2f}], not [0, 1]: standardised? the "
                     "reference curves were measured on the file's [0, 1] values", "input_scale")]
    return [line(CHECK, "range", "passed", f"values in [0, 1] (min {lo:.2f}, max {hi:.2f})", "input_scale")]


def check_shuffle(loader, file_y) -> list:
    fn = loader("train", 100)
    a = _arrays(next(_batches(fn)))
    b = _arrays(next(_batches(fn)))
    same = np.array_equal(a[1], b[1]) and np.array_equal(_fingerprint(a[0]), _fingerprint(b[0]))
    if same and np.array_equal(a[1].reshape(-1), file_y[:len(a[1].reshape(-1))]):
        return [line(CHECK, "shuffle", "failed", "train batches come in file order: shuffle the indices inside the "
                     "generator function (unshuffled batches bias each update)", "shuffle")]
    if same:
        return [line(CHECK, "shuffle", "failed", "train is shuffled once, then the same order every epoch: "
                     "reshuffle inside the generator function, on every call", "shuffle")]
    return [line(CHECK, "shuffle", "passed", "train reshuffles on every call of the generator function",
                 "shuffle")]


def _same_images(fp, file_fp) -> bool:
    """The fingerprints agree, in order, with the file's: as they are, or for the file's values times 255."""
    return len(fp) == len(file_fp) and _close(fp, file_fp)


def _close(a, b) -> bool:
    return any(np.allclose(a / scale, b, rtol=1e-4, atol=1e-2) for scale in (1.0, 255.0))


def _in_file(fp, y, file_fp, file_y) -> bool:
    """The images and labels are the file's (values x255 allowed): all of them once each, or (fewer) a part."""
    file_y = np.asarray(file_y)
    if len(y) == len(file_y):
        return np.array_equal(np.sort(y), np.sort(file_y)) and _close(np.sort(fp), np.sort(file_fp))
    labels, counts = np.unique(y, return_counts=True)
    have = dict(zip(*np.unique(file_y, return_counts=True)))
    if any(counts[k] > have.get(label, 0) for k, label in enumerate(labels)):
        return False
    sf = np.sort(file_fp)
    for scale in (1.0, 255.0):
        q = fp / scale
        i = np.clip(np.searchsorted(sf, q), 1, len(sf) - 1)
        if np.all(np.minimum(np.abs(q - sf[i - 1]), np.abs(q - sf[i])) <= 1e-2 + 1e-4 * np.abs(q)):
            return True
    return False


def check_values(splits: dict, arrays: dict, batch: dict) -> list:
    """The images and labels the loader yields are the file's, each once; no more missing than a last batch (the
    order and the last batch are lines of their own)."""
    bad = []
    for mode, got in splits.items():
        fx, fy = arrays[mode]
        if len(got["y"]) > len(fy):
            bad.append(f"{mode}: {len(got['y'])} images for the file's {len(fy)}: some come twice")
        elif not len(got["y"]) or not _in_file(got["fp"], got["y"], _fingerprint(fx), fy):
            bad.append(f"{mode}: images or labels that are not the file's (or some twice and some never)")
        elif len(fy) - len(got["y"]) >= batch[mode]:
            bad.append(f"{mode}: {len(got['y'])} images of the file's {len(fy)}")
    if bad:
        return [line(CHECK, "values", "failed", "; ".join(bad), "data")]
    return [line(CHECK, "values", "passed", "every image and label is the file's, each once", "data")]


def check_order(splits: dict, arrays: dict) -> list:
    bad = []
    for mode in ("valid", "eval"):
        got, (fx, fy) = splits[mode], arrays[mode]
        m = min(len(got["y"]), len(fy))
        if not (np.array_equal(got["y"][:m], fy[:m]) and _same_images(got["fp"][:m], _fingerprint(fx[:m]))):
            bad.append(mode)
    if bad:
        return [line(CHECK, "order", "failed", f"{' and '.join(bad)} do not come in file order: keep the file "
                     "order outside train (evaluation needs no shuffling; a fixed order makes results comparable)",
                     "data_api")]
    return [line(CHECK, "order", "passed", "valid and eval keep the file order", "data_api")]


def check_last_batch(sizes: list, n: int) -> list:
    want = [SHORT_BATCH] * (n // SHORT_BATCH) + ([n % SHORT_BATCH] if n % SHORT_BATCH else [])
    if sizes == want:
        return [line(CHECK, "last_batch", "passed", f"valid in batches of {SHORT_BATCH} ends with the short batch "
                     f"of {want[-1]}", "data_api")]
    if sizes == want[:-1]:
        return [line(CHECK, "last_batch", "warned", f"the last short batch ({want[-1]} images) is dropped: those "
                     "images are never trained on or scored", "data_api")]
    return [line(CHECK, "last_batch", "failed", f"valid in batches of {SHORT_BATCH} came as {len(sizes)} batches "
                 f"of {sorted(set(sizes))} images; want {len(want)} ending with {want[-1]}", "data_api")]


def check_speed(loader, data_file: Path, epoch_secs: float) -> list:
    """A second call of the student's loader against the reference's: time, and whether it opens the file again."""
    reference("train", 100)
    with counting_opens(data_file) as ref_opens:
        t0 = time.perf_counter()
        next(_batches(reference("train", 100)))
        ref_call = time.perf_counter() - t0
    ref_epoch = _epoch(reference, "train", 100)["secs"]
    with counting_opens(data_file) as opens:
        t0 = time.perf_counter()
        next(_batches(loader("train", 100)))
        call = time.perf_counter() - t0
    times = (f"a call and its first batch {call * 1000:.1f} ms, one epoch {epoch_secs:.2f} s; reference "
             f"{ref_call * 1000:.1f} ms and {ref_epoch:.2f} s")
    if opens[0] > ref_opens[0]:
        return [line(CHECK, "speed", "failed", f"load_data reads {data_file.name} again on every call ({times}): "
                     "read it once (at module level or cached) and only batch the arrays", "data_speed")]
    if call > max(1.0, 50 * ref_call) or epoch_secs > max(2.0, 20 * ref_epoch):
        return [line(CHECK, "speed", "warned", f"slow: {times}", "data_speed")]
    return [line(CHECK, "speed", "passed", times, "data_speed")]


def run(ns: dict, pieces: dict, ctx: dict) -> dict:
    """Every data line for the student's loader (each sub-check's exception is its own failed line)."""
    name = pieces.get("loader")
    if name is None:
        return {"lines": [line(CHECK, "api", "failed", f"no function {ctx.get('loader') or 'load_data'} found; "
                               "name your loader with --loader NAME", "data_api")]}
    loader, arrays = ns[name], read_arrays(ctx.get("data_path"))
    lines, splits = [], {}
    try:
        api, first = check_api(loader)
    except Exception as exc:  # the student's code
        return {"lines": [line(CHECK, "api", "failed", f"load_data('train', 100) raised {error_text(exc)}",
                               "data_api")]}
    lines += api
    if first is None:
        return {"lines": lines}
    steps = [("shapes", lambda: check_shapes(*first)), ("shuffle", lambda: check_shuffle(loader, arrays["train"][1]))]
    sizes = {"train": 100, "valid": SHORT_BATCH, "eval": 100}
    for mode, bs in sizes.items():
        steps.append((f"{mode} pass", lambda mode=mode, bs=bs: splits.__setitem__(mode, _epoch(loader, mode, bs))))
    steps += [("range", lambda: check_range(*splits["valid"]["range"])),
              ("order", lambda: check_order(splits, arrays)),
              ("last_batch", lambda: check_last_batch(splits["valid"]["sizes"], len(arrays["valid"][1]))),
              ("values", lambda: check_values(splits, arrays, sizes)),
              ("speed", lambda: check_speed(loader, Path(ctx["data_file"]), splits["train"]["secs"]))]
    for what, step in steps:
        try:
            lines += step() or []
        except Exception as exc:  # the student's code
            lines.append(line(CHECK, what.split()[0], "failed", f"{what}: {error_text(exc)}", "data_api"))
            if what.endswith("pass"):
                break
    return {"lines": lines}
