"""Classify your own digit images: MNIST-style preprocessing, model files, prediction.

``preprocess_image`` turns any PNG/JPEG (any size; RGB, RGBA, grayscale or
palette; dark ink on light paper or light ink on dark) into a 784-vector the way
MNIST itself was made: ink cropped to its bounding box, scaled (aspect kept) so
the longer side is 20 px with an anti-aliasing filter, then pasted into a 28x28
field so that the centre of mass lands at the centre. Its corrections (``Steps``: a
lighting gradient flattened, paper noise, faint ink stretched) change only an image
that needs them: a clean scan passes through untouched (``bench predict`` measures
each on ``data/handwriting``). ``save_model`` / ``load_model`` handle a model file
``X.pdparams`` plus its sidecar ``X.json`` (``{"model": ..., "model_kwargs": {...}}``);
``predict_images`` takes any model ``apps.model_arg`` resolves (a name, a run folder,
a model file, an export) and returns the digit and the softmax probabilities of each
image. Only regular files are opened
(a FIFO or device is refused first), images over ``MAX_PIXELS`` (40 megapixels) are
refused from their header before decoding, and NaN/inf pixels are an error.

    python -m paddle_mnist predict digit.png
    python -m paddle_mnist predict a.png b.jpg --model softmax --device cpu
    python -m paddle_mnist predict a.png --top 3 --save-input runs/seen --model runs/mlp/adam-seed0

Paddle is imported inside the functions that need it, so importing this module
is cheap.
"""
from __future__ import annotations

import contextlib
import io
import os
import sys
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
import stat

import numpy as np

from paddle_mnist.engine.checkpoint import load_model as _load_model
from paddle_mnist.engine.checkpoint import model_paths, save_model  # noqa: F401  (the public model-file API)
from paddle_mnist.errors import PaddleMnistError

from paddle_mnist.paths import MODELS
from paddle_mnist.apps.model_arg import open_model, resolve_model
from paddle_mnist.records import atomic_write_bytes
# deferred: PIL (image files, only when one is read)

DEFAULT_MODEL = MODELS / "mlp.pdparams"
TRAIN_HINT = "python -m paddle_mnist train mlp"

SIDE = 28          # the MNIST field
BOX = 20           # MNIST digits were scaled to fit a 20x20 box ...
CENTRE = 14.0      # ... and shifted so the centre of mass (pixel-index coordinates) is here
MIN_CONTRAST = 0.05  # ink darker/lighter than the paper by less than this (of full scale) is "blank"
BBOX_FLOOR = 0.05    # ink below this (after scaling to 0..1) does not widen the bounding box
NOISE_SIGMAS = 5.0   # paper noise (JPEG, photos) up to this many robust standard deviations counts as paper
GRADIENT_MIN = 0.04  # a border plane spanning less than this (of full scale, ~10 grey levels) is not a gradient
GRADIENT_SIGMAS = 3.0  # ... nor one spanning less than this many of the border's noise sigmas

_ALPHA_MODES = {"RGBA", "LA", "PA", "RGBa", "La"}
MAX_PIXELS = 40_000_000  # images over 40 megapixels are refused before their pixels are decoded


