"""The one checkpoint format: one writer and one reader for weights, resume checkpoints and model files.

* ``save_state(obj, path)`` / ``load_state(path)``: a state dict or a resume
  checkpoint (model, optimizer, epoch, history, RNG states), written atomically.
* ``save_model`` / ``load_model``: a model file ``X.pdparams`` plus its sidecar
  ``X.json`` (``{"model", "model_kwargs", ...}``), enough to rebuild the model.
* ``write_model(weights, dst, config, info)``: a run's best weights as a model file.
* A run folder (or its ``best.pdparams``) is a model too: its ``config.json`` describes it.

    python -m paddle_mnist predict digit.png --model reports/models/mlp.pdparams
"""
from __future__ import annotations

from pathlib import Path

from paddle_mnist.errors import PaddleMnistError


def save_state(obj, path) -> None:
    """A state dict or checkpoint to ``path``: tensors as numpy arrays, atomically (``safe_load.safe_save``)."""
    from paddle_mnist.engine.safe_load import safe_save

    safe_save(obj, path)


def load_state(path, what: str = "checkpoint"):
    """What ``save_state`` (or ``paddle.save``) wrote, read with the allow-list unpickler: a file that names
    anything but arrays and plain containers is refused before any of it runs; a corrupted one is a one-line error."""
    from paddle_mnist.engine.safe_load import safe_load

    return safe_load(path)


def write_model(weights: Path, dst: Path, cfg, info: dict) -> Path:
    """A run's weights file as the model file ``dst`` with a sidecar built from its config (and ``info``)."""
    from paddle_mnist.engine.records import atomic_write_bytes, write_json

    atomic_write_bytes(dst, Path(weights).read_bytes())
    write_json(Path(dst).with_suffix(".json"), {"model": cfg.model, "model_kwargs": cfg.model_kwargs(),
                                                 "loss": cfg.loss, **info})
    return Path(dst)


def model_paths(model_path) -> tuple[Path, Path]:
    """``X``, ``X.pdparams`` or ``X.json`` -> (``X.pdparams``, ``X.json``); a run folder -> its ``best.*``."""
    path = Path(model_path)
    if path.is_dir() and (path / "best.pdparams").is_file():
        path = path / "best.pdparams"
    base = str(path)
    for suffix in (".pdparams", ".json"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    return Path(base + ".pdparams"), Path(base + ".json")


def save_model(model, model_name: str, model_kwargs: dict | None, path) -> Path:
    """Write ``model``'s weights to ``X.pdparams`` and ``{"model", "model_kwargs"}`` to ``X.json``.

    Both files are written atomically (complete or absent). Returns the ``.pdparams`` path.
    """
    from paddle_mnist.engine.records import write_json

    params, sidecar = model_paths(path)
    save_state(model.state_dict(), params)
    write_json(sidecar, {"model": model_name, "model_kwargs": dict(model_kwargs or {})})
    return params


def _read_sidecar(sidecar: Path) -> tuple[str, dict]:
    from paddle_mnist.course.nets import MODELS
    from paddle_mnist.engine.records import read_json

    run_config = sidecar.parent / "config.json"
    if not sidecar.is_file() and sidecar.name == "best.json" and run_config.is_file():
        return _from_run_config(run_config)
    try:
        meta = read_json(sidecar)
    except FileNotFoundError:
        raise PaddleMnistError(f"{sidecar}: model description not found (it must sit next to the "
                               f".pdparams file)") from None
    except IsADirectoryError:
        raise PaddleMnistError(f"{sidecar}: is a folder, not a model description") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("model"), str):
        raise PaddleMnistError(f'{sidecar}: expected {{"model": name, "model_kwargs": {{...}}}}')
    name = meta["model"]
    if name not in MODELS:
        raise PaddleMnistError(f"{sidecar}: unknown model {name!r}; choose from {sorted(MODELS)}")
    kwargs = meta.get("model_kwargs") or {}
    if not isinstance(kwargs, dict):
        raise PaddleMnistError(f"{sidecar}: model_kwargs must be an object, got {type(kwargs).__name__}")
    kwargs = dict(kwargs)
    if isinstance(kwargs.get("hidden"), list):
        kwargs["hidden"] = tuple(kwargs["hidden"])
    return name, kwargs


def _from_run_config(path: Path) -> tuple[str, dict]:
    """The model a run folder's ``config.json`` describes (its ``best.pdparams`` has no sidecar)."""
    from paddle_mnist.engine.config import ConfigError, from_dict
    from paddle_mnist.engine.records import read_json

    try:
        cfg = from_dict(read_json(path)["config"])
    except (KeyError, TypeError, ValueError, ConfigError) as exc:
        raise PaddleMnistError(f"{path}: not a run's config ({exc})") from None
    return cfg.model, cfg.model_kwargs()


def load_model(model_path, hint: str = ""):
    """The model saved at ``model_path`` (``X.pdparams`` + ``X.json``), in eval mode.

    A missing file, a corrupted file or weights that do not fit the described
    model raise ``PaddleMnistError`` naming the file.
    """
    params, sidecar = model_paths(model_path)
    if not params.is_file():
        raise PaddleMnistError(f"{params}: model file not found{hint}")
    name, kwargs = _read_sidecar(sidecar)

    from paddle_mnist.course.nets import build_model

    try:
        model = build_model(name, **kwargs)
    except (TypeError, ValueError) as exc:
        raise PaddleMnistError(f"{sidecar}: cannot build model {name!r} ({exc})") from None
    state = load_state(params, what="model file")
    if isinstance(state, dict) and isinstance(state.get("model"), dict):
        state = state["model"]  # a training checkpoint: take its weights
    if not isinstance(state, dict):
        raise PaddleMnistError(f"{params}: not a model state dict (got {type(state).__name__})")
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    got = {k: tuple(getattr(v, "shape", ())) for k, v in state.items()}
    if expected != got:
        missing = sorted(set(expected) - set(got))
        wrong = sorted(k for k in set(expected) & set(got) if expected[k] != got[k])
        extra = sorted(set(got) - set(expected))
        raise PaddleMnistError(f"{params}: weights do not fit model {name!r} {kwargs} "
                               f"(missing {missing}, wrong shape {wrong}, unexpected {extra})")
    model.set_state_dict(state)
    model.eval()
    return model
