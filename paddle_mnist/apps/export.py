"""Export a trained model as a Paddle inference model, and run it without any dygraph ``Layer``.

``export_model(model_path, out_dir)`` loads ``X.pdparams`` + ``X.json`` (see
``paddle_mnist.apps.predict``) and writes, into ``out_dir``:

* ``inference.json`` + ``inference.pdiparams``: the program and weights written by
  ``paddle.jit.save`` with input ``x`` of shape ``[None, 784]`` float32 (Paddle 3
  writes the program as PIR JSON; there is no ``.pdmodel``);
* ``inference.meta.json``: the preprocessing the model expects (28x28 grey, 0..1,
  white digit on black as in MNIST, row-major flattened to 784; made from any image
  by ``paddle_mnist.apps.predict.preprocess_image``), the classes 0-9, what the output
  is (logits, or probabilities for a ``double_softmax`` model), the source model
  with its sidecar and SHA-256. Paths inside the repository are stored
  repository-relative.

The files are written into a temporary folder next to ``out_dir`` and then moved
in, the meta file last, so an export is complete once ``inference.meta.json`` exists.
The reproduce step (or anyone) can call ``export_model`` directly; the committed
headline models live in ``reports/models/inference/{mlp,softmax}/``::

    export_model("reports/models/mlp.pdparams", "reports/models/inference/mlp")

``InferenceModel(dir).logits(x)`` runs such a folder through
``paddle.inference.create_predictor`` (CPU).

    python -m paddle_mnist export --model reports/models/softmax.pdparams --out runs/export/softmax
    python -m paddle_mnist export --model runs/mlp/adam-seed0      # a run folder -> runs/export/mlp-adam-seed0
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import tempfile
import threading
from pathlib import Path

import numpy as np

from paddle_mnist.errors import PaddleMnistError
from paddle_mnist.paths import MODELS, REPO, REPORTS
from paddle_mnist.schema import Const, Either, Int, ListOf, Num, check
from paddle_mnist.engine.checkpoint import _read_sidecar, load_model, model_paths as _model_paths
from paddle_mnist.records import read_json, write_json
# deferred: paddle (loaded on first use, so importing this module stays light)
PREFIX = "inference"  # inference.json, inference.pdiparams, inference.meta.json
META_SUFFIX = ".meta.json"
DEFAULT_EXPORT_ROOT = Path("runs") / "export"            # user runs: runs/export/<name>
HEADLINE_ROOT = MODELS / "inference"  # committed: reports/models/inference/<name>
DEFAULT_INFERENCE_MODEL = HEADLINE_ROOT / "mlp"
FORMAT = "paddle-mnist-inference/1"
CLASSES = list(range(10))
PREPROCESSING = {
    "function": "paddle_mnist.apps.predict.preprocess_image",
    "image": "28x28 grey levels, float32 in [0, 1]",
    "polarity": "white digit (1.0) on black background (0.0), as in MNIST",
    "layout": "row-major 28x28 flattened to 784 values; input x has shape [N, 784]",
    "from_any_image": ("polarity from the border, paper level to 0 and strongest ink to 1, crop to the ink, "
                       "longer side scaled to 20 px (Lanczos), centre of mass moved to the centre of 28x28"),
}


MAX_META_BYTES = 1 << 20  # inference.meta.json (1.6 KB written)
MAX_PROGRAM_BYTES = 64 << 20  # inference.json, the PIR program (3 KB for the MLP; the weights are apart)
META_SCHEMA = {
    "format": Const(FORMAT), "program": str, "params": str,
    "input": {"name": str, "shape": list, "dtype": str},
    "output": {"shape": list, "kind": Either(Const("logits"), Const("probabilities"))},
    "classes": Const(CLASSES), "parameters": Int(0),
    "source": {"model": str, "sidecar": str, "sha256": str,
               "info": {"model?": str, "model_kwargs?": {"hidden?": ListOf(Int(1), 64)},
                        "test_acc?": Either(None, Num(0, 1)), "best_valid_acc?": Either(None, Num(0, 1))}},
}
MEMBERS = {"program": ".json", "params": ".pdiparams"}  # Paddle 3 parses a .json program; never a .pdmodel


def repo_relative(path) -> str:
    """``path`` relative to the repository when inside it (POSIX separators), else absolute."""
    path = Path(path).resolve()
    try:
        return path.relative_to(REPO).as_posix()
    except ValueError:
        return str(path)


def default_out_dir(model_path) -> Path:
    """``runs/export/<name>`` where ``<name>`` is the model file's stem (``mlp`` for ``mlp.pdparams``)."""
    return DEFAULT_EXPORT_ROOT / _model_paths(model_path)[0].stem