def _check_file(path: Path) -> None:
    """Refuse what is not a regular file (a FIFO would block, a device never ends) before opening it."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise PaddleMnistError(f"{path}: file not found") from None
    except OSError as exc:
        raise PaddleMnistError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if stat.S_ISDIR(st.st_mode):
        raise PaddleMnistError(f"{path}: is a folder, not an image file")
    if not stat.S_ISREG(st.st_mode):
        raise PaddleMnistError(f"{path}: not a regular file (a FIFO, device or socket); give an image file")


# ---------------------------------------------------------------- images
_MUTED = {"depth": 0, "saved": -1, "filters": None}  # decodes in flight (the demo's threads) share one muting of fd 2
_MUTED_LOCK = threading.Lock()


@contextlib.contextmanager
def _quiet_decoder():
    """Silence Pillow's warnings and libtiff's own stderr lines while a file is decoded: a damaged file is
    reported once, as the one-line error of ``_open_gray`` (file descriptor 2 is muted for the decode only;
    the first decode in flight mutes it, the last restores it)."""
    with _MUTED_LOCK:
        if _MUTED["depth"] == 0:
            sys.stderr.flush()
            _MUTED["saved"] = os.dup(2)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)
            os.close(devnull)
            _MUTED["filters"] = warnings.filters[:]
            warnings.simplefilter("ignore")
        _MUTED["depth"] += 1
    try:
        yield
    finally:
        with _MUTED_LOCK:
            _MUTED["depth"] -= 1
            if _MUTED["depth"] == 0:
                warnings.filters[:] = _MUTED["filters"]
                getattr(warnings, "_filters_mutated", lambda: None)()  # as catch_warnings does on exit
                os.dup2(_MUTED["saved"], 2)
                os.close(_MUTED["saved"])


def _open_gray(path: Path) -> np.ndarray:
    """The image as float gray levels in [0, 1] (1 = white); transparency composited onto white."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    _check_file(path)
    try:
        with _quiet_decoder(), Image.open(path) as img:
            w, h = img.size  # read from the header: nothing is decoded yet
            if w * h > MAX_PIXELS:
                raise PaddleMnistError(f"{path}: image too large ({w}x{h} = {w * h / 1e6:.0f} megapixels; "
                                       f"the limit is {MAX_PIXELS // 1_000_000}); scale it down first")
            img.load()
            img = ImageOps.exif_transpose(img)  # phone photos: honour the orientation tag
            if img.mode in _ALPHA_MODES or "transparency" in img.info:
                rgba = img.convert("RGBA")
                white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
                return np.asarray(Image.alpha_composite(white, rgba).convert("L"), dtype=np.float32) / 255.0
            if img.mode in ("I", "F") or img.mode.startswith("I;"):  # 16-bit / float images
                arr = np.asarray(img, dtype=np.float64)
                if not np.isfinite(arr).all():
                    raise PaddleMnistError(f"{path}: the image holds NaN or infinite pixel values")
                top = 65535.0 if arr.max() > 255 else 255.0
                return np.clip(arr / top, 0.0, 1.0).astype(np.float32)
            try:
                gray = img.convert("L")
            except ValueError:
                gray = img.convert("RGB").convert("L")
            return np.asarray(gray, dtype=np.float32) / 255.0
    except FileNotFoundError:
        raise PaddleMnistError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise PaddleMnistError(f"{path}: is a folder, not an image file") from None
    except UnidentifiedImageError:
        raise PaddleMnistError(f"{path}: not an image Pillow can read (expected PNG or JPEG)") from None
    except Image.DecompressionBombError as exc:
        raise PaddleMnistError(f"{path}: image too large ({exc})") from None
    except (OSError, ValueError, SyntaxError) as exc:  # truncated or corrupted image data
        raise PaddleMnistError(f"{path}: unreadable image ({type(exc).__name__}: {exc})") from None


def _border(a: np.ndarray) -> np.ndarray:
    return np.concatenate([a[0, :], a[-1, :], a[1:-1, 0], a[1:-1, -1]])


def _lighting_plane(ink: np.ndarray):
    """A plane fitted (robustly) to the border of ``ink``: ``(slopes, span, noise)``.

    ``slopes`` are the plane's change across the width and across the height (fractions of full scale;
    None where no fit is possible: an image under 3 px a side, a border mostly ink), ``span`` their
    absolute sum (the change from one corner to the other), ``noise`` the border's robust standard
    deviation around the plane. Only the border is touched: no full-size array is made.
    """
    h, w = ink.shape
    if min(h, w) < 3:
        return None, 0.0, 0.0
    cols, rows = np.arange(w) / w, np.arange(1, h - 1) / h
    xs = np.concatenate([cols, cols, np.zeros(h - 2), np.full(h - 2, (w - 1) / w)])
    ys = np.concatenate([np.zeros(w), np.full(w, (h - 1) / h), rows, rows])
    a = np.stack([np.ones(len(xs)), xs, ys], axis=1)
    b = _border(ink).astype(np.float64)
    keep = np.ones(len(b), dtype=bool)
    for _ in range(2):  # refit without border pixels far off the plane (ink touching the edge)
        coef = np.linalg.lstsq(a[keep], b[keep], rcond=None)[0]
        resid = b - a @ coef
        mad = 1.4826 * float(np.median(np.abs(resid - np.median(resid)))) + 1e-6
        keep = np.abs(resid) <= 3 * mad
        if keep.sum() < 3:
            return None, 0.0, 0.0
    return (float(coef[1]), float(coef[2])), abs(float(coef[1])) + abs(float(coef[2])), mad


def _flatten_lighting(ink: np.ndarray, mode: str = "auto") -> np.ndarray:
    """``ink`` minus a plane fitted to its border (its value at the centre kept), where the border shows a
    lighting gradient.

    A left-to-right gradient of 80 grey levels would otherwise count as "paper noise" and hide the digit.
    ``mode="auto"`` flattens only when the plane spans over ``GRADIENT_MIN`` of full scale and over
    ``GRADIENT_SIGMAS`` times the border's noise (a clean scan is returned unchanged); ``"on"`` always,
    ``"off"`` never.
    """
    if mode == "off":
        return ink
    slopes, span, noise = _lighting_plane(ink)
    if slopes is None or (mode == "auto" and (span < GRADIENT_MIN or span < GRADIENT_SIGMAS * noise)):
        return ink
    h, w = ink.shape
    across = (slopes[0] * (np.arange(w) / w - 0.5)).astype(np.float32)[None, :]
    down = (slopes[1] * (np.arange(h) / h - 0.5)).astype(np.float32)[:, None]
    return (ink - across - down).astype(np.float32)


