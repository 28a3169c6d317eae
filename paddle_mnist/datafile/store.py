"""The data file, parsed once and cached: ``read_arrays(path)`` for ``engine.batches.load_data`` and everything else.

``mnist.json.gz`` is parsed once (a vectorised parser, a few seconds) and the
arrays are cached as ``.npy`` files in a folder named by the data file's SHA-256, so
a warm ``load_data`` memory-maps them in milliseconds. The threat model is accidents
(a file edited, replaced or damaged; a full disk), not an attacker who can write the
cache. A file's identity (device, inode, size, ``mtime_ns``, ``ctime_ns``) is recorded
when it is hashed: the data file is re-hashed, and each array re-checked against
``checksums.json`` (size and SHA-256), only when its identity changed (a same-size
rewrite with its mtime set back still changes ``ctime``) or it had changed within
``RACY_NS`` of its hash; sizes and identities are compared on every load, in
microseconds, and ``read_arrays(verify=True)`` (``prepare-data --check``) hashes all.
A damaged cache is rebuilt atomically (a new folder renamed in place of the old); a
read-only cache falls back to arrays in memory.

    python -m paddle_mnist bench data
"""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import tempfile
import time
import zlib
from pathlib import Path
import sys

import numpy as np

from paddle_mnist.errors import DataError, PaddleMnistError
from paddle_mnist.paths import DATA_FILE, REPO
from paddle_mnist.records import read_json, write_json
# deferred: pandas (its C tokenizer parses the data file once; the cache is read without it)

MODES = ("train", "valid", "eval")
N_PIXELS = 784
PREPARE_HINT = "python -m paddle_mnist prepare-data"


def default_path() -> Path:
    """``$PADDLE_MNIST_DATA``, else ``data/mnist.json.gz`` in a checkout, else the user data folder
    (``paths.user_data_dir()``, e.g. ``~/.local/share/paddle_mnist/mnist.json.gz``)."""
    env = os.environ.get("PADDLE_MNIST_DATA")
    return Path(env) if env else DATA_FILE


def cache_root() -> Path:
    env = os.environ.get("PADDLE_MNIST_CACHE")
    if env == "":
        raise PaddleMnistError("PADDLE_MNIST_CACHE is set but empty; unset it or name a folder")
    root = Path(env) if env else Path.home() / ".cache" / "paddle_mnist"
    if root.exists() and not root.is_dir():
        raise PaddleMnistError(f"PADDLE_MNIST_CACHE={root}: not a folder (it names a file); name a folder")
    return root


# ---------------------------------------------------------------- parsing
def _decompress(path: Path, blob: bytes) -> bytes:
    if blob[:2] != b"\x1f\x8b":
        return blob  # plain JSON is accepted too
    try:
        return gzip.decompress(blob)
    except EOFError:
        raise DataError(f"{path}: truncated gzip file (ends before the end-of-stream marker)") from None
    except (gzip.BadGzipFile, zlib.error, OSError) as exc:
        raise DataError(f"{path}: corrupted gzip file ({exc})") from None


def _positions(raw: bytes, char: bytes) -> np.ndarray:
    out, i = [], raw.find(char)
    while i >= 0:
        out.append(i)
        i = raw.find(char, i + 1)
    return np.array(out, dtype=np.int64)


def _fast_parse(raw: bytes):
    """Vectorised parse of the course layout; ``None`` when anything looks off."""
    import pandas as pd  # C tokenizer: ~10x faster than json for 55M numbers

    opens, closes = _positions(raw, b"["), _positions(raw, b"]")
    if opens.size != closes.size or opens.size < 10:
        return None
    pos = np.concatenate([opens, closes])
    step = np.concatenate([np.ones_like(opens), -np.ones_like(closes)])
    order = np.argsort(pos, kind="stable")
    pos, step = pos[order], step[order]
    depth = np.cumsum(step) - (step > 0)  # depth of each bracket's array (0 = outermost)
    if depth.min() < 0 or depth.max() > 3 or depth[0] != 0 or pos[0] != len(raw) - len(raw.lstrip()):
        return None
    if raw[pos[-1] + 1:].strip() or (depth == 0).sum() != 2 or ((depth == 1) & (step > 0)).sum() != 3:
        return None
    lists = np.flatnonzero((depth == 2) & (step > 0))
    if lists.size != 6:
        return None
    counts, bounds = [], []
    for s in range(3):
        i_img, i_lab = lists[2 * s], lists[2 * s + 1]
        img_opens = np.flatnonzero((depth == 3) & (step > 0) & (np.arange(pos.size) > i_img) & (np.arange(pos.size) < i_lab))
        if step[i_lab + 1] > 0:  # the labels list must be flat
            return None
        for j in img_opens:
            if raw.count(b",", pos[j], pos[j + 1]) != N_PIXELS - 1:
                return None
        lab_commas = raw.count(b",", pos[i_lab], pos[i_lab + 1])
        n_lab = lab_commas + 1 if raw[pos[i_lab] + 1: pos[i_lab + 1]].strip() else 0
        counts.append((img_opens.size, n_lab))
        bounds.append((img_opens.size * N_PIXELS, n_lab))
    text = raw.translate(bytes.maketrans(b",]", b"\n\n"), b"[ \t\r")
    try:
        values = pd.read_csv(io.BytesIO(text), header=None, dtype=np.float32, engine="c",
                             skip_blank_lines=True, na_filter=False).to_numpy().ravel()
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError):
        return None
    if values.size != sum(a + b for a, b in bounds) or not np.isfinite(values).all():
        return None
    arrays, at = {}, 0
    for mode, (n_img, n_lab), (n_val, _) in zip(MODES, counts, bounds):
        x = values[at: at + n_val].reshape(n_img, N_PIXELS)
        y = values[at + n_val: at + n_val + n_lab]
        at += n_val + n_lab
        arrays[mode] = (x, y)
    return arrays


