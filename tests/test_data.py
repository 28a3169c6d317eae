"""The data layer: the real mnist.json.gz, load_data's contract, the cache, and every bad input."""
from __future__ import annotations

import gzip
import json
import os
import time

import numpy as np
import pytest
from conftest import REAL_DATA, make_splits, write_course_file

from paddle_mnist.engine.batches import load_data
from paddle_mnist.datafile import store as data
from paddle_mnist.errors import DataError
from paddle_mnist.datafile.prepare import PIXEL_FLOAT32

COUNTS = {
    "train": [4932, 5678, 4968, 5101, 4859, 4506, 4951, 5175, 4842, 4988],
    "valid": [991, 1064, 990, 1030, 983, 915, 967, 1090, 1009, 961],
    "eval": [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009],
}


@pytest.fixture(scope="module")
def real():
    return data.read_arrays(REAL_DATA)


@pytest.mark.parametrize("mode", data.MODES)
def test_real_file_splits(real, mode):
    x, y = real[mode]
    assert x.dtype == np.float32 and y.dtype == np.int64
    assert x.shape == (len(y), 784)
    assert np.bincount(y, minlength=10).tolist() == COUNTS[mode]
    assert float(x.min()) == 0.0 and float(x.max()) == 1.0
    # every value is pixel/255 for an integer pixel: the IDX bytes survive the round trip
    assert np.isin(x[:500], PIXEL_FLOAT32).all()
    # ink near 1 on a background of 0: most pixels are background
    assert 0.75 < float((x[:1000] == 0).mean()) < 0.85


def test_load_data_train_batches_and_reshuffle():
    gen = load_data("train", 100, path=REAL_DATA)
    first = list(gen())
    assert len(first) == 500
    imgs, labels = first[0]
    assert imgs.shape == (100, 784) and imgs.dtype == np.float32
    assert labels.shape == (100,) and labels.dtype == np.int64
    second = next(gen())
    assert not np.array_equal(first[0][1], second[1]), "train must reshuffle on every call"
    seen = np.concatenate([b[1] for b in first])
    assert np.bincount(seen).tolist() == COUNTS["train"], "one epoch visits every sample once"


def test_load_data_seeded_is_reproducible():
    a = next(load_data("train", 64, path=REAL_DATA, seed=7)())
    b = next(load_data("train", 64, path=REAL_DATA, seed=7)())
    c = next(load_data("train", 64, path=REAL_DATA, seed=8)())
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


@pytest.mark.parametrize("mode", ["valid", "eval"])
def test_valid_and_eval_keep_file_order_and_short_last_batch(real, mode):
    batches = list(load_data(mode, 128, path=REAL_DATA)())
    assert [len(b[1]) for b in batches[-2:]] == [128, 10000 - 78 * 128]
    assert np.array_equal(np.concatenate([b[1] for b in batches]), real[mode][1])
    again = list(load_data(mode, 128, path=REAL_DATA)())
    assert np.array_equal(batches[0][0], again[0][0])
    dropped = list(load_data(mode, 128, path=REAL_DATA, drop_last=True)())
    assert len(dropped) == 78 and all(len(b[1]) == 128 for b in dropped)


@pytest.mark.parametrize("mode", ["test", "TRAIN", "", None])
def test_unknown_mode(mode):
    with pytest.raises(ValueError, match="train, valid, eval"):
        load_data(mode, 10, path=REAL_DATA)


@pytest.mark.parametrize("bs", [0, -1, 1.5, True, "10", None])
def test_bad_batch_size(bs):
    with pytest.raises(ValueError, match="positive int"):
        load_data("train", bs, path=REAL_DATA)


def test_missing_file_names_path_and_command(tmp_path):
    missing = tmp_path / "nope.json.gz"
    with pytest.raises(FileNotFoundError) as info:
        load_data("train", 10, path=missing)
    assert str(missing) in str(info.value) and "prepare-data" in str(info.value)


