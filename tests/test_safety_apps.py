"""Issue 22, the apps' rows: a decompression bomb and a crowd at the demo (5), bad --port/--host (11), a
3-output model in evaluate (13), --save-input through a link or onto a full disk (14), a corrupt TIFF's
warnings (20) and curl's default form content type (21). Each row is a parametrised test.

    python -m pytest -q tests/test_safety_apps.py
"""
from __future__ import annotations

import errno
import io
import os
import time

import numpy as np
import pytest
from conftest import REPO
from PIL import Image

from paddle_mnist.apps.cli import main

INFERENCE = REPO / "reports" / "models" / "inference"


@pytest.fixture(scope="module")
def app():
    from paddle_mnist.apps.demo import create_app, load_models

    return create_app(load_models([INFERENCE / "softmax"]))


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def one_png():
    from paddle_mnist.datafile.store import read_arrays

    x, _ = read_arrays()["eval"]
    return _png(Image.fromarray(np.round(np.asarray(x[0]).reshape(28, 28) * 255).astype(np.uint8)))  # a 7


def _one_line(capsys) -> str:
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


# ---------------------------------------------------------------- row 5: decoded memory, concurrent predictions
@pytest.mark.parametrize("case", ["bomb_1bit_6300x6300", "busy"])
def test_row5_demo_caps_decode_memory_and_concurrency(case, app, one_png):
    client = app.test_client()
    if case == "busy":  # every prediction slot taken: the next request is turned away at once
        slots = app.config["PREDICT_SLOTS"]
        taken = 0
        while slots.acquire(blocking=False):
            taken += 1
        try:
            res = client.post("/api/predict", data=one_png, content_type="image/png")
        finally:
            for _ in range(taken):
                slots.release()
        assert taken >= 1 and res.status_code == 503 and "busy" in res.get_json()["error"]
        assert res.headers["Retry-After"] == "1"
        assert client.post("/api/predict", data=one_png, content_type="image/png").status_code == 200
        return
    bomb = _png(Image.new("1", (6300, 6300), 1))
    assert len(bomb) < 20_000  # a few KB on the wire, 39.7 megapixels once decoded
    started = time.perf_counter()
    res = client.post("/api/predict", data=bomb, content_type="image/png")
    elapsed = time.perf_counter() - started
    assert res.status_code == 413 and "too large to decode: 6300x6300" in res.get_json()["error"]
    assert elapsed < 1.0, f"refused after {elapsed:.2f} s: the pixels were decoded"


def test_row5_the_decode_estimate_bounds_memory():
    from paddle_mnist.apps.demo import MAX_DECODE_BYTES, decoded_bytes

    assert decoded_bytes(6300, 6300, "1") > MAX_DECODE_BYTES
    assert decoded_bytes(280, 280, "RGBA") < MAX_DECODE_BYTES  # the page's own drawing
    assert decoded_bytes(4000, 3000, "RGB") < MAX_DECODE_BYTES  # a 12-megapixel phone photo


# ---------------------------------------------------------------- row 11: demo --port / --host
@pytest.mark.parametrize("args, message", [
    (["--port", "70000"], "error: --port 70000: out of range (1-65535)"),
    (["--host", "hôst.."], "error: --host hôst..: not an address or a name this machine can resolve"),
    (["--host", "203.0.113.7"], "error: --host 203.0.113.7: cannot listen on"),
])
def test_row11_demo_bad_port_or_host_is_one_line(args, message, capsys):
    assert main(["demo", *args]) == 1
    assert _one_line(capsys).startswith(message)


# ---------------------------------------------------------------- row 13: a 3-output model
@pytest.fixture(scope="module")
def three_outputs(tmp_path_factory):
    from paddle_mnist.apps.predict import save_model
    from paddle_mnist.engine.nets import build_model

    path = tmp_path_factory.mktemp("m") / "m.pdparams"
    save_model(build_model("mlp", hidden=(8,), out_features=3), "mlp", {"hidden": [8], "out_features": 3}, path)
    return path


@pytest.mark.parametrize("command", ["evaluate", "predict", "export"])
def test_row13_a_three_output_model_is_refused_in_one_line(command, three_outputs, one_png, tmp_path, capsys):
    (tmp_path / "one.png").write_bytes(one_png)
    args = {"evaluate": ["evaluate", str(three_outputs)],
            "predict": ["predict", str(tmp_path / "one.png"), "--model", str(three_outputs)],
            "export": ["export", "--model", str(three_outputs), "--out", str(tmp_path / "out")]}[command]
    assert main(args) == 1
    assert "gives 3 outputs per image" in _one_line(capsys)
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


# ---------------------------------------------------------------- row 14: --save-input
@pytest.mark.parametrize("case", ["link", "full_disk"])
def test_row14_save_input_refuses_links_and_leaves_no_empty_png(case, one_png, tmp_path, capsys, monkeypatch):
    image, seen = tmp_path / "one.png", tmp_path / "seen"
    image.write_bytes(one_png)
    seen.mkdir()
    outside = tmp_path / "notes.txt"
    outside.write_bytes(b"the user's notes\n")
    if case == "link":
        (seen / "one.28x28.png").symlink_to(outside)
        assert main(["predict", str(image), "--save-input", str(seen)]) == 1
        assert "is a link" in _one_line(capsys)
        assert (seen / "one.28x28.png").is_symlink() and sorted(os.listdir(seen)) == ["one.28x28.png"]
    else:
        def full(fd):
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(os, "fsync", full)
        assert main(["predict", str(image), "--save-input", str(seen)]) == 1
        assert "No space left on device" in _one_line(capsys)
        assert os.listdir(seen) == []  # neither a 0-byte PNG nor the temporary file
    assert outside.read_bytes() == b"the user's notes\n"


# ---------------------------------------------------------------- row 20: a corrupt TIFF
def _corrupt_tiffs() -> dict:
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64), np.uint8)).save(
        buf, "TIFF", compression="tiff_lzw")
    good = buf.getvalue()
    garbled = bytearray(good)
    garbled[8:40] = b"\xff" * 32
    return {"truncated": good[: len(good) // 2] + bytes(200), "garbled_strip": bytes(garbled)}


@pytest.mark.parametrize("kind", ["truncated", "garbled_strip"])
def test_row20_a_corrupt_tiff_is_only_the_one_line_error(kind, tmp_path, capfd):
    path = tmp_path / "corrupt.tif"
    path.write_bytes(_corrupt_tiffs()[kind])
    capfd.readouterr()
    assert main(["predict", str(path)]) == 1
    out, err = capfd.readouterr()  # file descriptor 2 itself: libtiff writes there, not through sys.stderr
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: {path}: "), err
    assert "Warning" not in err and out == ""


# ---------------------------------------------------------------- row 21: a raw body, whatever the content type
@pytest.mark.parametrize("ctype", ["application/x-www-form-urlencoded", "application/octet-stream", "text/plain",
                                   None, "image/png", "multipart"])
def test_row21_demo_takes_a_raw_image_body_whatever_the_content_type(ctype, app, one_png):
    client = app.test_client()
    if ctype == "multipart":
        res = client.post("/api/predict", data={"file": (io.BytesIO(one_png), "one.png")},
                          content_type="multipart/form-data")
    elif ctype is None:
        res = client.post("/api/predict", data=one_png)
    else:
        res = client.post("/api/predict", data=one_png, content_type=ctype)
    assert res.status_code == 200, res.get_json()
    assert res.get_json()["models"][0]["digit"] == 7
