"""The one checkpoint format: one writer and one reader for weights, resume checkpoints and model files.

* ``save_state(obj, path)`` / ``load_state(path)``: a state dict or a resume
  checkpoint (model, optimizer, epoch, history, RNG states), written atomically.
* ``save_model`` / ``load_model``: a model file ``X.pdparams`` plus its sidecar
  ``X.json`` (``{"model", "model_kwargs", ...}``), enough to rebuild the model.
* ``write_model(weights, dst, config, info)``: a run's best weights as a model file, loaded and checked
  (``check_weights``: keys and shapes against the config's model) before a byte is written.
* ``optimizer_state_out`` / ``optimizer_state_in``: optimizer state keyed by the
  model's structured names (``fc1.weight_moment1_0``), not Paddle's process-global
  ``linear_N.w_0`` names, so a checkpoint resumes in any process.
* ``resume_check(saved, config, where)``: ``--resume`` continues only the config a
  run was trained with (a longer ``epochs`` of a constant schedule is allowed and recorded).
* A run folder (or its ``best.pdparams``) is a model too: its ``config.json`` describes it.

    python -m paddle_mnist predict digit.png --model reports/models/mlp.pdparams
"""
from __future__ import annotations

import re
from pathlib import Path
import tempfile

from paddle_mnist.errors import PaddleMnistError
from paddle_mnist.engine.safe_load import safe_load, safe_save
from paddle_mnist.records import atomic_write_bytes, read_json, write_json
from paddle_mnist.engine.config import ConfigError, from_dict
# deferred: paddle (loaded on first use, so importing this module stays light)

CHECKPOINT = "checkpoint.pdckpt"  # a run folder's resume checkpoint

KEYS_STRUCTURED = "structured"  # checkpoint["optimizer_keys"]: the optimizer state uses the model's names
_GLOBAL_PARAM = re.compile(r"^(.+?\.[wb]_\d+)_")  # Paddle's parameter name at the start of an accumulator key


class ResumeMismatch(PaddleMnistError):
    """``--resume`` over a run trained with another config (or a checkpoint that cannot continue it)."""


def _rename(key: str, names: dict) -> str | None:
    for old in sorted(names, key=len, reverse=True):  # longest first: linear_10 before linear_1
        if key.startswith(old + "_"):
            return names[old] + key[len(old):]
    return None


def optimizer_state_out(opt_state: dict, model) -> dict:
    """``opt.state_dict()`` with every parameter's global name replaced by its structured name."""
    model = getattr(model, "_layers", model)  # paddle.DataParallel: the wrapped net's names
    names = {p.name: n for n, p in model.named_parameters()}
    return {(_rename(k, names) or k) if not isinstance(v, dict) else k: v for k, v in opt_state.items()}


def optimizer_state_in(saved: dict, model, structured: bool, where) -> dict:
    """The saved optimizer state keyed by this process's parameter names, for ``opt.set_state_dict``.

    An older checkpoint (global names) is mapped by order: its parameters, in order of
    first appearance, are the model's parameters in order.
    """
    model = getattr(model, "_layers", model)  # paddle.DataParallel: the wrapped net's names
    params = list(model.named_parameters())
    if structured:
        names = {n: p.name for n, p in params}
    else:
        seen = []
        for k, v in saved.items():
            m = _GLOBAL_PARAM.match(k) if not isinstance(v, dict) else None
            if m and m.group(1) not in seen:
                seen.append(m.group(1))
        if seen and len(seen) != len(params):
            raise ResumeMismatch(f"{where}: optimizer state holds {len(seen)} parameters, the model has "
                                 f"{len(params)}; start the run afresh without --resume")
        names = {old: p.name for old, (_, p) in zip(seen, params)}
    out = {}
    for k, v in saved.items():
        new = None if isinstance(v, dict) else _rename(k, names)
        out[new or k] = v
    return out


def resume_check(saved: dict | None, current: dict, where) -> int | None:
    """``None`` when ``current`` continues ``saved``; the old epoch count when it only extends ``epochs``.

    Anything else is a ``ResumeMismatch`` naming the differing keys.
    """
    if not isinstance(saved, dict):
        return None  # an old run that recorded no config: nothing to compare
    changed = sorted(k for k in set(saved) | set(current) if saved.get(k) != current.get(k))
    if not changed:
        return None
    if (changed == ["epochs"] and current.get("lr_schedule") == "constant"
            and isinstance(saved.get("epochs"), int) and current["epochs"] > saved["epochs"]):
        return saved["epochs"]
    diff = ", ".join(f"{k} {saved.get(k)!r} -> {current.get(k)!r}" for k in changed)
    why = (" (only a longer --epochs of a constant learning rate can extend a run)" if "epochs" in changed
           else "")
    raise ResumeMismatch(f"{where}: --resume continues only the config the run was trained with; it differs in "
                         f"{diff}{why}; rerun without --resume to start afresh")


def save_state(obj, path) -> None:
    """A state dict or checkpoint to ``path``: tensors as numpy arrays, atomically (``safe_load.safe_save``)."""
    try:
        safe_save(obj, path)
    except PaddleMnistError as exc:  # a full or read-only disk stays an OSError, so the command stops on it
        cause = exc.__context__
        if isinstance(cause, OSError) and cause.errno is not None:
            raise OSError(cause.errno, cause.strerror, str(path)) from None
        raise