def _corrupt_cases(tmp_path):
    good = make_splits()
    blob = gzip.compress(json.dumps([[x.tolist(), y.tolist()] for x, y in good.values()]).encode())
    bad = {}
    bad["truncated gzip"] = blob[: len(blob) // 2]
    bad["corrupted gzip"] = blob[:10] + b"\x00" * 50 + blob[60:]
    bad["invalid JSON"] = gzip.compress(b'[[[0.1, 0.2], [1]], oops')
    two = [[x.tolist(), y.tolist()] for x, y in list(good.values())[:2]]
    bad["list of 3 splits"] = gzip.compress(json.dumps(two).encode())
    short = make_splits()
    splits = {m: (x.tolist(), y.tolist()) for m, (x, y) in short.items()}
    splits["valid"][0][3] = splits["valid"][0][3][:700]
    bad["has 700 values"] = gzip.compress(json.dumps([list(v) for v in splits.values()]).encode())
    labels = {m: (x.tolist(), y.tolist()) for m, (x, y) in make_splits().items()}
    labels["eval"][1][2] = 12
    bad["expected an integer 0-9"] = gzip.compress(json.dumps([list(v) for v in labels.values()]).encode())
    frac = {m: (x.tolist(), y.tolist()) for m, (x, y) in make_splits().items()}
    frac["train"][1][0] = 2.5
    bad["expected an integer 0-9 "] = gzip.compress(json.dumps([list(v) for v in frac.values()]).encode())
    lens = {m: (x.tolist(), y.tolist()) for m, (x, y) in make_splits().items()}
    lens["train"][1].pop()
    bad["labels"] = gzip.compress(json.dumps([list(v) for v in lens.values()]).encode())
    text = {m: (x.tolist(), y.tolist()) for m, (x, y) in make_splits().items()}
    text["valid"][0][1][5] = "bright"
    bad["not a number"] = gzip.compress(json.dumps([list(v) for v in text.values()]).encode())
    return bad


@pytest.mark.parametrize("what", ["truncated gzip", "corrupted gzip", "invalid JSON", "list of 3 splits",
                                  "has 700 values", "expected an integer 0-9", "expected an integer 0-9 ",
                                  "labels", "not a number"])
def test_corrupted_files_raise_dataerror_naming_file(tmp_path, what):
    path = tmp_path / "bad.json.gz"
    path.write_bytes(_corrupt_cases(tmp_path)[what])
    with pytest.raises(DataError) as info:
        load_data("train", 10, path=path)
    assert str(path) in str(info.value)
    assert what.strip() in str(info.value)


def test_fast_parser_matches_json_on_odd_formatting(tmp_path):
    splits = make_splits(seed=3)
    path = write_course_file(tmp_path / "indented.json.gz", splits, indent=1)
    fast = data.parse_file(path)
    for mode, (x, y) in splits.items():
        assert np.array_equal(fast[mode][0], x.astype(np.float32))
        assert np.array_equal(fast[mode][1], y)
    raw = gzip.decompress(path.read_bytes())
    assert data._fast_parse(raw) is not None, "the vectorised path must handle whitespace"


def test_plain_json_is_accepted(tmp_path):
    splits = make_splits(seed=4)
    path = tmp_path / "plain.json"
    path.write_text(json.dumps([[x.tolist(), y.tolist()] for x, y in splits.values()]))
    assert np.array_equal(data.read_arrays(path)["eval"][1], splits["eval"][1])


def test_cache_rebuilds_when_content_changes(tmp_path, monkeypatch):
    monkeypatch.setenv("PADDLE_MNIST_CACHE", str(tmp_path / "cache"))
    path = write_course_file(tmp_path / "d.json.gz", make_splits(seed=1))
    first = data.read_arrays(path)["train"][0].copy()
    assert any((tmp_path / "cache").iterdir())
    write_course_file(path, make_splits(seed=2))
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
    second = data.read_arrays(path)["train"][0]
    assert not np.array_equal(first, second)
    assert np.array_equal(second, make_splits(seed=2)["train"][0].astype(np.float32))


def test_warm_cache_is_memory_mapped(real):
    x, _ = data.read_arrays(REAL_DATA)["train"]
    assert isinstance(x, np.memmap)
    assert np.array_equal(np.asarray(x[:5]), np.asarray(real["train"][0][:5]))


def test_paddle_dataset_and_dataloader():
    import paddle

    from paddle_mnist.datafile.dataset import MnistJson

    ds = MnistJson("valid", path=REAL_DATA)
    assert len(ds) == 10000
    img, label = ds[0]
    assert img.shape == (784,) and label.shape == (1,) and label.dtype == np.int64
    loader = paddle.io.DataLoader(ds, batch_size=256, shuffle=False)
    xb, yb = next(iter(loader))
    assert xb.shape == [256, 784] and yb.shape == [256, 1]
    assert np.array_equal(yb.numpy().ravel(), data.read_arrays(REAL_DATA)["valid"][1][:256])