def _check_out_dir(out_dir: Path) -> None:
    """``out_dir`` is missing, empty, or a previous export (its meta says so): never the user's own files."""
    if out_dir.exists() and not out_dir.is_dir():
        raise PaddleMnistError(f"{out_dir}: exists and is not a folder; pass --out with a folder path")
    for parent in out_dir.parents:
        if parent.exists() and not parent.is_dir():
            raise PaddleMnistError(f"{parent}: is a file, cannot create the folder {out_dir} inside it")
    try:
        holds_files = out_dir.is_dir() and any(out_dir.iterdir())
    except OSError as exc:
        raise PaddleMnistError(f"{out_dir}: cannot read the folder ({exc.strerror or exc})") from None
    if holds_files:
        try:
            read_meta(out_dir)
        except PaddleMnistError:
            raise PaddleMnistError(f"{out_dir}: holds files that are not an export of this program; pass --out "
                                   "with an empty or new folder (nothing was written)") from None


def _meta(params: Path, sidecar: Path, info: dict, model, output_kind: str) -> dict:
    import paddle

    return {
        "format": FORMAT,
        "paddle_version": paddle.__version__,
        "program": f"{PREFIX}.json",
        "params": f"{PREFIX}.pdiparams",
        "input": {"name": "x", "shape": [None, 784], "dtype": "float32"},
        "output": {"shape": [None, len(CLASSES)], "kind": output_kind},
        "classes": CLASSES,
        "preprocessing": PREPROCESSING,
        "source": {"model": repo_relative(params), "sidecar": repo_relative(sidecar),
                   "sha256": hashlib.sha256(params.read_bytes()).hexdigest(), "info": info},
        "parameters": int(sum(p.size for p in model.parameters())),
    }


def export_model(model_path, out_dir, info: dict | None = None) -> Path:
    """Export ``model_path`` (``X.pdparams`` + ``X.json``, or a run folder / its ``best.pdparams``, described by
    the run's ``config.json``) into ``out_dir``; returns the meta file's path. ``info``: what the meta records
    as the source's description (default: the sidecar, or the model a run's config names).

    A missing or broken model, a non-10-class model, an ``out_dir`` that is a file or
    holds files but no export of this program raise ``PaddleMnistError`` before
    anything is written. The files of a previous export in ``out_dir`` are replaced.
    """
    out_dir = Path(out_dir)
    _check_out_dir(out_dir)
    import paddle

    params, sidecar = _model_paths(model_path)
    if not sidecar.is_file() and (sidecar.parent / "config.json").is_file():  # a run's best.pdparams
        name, kwargs = _read_sidecar(sidecar)
        sidecar = sidecar.parent / "config.json"
        info = info if info is not None else {"model": name, "model_kwargs": {
            k: list(v) if isinstance(v, tuple) else v for k, v in kwargs.items()}}
    with paddle.utils.unique_name.guard():  # parameter names from linear_0 on: same bytes in any process
        model = load_model(params)

    with paddle.no_grad():
        n_out = int(model(paddle.zeros([1, 784], dtype="float32")).shape[-1])
    if n_out != len(CLASSES):
        raise PaddleMnistError(f"{params}: the model gives {n_out} outputs per image; export needs a "
                               f"10-class classifier")
    kind = "probabilities" if getattr(model, "double_softmax", False) else "logits"
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".tmp", dir=out_dir.parent))
    except OSError as exc:
        raise PaddleMnistError(f"{out_dir}: cannot write the export here ({exc.strerror or exc})") from None
    try:
        spec = [paddle.static.InputSpec([None, 784], "float32", "x")]
        paddle.jit.save(model, str(tmp / PREFIX), input_spec=spec)
        write_json(tmp / f"{PREFIX}{META_SUFFIX}",
                   _meta(params, sidecar, info if info is not None else read_json(sidecar), model, kind))
        for name in (f"{PREFIX}.json", f"{PREFIX}.pdiparams", f"{PREFIX}{META_SUFFIX}"):  # meta last
            if not (tmp / name).is_file():
                raise PaddleMnistError(f"paddle.jit.save did not write {name} (got {sorted(os.listdir(tmp))})")
            os.replace(tmp / name, out_dir / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out_dir / f"{PREFIX}{META_SUFFIX}"


def export_headline_models() -> list[Path]:
    """Export ``reports/models/{mlp,softmax}.pdparams`` into ``reports/models/inference/{mlp,softmax}/``
    (under the working folder when installed: never into the package)."""
    root = REPORTS / "models"
    return [export_model(root / f"{name}.pdparams", root / "inference" / name) for name in ("mlp", "softmax")]


def read_meta(model_dir) -> dict:
    """The ``inference.meta.json`` of an exported model folder, checked against ``META_SCHEMA`` (its ``program``
    and ``params`` plain file names in the folder); a clear one-line error if it is not one."""
    model_dir = Path(model_dir)
    meta_path = model_dir / f"{PREFIX}{META_SUFFIX}"
    if model_dir.is_file():
        raise PaddleMnistError(f"{model_dir}: is a file, not an exported model folder (export it with: python -m "
                               f"paddle_mnist export --model {model_dir} --out {default_out_dir(model_dir)}, "
                               "then pass that folder)")
    if not model_dir.is_dir():
        raise PaddleMnistError(f"{model_dir}: not found; expected an exported model folder (make one with: "
                               f"python -m paddle_mnist export --out {model_dir})")
    if not meta_path.is_file():
        raise PaddleMnistError(f"{model_dir}: no {meta_path.name}, not an exported model folder (make one with: "
                               f"python -m paddle_mnist export --out {model_dir})")
    meta = _read_json(meta_path, MAX_META_BYTES)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise PaddleMnistError(f"{meta_path}: not a {FORMAT} description")
    check(meta, META_SCHEMA, str(meta_path))
    for key, suffix in MEMBERS.items():
        name = meta[key]
        if name != os.path.basename(name) or "\\" in name or "\0" in name or not name.endswith(suffix) \
                or name.startswith("."):
            raise PaddleMnistError(f"{meta_path}: {key} must be a plain {suffix} file name in the folder, got "
                                   f"{json.dumps(name)[:80]}")
    return meta


def _read_json(path: Path, limit: int):
    """A JSON file of at most ``limit`` bytes, a regular file (not a link); one-line errors."""
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode):
            raise PaddleMnistError(f"{path}: not a regular file (a link, a folder or a device)")
        if st.st_size > limit:
            raise PaddleMnistError(f"{path}: {st.st_size:,} bytes, over the {limit:,} a {path.name} may hold")
        with open(path, "rb") as fh:
            return json.loads(fh.read(limit + 1))
    except FileNotFoundError:
        raise PaddleMnistError(f"{path}: missing from the exported model folder") from None
    except OSError as exc:
        raise PaddleMnistError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except (ValueError, RecursionError) as exc:  # not JSON, not UTF-8, or nested too deeply
        raise PaddleMnistError(f"{path}: not valid JSON ({type(exc).__name__})") from None


