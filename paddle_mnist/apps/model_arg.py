"""The one model argument of ``predict``, ``evaluate``, ``export`` and ``demo``, and the one way to run it.

A model is given as any of:

* a name: ``mlp`` or ``softmax`` (any ``reports/models/<name>.pdparams``; with
  ``--engine inference`` the export ``reports/models/inference/<name>``);
* a run folder (``runs/mlp/adam-seed0``: its ``best.pdparams``, described by its ``config.json``);
* a model file ``X.pdparams`` (or ``X``, ``X.json``) with its sidecar ``X.json``;
* an exported model folder (``inference.meta.json``, see ``apps.export``), where the command runs one.

An existing path always wins over a name. ``resolve_model`` turns the text into a
``ModelRef``; ``open_model`` loads it on a device (``--device``, ``engine.device``) as a
``Runnable`` whose ``probabilities(x)`` predict, evaluate and demo use; ``export_given`` exports one.

    python -m paddle_mnist export --model runs/mlp/adam-seed0
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from paddle_mnist.errors import PaddleMnistError
from paddle_mnist.paths import MODELS
from paddle_mnist.engine.checkpoint import load_model, model_paths, _read_sidecar
from paddle_mnist.apps.export import DEFAULT_EXPORT_ROOT, InferenceModel, read_meta, export_model
from paddle_mnist.records import read_json
from paddle_mnist.engine.device import set_device
# deferred: paddle (loaded on first use, so importing this module stays light)

META = "inference.meta.json"
RUN_WEIGHTS = "best.pdparams"
N_CLASSES = 10


@dataclass(frozen=True)
class ModelRef:
    """A resolved model argument: ``kind`` is ``"file"`` (``path`` a ``.pdparams``) or ``"export"`` (a folder)."""

    given: str
    kind: str
    path: Path
    name: str


def model_names() -> list[str]:
    """The names ``--model`` accepts: the stems of ``reports/models/*.pdparams``."""
    return sorted(p.stem for p in MODELS.glob("*.pdparams")) if MODELS.is_dir() else []


def _is_name(text: str) -> bool:
    return "/" not in text and "\\" not in text and "." not in text and text not in ("", "..")


def _from_name(text: str, engine: str | None) -> Path:
    path = MODELS / "inference" / text if engine == "inference" else MODELS / f"{text}.pdparams"
    if not path.exists():
        names = ", ".join(model_names()) or "none yet (python -m paddle_mnist train mlp --record)"
        raise PaddleMnistError(f"--model {text}: no such file or folder, nor a model name (names: {names}; "
                               "or give a run folder, a .pdparams file or an exported folder)")
    return path


def _from_folder(given: str, path: Path) -> ModelRef:
    if (path / META).is_file():
        return ModelRef(given, "export", path, path.name)
    if (path / RUN_WEIGHTS).is_file():
        run = path.resolve()
        return ModelRef(given, "file", path / RUN_WEIGHTS, f"{run.parent.name}-{run.name}")
    if (path / "config.json").is_file():
        raise PaddleMnistError(f"{path}: a run folder without {RUN_WEIGHTS} (no epoch finished yet); train it "
                               "(or --resume it) first")
    raise PaddleMnistError(f"{path}: not a model folder (a run folder holds {RUN_WEIGHTS}, an exported model "
                           f"{META})")


def resolve_model(given=None, *, default: str = "mlp", engine: str | None = None,
                  exports: bool = True) -> ModelRef:
    """The model ``given`` names (``None``: ``default``); a one-line ``PaddleMnistError`` if it names none.

    ``engine``: ``"inference"`` wants an exported folder, ``"dygraph"`` a model file, ``None`` either.
    ``exports=False`` (``export`` itself) refuses an exported folder.
    """
    text = default if given is None else str(given)
    if not text.strip():
        raise PaddleMnistError("--model is empty; give a name (mlp, softmax), a run folder or a model file")
    path = Path(text)
    if not path.exists() and not path.is_symlink() and _is_name(text):
        path = _from_name(text, engine)
    if path.is_dir():
        ref = _from_folder(text, path)
    else:
        params = model_paths(path)[0]
        if not params.is_file():
            hint = " (train it with: python -m paddle_mnist train mlp --record)" if given is None else ""
            raise PaddleMnistError(f"{params}: model file not found{hint}")
        name = params.parent.name if params.name == RUN_WEIGHTS else params.stem
        ref = ModelRef(text, "file", params, name)
    _check_engine(ref, engine, exports)
    return ref


def _check_engine(ref: ModelRef, engine: str | None, exports: bool) -> None:
    if ref.kind == "export" and not exports:
        raise PaddleMnistError(f"{ref.path}: is already an exported model; give the run folder, .pdparams file "
                               "or name it was exported from")
    if ref.kind == "export" and engine == "dygraph":
        raise PaddleMnistError(f"{ref.path}: is an exported model; run it with --engine inference (or leave "
                               "--engine out)")
    if ref.kind == "file" and engine == "inference":
        raise PaddleMnistError(f"{ref.given}: is a file, not an exported model folder (export it with: python -m "
                               f"paddle_mnist export --model {ref.given} --out {DEFAULT_EXPORT_ROOT / ref.name}, "
                               "then pass that folder)")


def describe(ref: ModelRef) -> dict:
    """What a model file says of itself: its sidecar ``X.json``, or for a run's ``best.pdparams`` the
    ``{"model", "model_kwargs", "loss", "experiment", "run", "test_acc"}`` its ``config.json`` and
    ``summary.json`` give (an exported folder: its meta's ``source.info``)."""
    if ref.kind == "export":
        info = (read_meta(ref.path).get("source") or {}).get("info")
        return info if isinstance(info, dict) else {}
    sidecar = model_paths(ref.path)[1]
    name, kwargs = _read_sidecar(sidecar)  # validates; a run's best.pdparams falls back to config.json
    if sidecar.is_file():
        return read_json(sidecar)
    run = ref.path.parent
    info = {"model": name, "model_kwargs": {k: list(v) if isinstance(v, tuple) else v for k, v in kwargs.items()}}
    try:
        saved = read_json(run / "config.json")
        summary = read_json(run / "summary.json") if (run / "summary.json").is_file() else {}
    except (OSError, PaddleMnistError):
        saved, summary = {}, {}
    if isinstance(saved, dict) and isinstance(saved.get("config"), dict):
        info.update(loss=saved["config"].get("loss"), experiment=saved.get("experiment"), run=run.name)
    acc = summary.get("test_acc") if isinstance(summary, dict) else None
    if isinstance(acc, float) and math.isfinite(acc) and 0.0 <= acc <= 1.0:
        info["test_acc"] = acc
    return info


def title(info: dict, fallback: str = "model") -> str:
    """``MLP 784-200-200-10``, ``Softmax regression 784-10`` or the model's name."""
    kwargs = info.get("model_kwargs") if isinstance(info.get("model_kwargs"), dict) else {}
    if info.get("model") == "mlp":
        hidden = kwargs.get("hidden", [200, 200])
        hidden = hidden if isinstance(hidden, (list, tuple)) else [hidden]
        return "MLP " + "-".join(str(n) for n in (784, *hidden, kwargs.get("out_features", 10)))
    if info.get("model") == "softmax":
        return "Softmax regression 784-10"
    return str(info.get("model", fallback))


def use_device(requested: str | None, ref: ModelRef) -> str:
    """Put Paddle on ``requested`` (``auto``, ``cpu``, ``gpu``, ``gpu:N``; None = auto) for ``ref``.

    An exported model runs through ``paddle.inference`` on the CPU: asking it for a GPU is refused.
    """
    if ref.kind == "export":
        if requested not in (None, "auto", "cpu"):
            raise PaddleMnistError(f"--device {requested}: exported models ({ref.path}) run on the CPU here; use "
                                   "--device cpu, or the run folder / .pdparams model on the GPU")
        return "cpu"
    return set_device(requested or "auto")


class Runnable:
    """A loaded model: ``probabilities(x)`` maps float32 ``[N, 784]`` to ``[N, 10]`` class probabilities."""

    def __init__(self, ref: ModelRef, info: dict, forward, output_kind: str):
        self.ref, self.info, self.name = ref, info, ref.name
        self.title = title(info, ref.name)
        acc = info.get("test_acc")
        self.test_acc = acc if isinstance(acc, float) and math.isfinite(acc) else None
        self._forward, self._kind, self._lock = forward, output_kind, threading.Lock()

    def probabilities(self, x) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float32)
        with self._lock:
            out = np.asarray(self._forward(x), dtype=np.float64)
        if out.ndim != 2 or out.shape[1] != N_CLASSES:
            raise PaddleMnistError(f"{self.ref.path}: the model gives {out.shape[-1]} outputs per image; this "
                                   f"command needs a {N_CLASSES}-class classifier")
        if self._kind == "probabilities":
            return out
        out = np.exp(out - out.max(axis=1, keepdims=True))
        return out / out.sum(axis=1, keepdims=True)


def open_model(ref: ModelRef, device: str | None = None) -> Runnable:
    """``ref`` loaded on ``device`` (see ``use_device``); a model without 10 outputs is refused here, in one line."""
    use_device(device, ref)
    info = describe(ref)
    if ref.kind == "export":
        model = InferenceModel(ref.path)
        runnable = Runnable(ref, info, model.logits, model.meta["output"]["kind"])
    else:
        import paddle

        net = load_model(ref.path)

        def forward(x):
            with paddle.no_grad():
                return net(paddle.to_tensor(x)).numpy()

        kind = "probabilities" if getattr(net, "double_softmax", False) else "logits"
        runnable = Runnable(ref, info, forward, kind)
    runnable.probabilities(np.zeros((1, 784), dtype=np.float32))  # the output count, checked before any work
    return runnable


def export_given(given=None, out_dir=None, device: str | None = None) -> Path:
    """``export --model GIVEN``: resolve ``given`` (a name, a run folder or a model file; not an export), put
    Paddle on ``device`` and export it into ``out_dir`` (default ``runs/export/<name>``) with its description
    (a run folder's: its config, experiment, run and test accuracy). Returns the meta file's path."""
    ref = resolve_model(given, exports=False)
    out = Path(out_dir) if out_dir is not None else DEFAULT_EXPORT_ROOT / ref.name
    use_device(device, ref)
    return export_model(ref.path, out, info=describe(ref))


__all__ = ["ModelRef", "Runnable", "resolve_model", "open_model", "describe", "title", "use_device",
           "model_names", "export_given"]
