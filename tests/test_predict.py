"""``paddle_mnist.apps.predict``: MNIST-style preprocessing of real digits, model files, predictions.

A real SoftmaxNet is trained for one epoch on the real train split (a few
seconds); real ``eval`` digits are written as PNG/JPEG files in several guises
(plain, inverted, enlarged and off-centre, coloured RGB, transparent RGBA) and
must come back as the same digits.

    PADDLE_MNIST_CACHE=/tmp/pmcache python -m pytest tests/test_predict.py -q
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from paddle_mnist.errors import PaddleMnistError
from paddle_mnist.apps.predict import (
    DEFAULT_MODEL,
    format_prediction,
    load_model,
    predict_images,
    preprocess_image,
    save_model,
)

REPO = Path(__file__).resolve().parent.parent
N_DIGITS = 20
VARIANTS = ("inverted", "rescaled", "rgb", "rgba", "jpeg", "photo")


# ---------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def arrays():
    from paddle_mnist.datafile.store import read_arrays

    return read_arrays()


@pytest.fixture(scope="module")
def trained(arrays, tmp_path_factory):
    """A real SoftmaxNet: one epoch of Adam 1e-3, batch 100, on the real train split; saved with save_model."""
    import paddle
    import paddle.nn.functional as F

    from paddle_mnist.engine.nets import build_model

    paddle.seed(0)
    x, y = arrays["train"]
    x, y = np.asarray(x), np.asarray(y)
    model = build_model("softmax")
    opt = paddle.optimizer.Adam(learning_rate=1e-3, parameters=model.parameters())
    order = np.random.default_rng(0).permutation(len(y))
    for start in range(0, len(y), 100):
        idx = order[start:start + 100]
        loss = F.cross_entropy(model(paddle.to_tensor(x[idx])), paddle.to_tensor(y[idx]))
        loss.backward()
        opt.step()
        opt.clear_grad()
    path = tmp_path_factory.mktemp("model") / "softmax.pdparams"
    assert save_model(model, "softmax", {}, path) == path
    return model, path


def _u8(vec) -> np.ndarray:
    return np.round(np.asarray(vec, dtype=np.float32).reshape(28, 28) * 255).astype(np.uint8)


def _variant(img: np.ndarray, kind: str, i: int) -> Image.Image:
    """``img``: uint8 28x28, light ink on black (MNIST)."""
    if kind == "plain":
        return Image.fromarray(img)
    if kind == "inverted":  # dark ink on white paper
        return Image.fromarray(255 - img)
    if kind == "rescaled":  # 4x larger, off-centre in a bigger, non-square canvas
        big = Image.fromarray(img).resize((112, 112), Image.Resampling.BICUBIC)
        canvas = Image.new("L", (220, 170), 0)
        canvas.paste(big, (10 + 5 * i, 40))
        return canvas
    ink = img.astype(np.float32)[..., None] / 255.0
    if kind in ("rgb", "jpeg"):  # dark-blue pen on white paper, 3x larger
        paper, pen = np.array([255, 255, 255], np.float32), np.array([20, 30, 120], np.float32)
        rgb = np.round(paper * (1 - ink) + pen * ink).astype(np.uint8)
        return Image.fromarray(rgb).resize((84, 84), Image.Resampling.BICUBIC)
    if kind == "photo":  # dark ink on grey, noisy paper, 10x larger in a bigger canvas, as a JPEG
        big = np.asarray(Image.fromarray(img).resize((280, 280), Image.Resampling.BICUBIC), np.float32) / 255
        canvas = np.zeros((360, 420), np.float32)
        canvas[30:310, 70 + 3 * i:350 + 3 * i] = big
        noise = np.random.default_rng(i).normal(0.0, 8.0, canvas.shape)
        return Image.fromarray(np.clip(200 - 160 * canvas + noise, 0, 255).astype(np.uint8))
    if kind == "rgba":  # black ink on a transparent background (a drawing app's export)
        rgba = np.zeros((28, 28, 4), np.uint8)
        rgba[..., 3] = img
        return Image.fromarray(rgba)
    raise ValueError(kind)


@pytest.fixture(scope="module")
def digits(arrays, tmp_path_factory):
    """The first N_DIGITS real eval digits as image files: {kind: [paths]}, plus the arrays and labels."""
    x, y = arrays["eval"]
    folder = tmp_path_factory.mktemp("digits")
    files = {}
    for kind in ("plain",) + VARIANTS:
        files[kind] = []
        for i in range(N_DIGITS):
            img = _variant(_u8(x[i]), kind, i)
            path = folder / f"{kind}-{i}-label{int(y[i])}.{'jpg' if kind in ('jpeg', 'photo') else 'png'}"
            img.save(path, **({"quality": 90} if path.suffix == ".jpg" else {}))
            files[kind].append(path)
    return files, np.asarray(x[:N_DIGITS]), np.asarray(y[:N_DIGITS])


# ---------------------------------------------------------------- preprocessing
def test_plain_mnist_png_round_trips(digits):
    files, x, _ = digits
    back = np.stack([preprocess_image(p) for p in files["plain"]])
    assert back.shape == (N_DIGITS, 784) and back.dtype == np.float32
    assert back.min() >= 0.0 and back.max() <= 1.0
    diff = np.abs(back - x).mean(axis=1)
    # Measured: mean 1e-4, worst 4e-4 (uint8 rounding plus the odd 19-px digit scaled to 20).
    # A digit shifted by a single pixel is off by >= 0.04, so these bounds do detect a misplacement.
    assert diff.max() < 0.005, diff
    assert diff.mean() < 0.001
    shifted = np.abs(np.roll(x.reshape(-1, 28, 28), 1, axis=2).reshape(N_DIGITS, 784) - x).mean(axis=1)
    assert shifted.min() > 0.005


def test_preprocess_centres_and_scales_like_mnist(digits):
    """An enlarged, off-centre digit comes back in a 20-px box with its centre of mass at (14, 14)."""
    files, _, _ = digits
    ys, xs = np.mgrid[0:28, 0:28]
    for path in files["rescaled"]:
        out = preprocess_image(path).reshape(28, 28)
        mass = out.sum()
        cy, cx = (out * ys).sum() / mass, (out * xs).sum() / mass
        assert abs(cy - 14) <= 0.5 + 1e-4 and abs(cx - 14) <= 0.5 + 1e-4, (path.name, cy, cx)
        rows, cols = np.flatnonzero(out.max(axis=1) > 0.05), np.flatnonzero(out.max(axis=0) > 0.05)
        assert max(rows[-1] - rows[0], cols[-1] - cols[0]) + 1 in (19, 20), path.name
        assert out.max() == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("kind", ["inverted", "rgba"])
def test_polarity_and_transparency_give_the_same_array(digits, kind):
    """Dark ink on white, and black ink on a transparent background, preprocess exactly like the plain PNG."""
    files, _, _ = digits
    for path, plain in zip(files[kind], files["plain"]):
        diff = np.abs(preprocess_image(path) - preprocess_image(plain)).mean()
        assert diff < 1e-3, (path.name, diff)  # measured: 0


def _aligned_diff(a, b) -> float:
    """Mean |a - b| after the best shift by at most one pixel each way.

    Integer centring by mass is ambiguous for a digit whose centre of mass sits
    half-way between two pixels, and resampling moves it across: a 1-px jump is
    expected there, a different or distorted digit is not.
    """
    a, b = a.reshape(28, 28), b.reshape(28, 28)
    return min(float(np.abs(np.roll(a, (dy, dx), (0, 1)) - b).mean()) for dy in (-1, 0, 1) for dx in (-1, 0, 1))


@pytest.mark.parametrize("kind", ["rescaled", "rgb", "jpeg", "photo"])
def test_resampled_variants_give_nearly_the_same_array(digits, kind):
    """Enlarged (4x off-centre, 3x coloured RGB, 3x JPEG) digits come back close to the plain one."""
    files, _, _ = digits
    plain = [preprocess_image(p) for p in files["plain"]]
    diffs = np.array([_aligned_diff(preprocess_image(p), ref) for p, ref in zip(files[kind], plain)])
    # Measured on these 20 digits: worst 0.059 (photo), means 0.027-0.032 (resampling blurs strokes a little).
    assert diffs.max() < 0.07, (kind, diffs)
    assert diffs.mean() < 0.04, (kind, diffs)
    # ... while two different digits of the set differ by >= 0.109 (measured): the bound discriminates.
    others = [_aligned_diff(plain[i], plain[i + 1]) for i in range(N_DIGITS - 1)]
    assert min(others) > 0.07


# ---------------------------------------------------------------- predictions
def test_real_digits_are_recognised(trained, digits):
    _, model_path = trained
    files, _, labels = digits
    results = predict_images(files["plain"], model_path)
    predicted = np.array([r["digit"] for r in results])
    # Measured: 19/20 (this 1-epoch SoftmaxNet scores 90.1% on the whole eval split).
    assert (predicted == labels).sum() >= 17, predicted
    for r, path in zip(results, files["plain"]):
        assert r["path"] == str(path)
        assert len(r["probabilities"]) == 10 and sum(r["probabilities"]) == pytest.approx(1.0, abs=1e-5)
        assert r["probability"] == max(r["probabilities"]) == r["probabilities"][r["digit"]]


def test_predictions_match_the_in_memory_model(trained, digits):
    """The saved-and-reloaded model gives the softmax of the trained model's logits on the same input."""
    import paddle
    import paddle.nn.functional as F

    model, model_path = trained
    files, _, _ = digits
    batch = np.stack([preprocess_image(p) for p in files["plain"]])
    model.eval()
    with paddle.no_grad():
        want = F.softmax(model(paddle.to_tensor(batch)), axis=-1).numpy()
    got = np.array([r["probabilities"] for r in predict_images(files["plain"], model_path)])
    np.testing.assert_allclose(got, want, atol=1e-5)