def _mnist_layout(ink: np.ndarray, stretch: bool = True) -> np.ndarray:
    """Crop ``ink`` (0..1, ink high) to its bounding box, fit into 20x20, centre by mass in 28x28."""
    from PIL import Image

    rows = np.flatnonzero((ink > BBOX_FLOOR).any(axis=1))
    cols = np.flatnonzero((ink > BBOX_FLOOR).any(axis=0))
    crop = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    h, w = crop.shape
    scale = BOX / max(h, w)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    patch = Image.fromarray(np.ascontiguousarray(crop, dtype=np.float32))
    patch = np.asarray(patch.resize((new_w, new_h), Image.Resampling.LANCZOS), dtype=np.float32)
    patch = np.clip(patch, 0.0, 1.0)  # Lanczos rings slightly below 0 / above 1
    peak = float(patch.max())
    if peak <= 0.0:
        patch = np.ones_like(patch)  # a tiny dot averaged away: keep it as one
        peak = 1.0
    if stretch:
        patch = patch / peak  # thin strokes shrunk from a large image would otherwise be faint
    ys, xs = np.mgrid[0:new_h, 0:new_w]
    mass = float(patch.sum())
    cy, cx = float((patch * ys).sum()) / mass, float((patch * xs).sum()) / mass
    top = min(max(int(round(CENTRE - cy)), 0), SIDE - new_h)
    left = min(max(int(round(CENTRE - cx)), 0), SIDE - new_w)
    canvas = np.zeros((SIDE, SIDE), dtype=np.float32)
    canvas[top:top + new_h, left:left + new_w] = patch
    return canvas


@dataclass(frozen=True)
class Steps:
    """The corrections ``preprocess_image`` makes, each ``"auto"`` (only where the image needs it) or ``"off"``
    (``"on"``: always, for the lighting, whose ``"auto"`` measures a gradient first; ``bench predict`` compares).

    * ``flatten_lighting``: subtract a plane fitted to the border (``_flatten_lighting``);
    * ``paper_noise``: the paper's level plus ``NOISE_SIGMAS`` of its noise maps to 0 (off: the level alone);
      a clean image's border has no noise, so only a noisy one is changed;
    * ``stretch_ink``: the strongest ink of the 20x20 digit scaled to 1 (a faint one only; off: as resized).
    """

    flatten_lighting: str = "auto"
    paper_noise: str = "auto"
    stretch_ink: str = "auto"

    def __post_init__(self):
        for key, value in vars(self).items():
            allowed = ("auto", "on", "off") if key == "flatten_lighting" else ("auto", "off")
            if value not in allowed:
                raise ValueError(f"preprocessing step {key}={value!r}; choose from {', '.join(allowed)}")


DEFAULT_STEPS = Steps()


def preprocess_image(path, steps: Steps = DEFAULT_STEPS) -> np.ndarray:
    """One image file -> float32 [784] in [0, 1], laid out like an MNIST digit (ink 1, background 0).

    Grayscale (transparency on white), polarity from the border (light border =
    dark ink: invert), a lighting gradient flattened where the border shows one, the paper's level (plus 5
    sigma of its noise) to 0 and the strongest ink to 1 (no thresholding), crop to the ink, longer side to
    20 px (Lanczos), centre of mass to the centre of 28x28 (``steps``: which corrections run). A missing
    file, a file that is not an image and an image without ink raise ``PaddleMnistError`` naming the file.
    """
    path = Path(path)
    gray = _open_gray(path)
    if gray.size == 0:
        raise PaddleMnistError(f"{path}: empty image (0 pixels)")
    border = _border(gray) if min(gray.shape) > 1 else gray.ravel()
    ink = _flatten_lighting(1.0 - gray if np.median(border) > 0.5 else gray, steps.flatten_lighting)
    paper = _border(ink) if min(ink.shape) > 1 else ink.ravel()
    # The paper's level plus NOISE_SIGMAS of its noise (robust: median and MAD of the border) maps
    # to 0 and the strongest ink to 1; a clean image (flat border) is only rescaled.
    median = float(np.median(paper))
    noise = 1.4826 * float(np.median(np.abs(paper - median))) if steps.paper_noise == "auto" else 0.0
    background = min(median + NOISE_SIGMAS * noise, 1.0)
    peak = float(ink.max())
    if peak - background < MIN_CONTRAST:
        raise PaddleMnistError(f"{path}: no digit found (the image is blank)")
    ink = np.clip((ink - background) / (peak - background), 0.0, 1.0)
    return _mnist_layout(ink, stretch=steps.stretch_ink == "auto").reshape(SIDE * SIDE)