def load_state(path):
    """What ``save_state`` (or ``paddle.save``) wrote, read with the allow-list unpickler: a file that names
    anything but arrays and plain containers is refused (``RefusedFile``) before any of it runs; a corrupted
    one is a one-line error."""
    return safe_load(path)


def write_model(weights: Path, dst: Path, cfg, info: dict) -> Path:
    """A run's weights file as the model file ``dst`` with a sidecar built from its config (and ``info``).

    The file is read once; those bytes are loaded through the allow-list loader and checked against the model
    ``cfg`` builds (keys and shapes) before any of them is written: a planted payload or foreign weights stop
    here (one line), nothing copied.
    """
    from paddle_mnist.engine.nets import build_model

    data = Path(weights).read_bytes()
    with tempfile.NamedTemporaryFile(prefix="paddle_mnist-check-", suffix=".pdparams") as private:
        private.write(data)
        private.flush()
        try:
            state = load_state(private.name)
        except PaddleMnistError as exc:  # name the run's file, not the private copy
            raise type(exc)(str(exc).replace(private.name, str(weights))) from None
    check_weights(state, build_model(cfg.model, **cfg.model_kwargs()), weights, f"{cfg.model!r}")
    atomic_write_bytes(dst, data)
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
    params, sidecar = model_paths(path)
    save_state(model.state_dict(), params)
    write_json(sidecar, {"model": model_name, "model_kwargs": dict(model_kwargs or {})})
    return params


def _read_sidecar(sidecar: Path) -> tuple[str, dict]:
    from paddle_mnist.engine.nets import MODELS

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
    _check_size(sidecar, name, kwargs)
    return name, kwargs


MAX_PARAMETERS = 50_000_000  # a model description asking for more is refused before anything is built


def _check_size(sidecar: Path, name: str, kwargs: dict) -> None:
    """Count the parameters a description asks for before building it (``hidden: [2000000000]`` is refused)."""
    if name != "mlp":
        return
    hidden, out = kwargs.get("hidden", (200, 200)), kwargs.get("out_features", 10)
    sizes = [784, *hidden, out] if isinstance(hidden, (list, tuple)) else None
    if not sizes or any(isinstance(n, bool) or not isinstance(n, int) or n <= 0 for n in sizes):
        raise PaddleMnistError(f"{sidecar}: hidden and out_features must be positive integers, got "
                               f"hidden={hidden!r} out_features={out!r}")
    count = sum(a * b + b for a, b in zip(sizes, sizes[1:]))
    if count > MAX_PARAMETERS:
        raise PaddleMnistError(f"{sidecar}: the described model would have {count:,} parameters (the limit is "
                               f"{MAX_PARAMETERS:,}); not a model this package wrote")


def _from_run_config(path: Path) -> tuple[str, dict]:
    """The model a run folder's ``config.json`` describes (its ``best.pdparams`` has no sidecar)."""
    try:
        cfg = from_dict(read_json(path)["config"])
    except (KeyError, TypeError, ValueError, RecursionError, ConfigError) as exc:
        raise PaddleMnistError(f"{path}: not a run's config ({exc})") from None
    _check_size(path, cfg.model, cfg.model_kwargs())  # the limits a sidecar gets
    return cfg.model, cfg.model_kwargs()


def check_weights(state, model, where, described: str) -> None:
    """``state`` must be a state dict of exactly ``model``'s keys and shapes (else one line naming ``where``)."""
    if not isinstance(state, dict):
        raise PaddleMnistError(f"{where}: not a model state dict (got {type(state).__name__})")
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    got = {k: tuple(getattr(v, "shape", ())) for k, v in state.items()}
    if expected != got:
        missing = sorted(set(expected) - set(got))
        wrong = sorted(k for k in set(expected) & set(got) if expected[k] != got[k])
        extra = sorted(set(got) - set(expected))
        raise PaddleMnistError(f"{where}: weights do not fit model {described} "
                               f"(missing {missing}, wrong shape {wrong}, unexpected {extra})")


def load_model(model_path, hint: str = ""):
    """The model saved at ``model_path`` (``X.pdparams`` + ``X.json``), in eval mode.

    A missing file, a corrupted file or weights that do not fit the described
    model raise ``PaddleMnistError`` naming the file.
    """
    params, sidecar = model_paths(model_path)
    if not params.is_file():
        raise PaddleMnistError(f"{params}: model file not found{hint}")
    name, kwargs = _read_sidecar(sidecar)

    from paddle_mnist.engine.nets import build_model

    try:
        model = build_model(name, **kwargs)
    except (TypeError, ValueError) as exc:
        raise PaddleMnistError(f"{sidecar}: cannot build model {name!r} ({exc})") from None
    state = load_state(params)
    if isinstance(state, dict) and isinstance(state.get("model"), dict):
        state = state["model"]  # a training checkpoint: take its weights
    check_weights(state, model, params, f"{name!r} {kwargs}")
    model.set_state_dict(state)
    model.eval()
    return model