@pytest.mark.parametrize("kind", VARIANTS)
def test_variants_predict_like_the_plain_png(trained, digits, kind):
    _, model_path = trained
    files, _, labels = digits
    plain = np.array([r["digit"] for r in predict_images(files["plain"], model_path)])
    variant = np.array([r["digit"] for r in predict_images(files[kind], model_path)])
    # Measured: 19-20/20 agree with the plain PNG, 19/20 correct, for every variant.
    assert (variant == plain).sum() >= 18, (kind, variant, plain)
    assert (variant == labels).sum() >= 17, (kind, variant, labels)


def test_double_softmax_model_is_not_softmaxed_twice(trained, digits, tmp_path):
    from paddle_mnist.engine.nets import build_model

    model, model_path = trained
    files, _, _ = digits
    double = build_model("softmax", double_softmax=True)
    double.set_state_dict(model.state_dict())
    path = save_model(double, "softmax", {"double_softmax": True}, tmp_path / "double.pdparams")
    assert load_model(path).double_softmax is True
    want = [r["probabilities"] for r in predict_images(files["plain"][:5], model_path)]
    got = [r["probabilities"] for r in predict_images(files["plain"][:5], path)]
    np.testing.assert_allclose(got, want, atol=1e-5)  # softmax twice would flatten them towards 0.1