def _slow_parse(path: Path, raw: bytes):
    """``json`` parse with a precise message for each way the structure can be wrong."""
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: invalid JSON ({exc})") from None
    if not isinstance(data, list) or len(data) != 3:
        raise DataError(f"{path}: expected [train, valid, eval], a list of 3 splits")
    arrays = {}
    for mode, split in zip(MODES, data):
        if not isinstance(split, list) or len(split) != 2:
            raise DataError(f"{path}: split {mode!r} must be [images, labels]")
        imgs, labels = split
        if not isinstance(imgs, list) or not isinstance(labels, list):
            raise DataError(f"{path}: split {mode!r} must be [images, labels] lists")
        for i, img in enumerate(imgs):
            if not isinstance(img, list) or len(img) != N_PIXELS:
                got = len(img) if isinstance(img, list) else type(img).__name__
                raise DataError(f"{path}: {mode} image {i} has {got} values, expected {N_PIXELS}")
        try:
            x = np.asarray(imgs, dtype=np.float32).reshape(len(imgs), N_PIXELS)
            y = np.asarray(labels, dtype=np.float32)
        except (TypeError, ValueError) as exc:
            raise DataError(f"{path}: {mode} holds a value that is not a number ({exc})") from None
        if y.ndim != 1:
            raise DataError(f"{path}: {mode} labels must be a flat list of integers")
        arrays[mode] = (x, y)
    return arrays


def _validate(path: Path, arrays) -> dict:
    out = {}
    for mode, (x, y) in arrays.items():
        if len(x) == 0:
            raise DataError(f"{path}: the {mode} split is empty (no images); every split needs at least one")
        if len(x) != len(y):
            raise DataError(f"{path}: {mode} has {len(x)} images but {len(y)} labels")
        if not np.isfinite(x).all():
            raise DataError(f"{path}: {mode} images hold NaN or infinite values")
        bad = (y != np.round(y)) | (y < 0) | (y > 9)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(f"{path}: {mode} label {i} is {y[i]!r}, expected an integer 0-9")
        out[mode] = (np.ascontiguousarray(x, dtype=np.float32), y.astype(np.int64))
    return out


def parse_file(path: str | Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Parse a course-format file into ``{mode: (float32 [N, 784], int64 [N])}`` (no cache)."""
    path = Path(path)
    raw = _decompress(path, path.read_bytes())
    arrays = _fast_parse(raw)
    if arrays is None:
        arrays = _slow_parse(path, raw)
    return _validate(path, arrays)


# ---------------------------------------------------------------- cache
RACY_NS = 2 * 10**9  # a file changed this close to its hash (clock and timestamp granularity) is hashed again


def _identity(st: os.stat_result) -> list[int]:
    """A file's identity: it changes whenever the file is replaced or written (``ctime`` cannot be set back)."""
    return [st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def _trusted(entry, st: os.stat_result) -> bool:
    """``entry`` (``{"identity", "hashed_ns", ...}``) still describes the file: same identity, and the file had
    not changed for ``RACY_NS`` when it was hashed (so a change after the hash shows in its ``ctime``)."""
    return (isinstance(entry, dict) and entry.get("identity") == _identity(st)
            and isinstance(entry.get("hashed_ns"), int) and st.st_ctime_ns < entry["hashed_ns"] - RACY_NS)


def _cache_dir_for(path: Path, full: bool = False) -> Path:
    """The cache folder for ``path``'s content digest; re-hashed when the file's identity changes."""
    st = path.stat()
    index_file = cache_root() / "index.json"
    key = str(path.resolve())
    try:
        index = read_json(index_file)
    except (OSError, PaddleMnistError, ValueError):  # a broken index only costs a re-hash
        index = {}
    if not isinstance(index, dict):  # not ours (a list, a number): ignored, then replaced
        index = {}
    entry = index.get(key)
    if not full and _trusted(entry, st) and isinstance(entry.get("sha256"), str) and len(entry["sha256"]) == 64:
        digest = entry["sha256"]
    else:
        hashed_ns = time.time_ns()
        digest = _file_sha256(path)
        index[key] = {"identity": _identity(st), "hashed_ns": hashed_ns, "sha256": digest}
        try:
            write_json(index_file, index)
        except OSError:
            pass
    return cache_root() / digest[:32]


CHECKSUMS = "checksums.json"
_VERIFIED: set[str] = set()  # cache folders whose hashes were checked in this process
_NAMES = [f"{m}_{k}.npy" for m in MODES for k in "xy"]


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def _checksums(folder: Path) -> dict:
    """``{name: {"size", "sha256", "identity", "hashed_ns"}}`` of the array files in ``folder``, hashed now."""
    sums = {}
    for name in _NAMES:
        hashed_ns, st = time.time_ns(), (folder / name).stat()
        sums[name] = {"size": st.st_size, "sha256": _file_sha256(folder / name), "identity": _identity(st),
                      "hashed_ns": hashed_ns}
    return sums


def _save_cache(folder: Path, arrays) -> None:
    """Write the arrays and their checksums to a new folder, then swap it in for ``folder`` (rename aside, rename
    in, remove the old). A read-only or full cache leaves nothing behind; the arrays stay in memory."""
    tmp = aside = None
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder.parent))
        for mode, (x, y) in arrays.items():
            np.save(tmp / f"{mode}_x.npy", x)
            np.save(tmp / f"{mode}_y.npy", y)
        write_json(tmp / CHECKSUMS, _checksums(tmp))  # renaming the folder keeps the files' identities
        if folder.exists():
            aside = Path(tempfile.mkdtemp(prefix=".old-", dir=folder.parent))
            os.replace(folder, aside / "old")
        os.replace(tmp, folder)
        tmp = None
        _VERIFIED.add(str(folder))
    except OSError:
        pass  # another process won the race, or a read-only or full cache
    finally:
        for leftover in (tmp, aside):
            if leftover is not None:
                shutil.rmtree(leftover, ignore_errors=True)