# ---------------------------------------------------------------- model files
def load_model(model_path=DEFAULT_MODEL):
    """The model file ``model_path`` (``X.pdparams`` + ``X.json``) in eval mode (see ``engine.checkpoint``)."""
    same = Path(str(model_path)).with_suffix(".pdparams") == DEFAULT_MODEL
    return _load_model(model_path, f" (train it with: {TRAIN_HINT})" if same else "")


# ---------------------------------------------------------------- prediction
def predict_images(paths, model=None, engine: str | None = None, device: str | None = None,
                   steps: Steps = DEFAULT_STEPS) -> list[dict]:
    """Classify image files: ``[{'path', 'digit', 'probability', 'probabilities': [10 floats]}]``.

    Every image is preprocessed (and checked) before the model is loaded. ``model`` is anything
    ``apps.model_arg.resolve_model`` takes (a name, a run folder, a ``.pdparams`` file, an exported folder;
    default ``mlp``); ``engine`` ``"dygraph"`` or ``"inference"`` insists on one kind (None: the model's);
    ``device``: ``auto``, ``cpu``, ``gpu``. The probabilities are the softmax of the logits (or the
    outputs themselves for a model whose ``double_softmax`` puts softmax in ``forward``).
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    paths = list(paths)
    if not paths:
        return []
    batch = np.stack([preprocess_image(p, steps) for p in paths]).astype(np.float32)
    return _results(paths, _probabilities(batch, model, engine, device))


def _probabilities(batch: np.ndarray, model, engine: str | None, device: str | None = None) -> np.ndarray:
    """[N, 10] class probabilities of preprocessed images (``apps.model_arg``: one way to load any model)."""
    return open_model(resolve_model(model, engine=engine), device).probabilities(batch)


def _results(paths, probs) -> list[dict]:
    results = []
    for path, p in zip(paths, probs):
        digit = int(np.argmax(p))
        results.append({"path": str(path), "digit": digit, "probability": float(p[digit]),
                        "probabilities": [float(v) for v in p]})
    return results


def format_prediction(result: dict, top: int = 1) -> str:
    """One line: ``digit.png: 7 (p=0.998)``; with ``top`` > 1 the next guesses too (``top 3: 7 0.998, 1 0.001, ...``)."""
    line = f"{result['path']}: {result['digit']} (p={result['probability']:.3f})"
    if top > 1:
        order = np.argsort(result["probabilities"])[::-1][:top]
        line += f"  top {len(order)}: " + ", ".join(f"{d} {result['probabilities'][d]:.3f}" for d in order)
    return line


def predict_each(paths, model=None, engine: str | None = None, save_input=None,
                 device: str | None = None) -> list[dict]:
    """Like ``predict_images``, but each image on its own: an unusable one gives ``{'path', 'error'}``, the
    others are still classified. ``save_input``: a folder for the 28x28 PNGs the model sees (``<name>.28x28.png``).
    The model is resolved (a bad ``--model`` is one line) before any image is read.
    """
    ref = resolve_model(model, engine=engine)
    paths, good, errors, vectors = [str(p) for p in paths], [], {}, []
    for path in paths:
        try:
            vectors.append(preprocess_image(path))
            good.append(path)
        except PaddleMnistError as exc:
            errors[path] = str(exc)
    if save_input is not None:
        _save_inputs(good, vectors, Path(save_input))
    results = {}
    if good:
        probs = open_model(ref, device).probabilities(np.stack(vectors).astype(np.float32))
        results = {r["path"]: r for r in _results(good, probs)}
    return [results.get(p) or {"path": p, "error": errors[p]} for p in paths]


def _save_inputs(paths, vectors, folder: Path) -> None:
    """Each 28x28 input as ``folder/<name>.28x28.png``, written atomically (a temporary file renamed over it:
    a full disk leaves no empty PNG); a name that is a link is refused before anything is written."""
    from PIL import Image

    names = []
    for i, path in enumerate(paths):
        name = f"{Path(path).stem}.28x28.png"
        names.append(f"{i:03d}-{name}" if sum(Path(p).stem == Path(path).stem for p in paths) > 1 else name)
    for name in names:
        if (folder / name).is_symlink():
            raise PaddleMnistError(f"{folder / name}: is a link; --save-input writes only plain files in its "
                                   "folder (remove the link or pick another folder)")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, vec in zip(names, vectors):
            buf = io.BytesIO()
            Image.fromarray(np.round(vec.reshape(SIDE, SIDE) * 255).astype(np.uint8)).save(buf, "PNG")
            atomic_write_bytes(folder / name, buf.getvalue())
    except OSError as exc:
        raise PaddleMnistError(f"{folder}: cannot write the input images ({exc.strerror or exc})") from None