def test_format_prediction_is_one_line(trained, digits):
    _, model_path = trained
    files, _, _ = digits
    (result,) = predict_images(files["plain"][0], model_path)  # a single path is accepted too
    line = format_prediction(result)
    assert line == f"{files['plain'][0]}: {result['digit']} (p={result['probability']:.3f})"
    assert "\n" not in line
    assert format_prediction({"path": "digit.png", "digit": 7, "probability": 0.99812}) == "digit.png: 7 (p=0.998)"


def test_cli_predict(trained, digits, capsys):
    from paddle_mnist.apps.cli import main

    _, model_path = trained
    files, _, labels = digits
    assert main(["predict", str(files["plain"][0]), str(files["inverted"][1]), "--model", str(model_path)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{files['plain'][0]}: {labels[0]} (p=")
    assert lines[1].startswith(f"{files['inverted'][1]}: {labels[1]} (p=")


# ---------------------------------------------------------------- model files
def test_save_model_writes_sidecar_and_load_restores_kwargs(tmp_path):
    import paddle

    from paddle_mnist.engine.nets import build_model

    paddle.seed(1)
    mlp = build_model("mlp", hidden=(16, 8), activation="tanh")
    path = save_model(mlp, "mlp", {"hidden": (16, 8), "activation": "tanh"}, tmp_path / "m.pdparams")
    meta = json.loads((tmp_path / "m.json").read_text())
    assert meta == {"model": "mlp", "model_kwargs": {"hidden": [16, 8], "activation": "tanh"}}
    loaded = load_model(tmp_path / "m")  # the suffix is optional
    assert loaded.hidden == (16, 8) and loaded.activation == "tanh" and not loaded.training
    for (k, v), (k2, v2) in zip(mlp.state_dict().items(), loaded.state_dict().items()):
        assert k == k2 and np.array_equal(v.numpy(), v2.numpy())
    assert path == tmp_path / "m.pdparams"


def test_default_model_path():
    assert DEFAULT_MODEL == REPO / "reports" / "models" / "mlp.pdparams"


def test_import_is_cheap():
    code = "import sys, paddle_mnist.apps.predict; print('paddle' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------- bad inputs
def _raises_naming(fn, name: str):
    with pytest.raises(PaddleMnistError) as info:
        fn()
    message = str(info.value)
    assert name in message and "\n" not in message, message
    return message


def test_text_file_named_png(tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("this is not an image\n")
    msg = _raises_naming(lambda: preprocess_image(bad), "notes.png")
    assert "not an image" in msg


def test_truncated_png(tmp_path, digits):
    files, _, _ = digits
    bad = tmp_path / "cut.png"
    bad.write_bytes(files["rescaled"][0].read_bytes()[:200])
    _raises_naming(lambda: preprocess_image(bad), "cut.png")


def test_missing_image(tmp_path):
    msg = _raises_naming(lambda: preprocess_image(tmp_path / "nowhere.png"), "nowhere.png")
    assert "not found" in msg


@pytest.mark.parametrize("kind", ["white", "black", "grey", "transparent"])
def test_blank_images(tmp_path, kind):
    img = {"white": Image.new("L", (40, 30), 255), "black": Image.new("L", (28, 28), 0),
           "grey": Image.new("RGB", (50, 50), (128, 128, 128)),
           "transparent": Image.new("RGBA", (28, 28), (0, 0, 0, 0))}[kind]
    path = tmp_path / f"blank-{kind}.png"
    img.save(path)
    msg = _raises_naming(lambda: preprocess_image(path), f"blank-{kind}.png")
    assert "blank" in msg


def test_bad_image_stops_prediction_before_model_load(tmp_path, digits):
    files, _, _ = digits
    bad = tmp_path / "empty.png"
    bad.write_bytes(b"")
    # the model path does not exist either: the image error must come first
    _raises_naming(lambda: predict_images([files["plain"][0], bad], tmp_path / "none.pdparams"), "empty.png")


def test_missing_model_files(trained, tmp_path, digits):
    model, _ = trained
    files, _, _ = digits
    msg = _raises_naming(lambda: load_model(tmp_path / "absent.pdparams"), "absent.pdparams")
    assert "not found" in msg
    path = save_model(model, "softmax", {}, tmp_path / "lonely.pdparams")
    (tmp_path / "lonely.json").unlink()
    _raises_naming(lambda: load_model(path), "lonely.json")
    _raises_naming(lambda: predict_images(files["plain"][:1], path), "lonely.json")


def test_corrupted_model_files(trained, tmp_path):
    model, _ = trained
    path = save_model(model, "softmax", {}, tmp_path / "broken.pdparams")
    good = path.read_bytes()
    path.write_bytes(good[: len(good) // 2])
    _raises_naming(lambda: load_model(path), "broken.pdparams")
    path.write_bytes(b"garbage" * 10)
    _raises_naming(lambda: load_model(path), "broken.pdparams")
    path.write_bytes(good)
    sidecar = tmp_path / "broken.json"
    sidecar.write_text('{"model": "softm')
    _raises_naming(lambda: load_model(path), "broken.json")
    sidecar.write_text('{"model": "resnet", "model_kwargs": {}}')
    _raises_naming(lambda: load_model(path), "broken.json")
    sidecar.write_text('{"model": "softmax", "model_kwargs": {"hidden": [3]}}')  # not a SoftmaxNet argument
    _raises_naming(lambda: load_model(path), "broken.json")
    sidecar.write_text('{"model": "mlp", "model_kwargs": {"hidden": [32]}}')  # weights of another net
    msg = _raises_naming(lambda: load_model(path), "broken.pdparams")
    assert "do not fit" in msg
    sidecar.write_text('{"model": "softmax", "model_kwargs": {}}')
    assert load_model(path) is not None


# ---------------------------------------------------------------- corrections only where the image needs them
def _on_paper(digit: np.ndarray, levels: int, path: Path, size: int = 120) -> Path:
    """Dark ink of ``digit`` (28x28, ink high) enlarged on white paper lit with a ``levels`` left-right gradient."""
    ink = np.asarray(Image.fromarray(_u8(digit)).resize((size, size), Image.Resampling.BICUBIC), np.float64) / 255
    paper = np.tile(np.linspace(250, 250 - levels, size), (size, 1))
    Image.fromarray(np.clip(paper * (1 - 0.85 * ink), 0, 255).astype(np.uint8)).save(path)
    return path


def _cut_tight(digit: np.ndarray, path: Path) -> Path:
    """A clean scan of ``digit`` cut one pixel into its ink on every side (strokes cross the edge)."""
    d = digit.reshape(28, 28)
    rows, cols = np.flatnonzero(d.max(axis=1) > 0.3), np.flatnonzero(d.max(axis=0) > 0.3)
    crop = d[rows[0] + 1:rows[-1], cols[0] + 1:cols[-1]]
    Image.fromarray(np.clip(255 * (1 - 0.9 * crop), 0, 255).astype(np.uint8)).save(path)
    return path


@pytest.mark.parametrize("levels, flattened", [(0, False), ("tight", False), (60, True)])
def test_lighting_is_flattened_only_where_the_border_shows_a_gradient(arrays, tmp_path, levels, flattened):
    from paddle_mnist.apps.predict import Steps

    x, _ = arrays["eval"]
    path = _cut_tight(np.asarray(x[0]), tmp_path / "tight.png") if levels == "tight" else \
        _on_paper(np.asarray(x[0]), levels, tmp_path / f"paper{levels}.png")
    if levels == "tight":  # ink along the border looks like a steep "gradient": flattening it anyway wrecks it
        assert np.abs(preprocess_image(path, Steps(flatten_lighting="on")) - preprocess_image(path)).max() > 0.5
    auto = preprocess_image(path)
    always = preprocess_image(path, Steps(flatten_lighting="on"))
    try:
        never = preprocess_image(path, Steps(flatten_lighting="off"))
    except PaddleMnistError as exc:  # unflattened, the gradient's spread swallows the ink
        assert flattened and "no digit found" in str(exc)
        never = None
    if flattened:  # the gradient is measured and removed: as if the light had been even
        assert np.array_equal(auto, always)
        even = preprocess_image(_on_paper(np.asarray(x[0]), 0, tmp_path / "even.png"))
        assert np.abs(auto - even).max() < 0.2 and (never is None or np.abs(never - even).max() > 0.2)
    else:  # a clean image is left exactly as it is (flattening it anyway would change it)
        assert np.array_equal(auto, never)


def test_preprocessing_steps_are_checked():
    from paddle_mnist.apps.predict import Steps

    with pytest.raises(ValueError, match="paper_noise='on'"):
        Steps(paper_noise="on")


def test_the_handwriting_set_and_its_bench_figures():
    """data/handwriting holds >= 100 labelled digits (< 2 MB); the committed bench says no step lowers accuracy."""
    import csv

    folder = Path(__file__).resolve().parent.parent / "data" / "handwriting"
    with open(folder / "labels.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) >= 100 and {int(r["label"]) for r in rows} == set(range(10))
    assert {r["polarity"] for r in rows} == {"dark-on-light", "light-on-dark"}
    assert sum((folder / r["file"]).stat().st_size for r in rows) < 2_000_000
    bench = json.loads((folder.parent.parent / "reports" / "bench" / "predict.json").read_text())
    assert bench["images"] == len(rows) and bench["no_step_lowers_accuracy"] is True
    assert all(g >= 0 for arm in bench["step_gain"].values() for g in arm.values())