def _check_program(path: Path) -> None:
    """Paddle 3's JSON program, checked before Paddle parses it: size, JSON, its top-level shape."""
    program = _read_json(path, MAX_PROGRAM_BYTES)
    base = program.get("base_code") if isinstance(program, dict) else None
    if not (isinstance(base, dict) and base.get("magic") == "pir" and type(base.get("version")) is int
            and isinstance(program.get("program"), dict) and isinstance(program["program"].get("regions"), list)):
        raise PaddleMnistError(f"{path}: not a Paddle program (expected JSON with base_code.magic 'pir' and "
                               "program.regions)")


class InferenceModel:
    """An exported model folder run by ``paddle.inference`` (CPU, one thread); thread-safe calls.

    ``logits(x)`` takes float32 ``[N, 784]`` (MNIST layout, see ``meta['preprocessing']``)
    and returns the model's output ``[N, 10]``; ``probabilities(x)`` applies softmax
    unless the output already is probabilities.
    """

    def __init__(self, model_dir):
        from paddle import inference

        self.dir = Path(model_dir)
        self.meta = read_meta(self.dir)
        program, params = self.dir / self.meta["program"], self.dir / self.meta["params"]
        for path in (program, params):
            if not path.is_file() or path.is_symlink():
                raise PaddleMnistError(f"{path}: missing from the exported model folder (or not a regular file)")
        _check_program(program)
        config = inference.Config(str(program), str(params))
        config.disable_gpu()
        config.set_cpu_math_library_num_threads(1)
        config.disable_glog_info()
        try:
            self._predictor = inference.create_predictor(config)
        except Exception as exc:  # paddle raises assorted types for corrupted programs
            raise PaddleMnistError(f"{program}: cannot load the inference model ({type(exc).__name__})") from None
        self._input = self._predictor.get_input_handle(self._predictor.get_input_names()[0])
        self._output = self._predictor.get_output_handle(self._predictor.get_output_names()[0])
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return str(self.meta["source"]["info"].get("model", self.dir.name))

    def logits(self, x) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float32)
        if x.ndim != 2 or x.shape[1] != 784:
            raise PaddleMnistError(f"expected input of shape [N, 784], got {list(x.shape)}")
        with self._lock:
            self._input.reshape(list(x.shape))
            self._input.copy_from_cpu(x)
            self._predictor.run()
            out = np.array(self._output.copy_to_cpu(), copy=True)
        if out.shape != (len(x), len(CLASSES)):  # a program that is not this package's export
            raise PaddleMnistError(f"{self.dir / self.meta['program']}: the model gives output of shape "
                                   f"{list(out.shape)}, expected [{len(x)}, {len(CLASSES)}]")
        return out

    def probabilities(self, x) -> np.ndarray:
        out = self.logits(x).astype(np.float64)
        if self.meta["output"]["kind"] == "probabilities":
            return out
        out = np.exp(out - out.max(axis=1, keepdims=True))
        return out / out.sum(axis=1, keepdims=True)


def inference_probabilities(model_dir, batch) -> np.ndarray:
    """Softmax probabilities ``[N, 10]`` of ``batch`` through the exported model in ``model_dir``."""
    return InferenceModel(model_dir).probabilities(batch)


__all__ = ["export_model", "export_headline_models", "default_out_dir", "read_meta", "InferenceModel",
           "inference_probabilities", "repo_relative", "DEFAULT_INFERENCE_MODEL", "HEADLINE_ROOT"]