def _verify(folder: Path, sums: dict, full: bool = False) -> bool:
    """Sizes always; the SHA-256 of each array only when its identity changed (or ``full``). A file that
    hashes right gets its new identity recorded, so the next load is cheap again."""
    stats = {n: (folder / n).stat() for n in _NAMES}
    if any(stats[n].st_size != sums[n].get("size") for n in _NAMES):
        return False
    if str(folder) in _VERIFIED and not full:
        return True
    stale = [n for n in _NAMES if full or not _trusted(sums[n], stats[n])]
    if not stale:
        return True
    fresh = _checksums(folder)
    if any(fresh[n]["sha256"] != sums[n].get("sha256") for n in _NAMES):
        return False
    try:
        write_json(folder / CHECKSUMS, fresh)
    except OSError:
        pass  # a read-only cache: verified again next time
    _VERIFIED.add(str(folder))
    return True


def _load_cache(folder: Path, full: bool = False):
    """The cached arrays, memory-mapped, or ``None`` when the folder is missing, incomplete or damaged."""
    try:
        sums = read_json(folder / CHECKSUMS)
    except (OSError, PaddleMnistError):
        return None
    try:
        if not isinstance(sums, dict) or any(not isinstance(sums.get(n), dict) for n in _NAMES) \
                or not _verify(folder, sums, full):
            return _damaged(folder)
        return {m: (np.load(folder / f"{m}_x.npy", mmap_mode="r"), np.load(folder / f"{m}_y.npy", mmap_mode="r"))
                for m in MODES}
    except (OSError, ValueError):
        return _damaged(folder)


def _damaged(folder: Path) -> None:
    print(f"data cache {folder} is damaged; rebuilding it from the data file", file=sys.stderr)
    return None


def read_arrays(path: str | Path | None = None, *, cache: bool = True,
                verify: bool = False) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """All three splits as arrays; from the binary cache when the file is unchanged.

    ``verify``: hash the data file and every cache array in full, whatever their identities say
    (``prepare-data --check``).
    """
    path = Path(path) if path is not None else default_path()
    if not path.is_file():
        raise FileNotFoundError(f"data file not found: {path} (build it with: {PREPARE_HINT}, "
                                "or point PADDLE_MNIST_DATA at a copy)")
    if not cache:
        return parse_file(path)
    folder = _cache_dir_for(path, verify)
    arrays = _load_cache(folder, verify)
    if arrays is None:
        arrays = parse_file(path)
        _save_cache(folder, arrays)
    return arrays


def summarize(path=None) -> dict:
    """Split sizes, label counts and pixel statistics (written to ``reports/results/data.json``)."""
    path = Path(path) if path is not None else default_path()
    arrays = read_arrays(path)
    splits = {}
    for mode in MODES:
        x, y = arrays[mode]
        splits[mode] = {"n": int(len(y)), "label_counts": np.bincount(y, minlength=10).tolist(),
                        "pixel_mean": float(np.mean(x, dtype=np.float64)),
                        "pixel_std": float(np.std(x, dtype=np.float64)),
                        "ink_fraction": float(np.mean(np.asarray(x) > 0.5))}
    md5 = hashlib.md5(path.read_bytes()).hexdigest()
    try:
        shown = str(path.resolve().relative_to(REPO))
    except ValueError:
        shown = str(path)
    return {"file": shown, "md5": md5, "bytes": path.stat().st_size, "splits": splits}
