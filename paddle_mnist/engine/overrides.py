"""Settings from the command line: ``--set key=value``, ``--config FILE`` and the run-name tag they give.

Every ``TrainConfig`` field can be set; a value is parsed by the field's type
(int, float, bool, str; ``hidden`` as ``300,100``). Unknown keys and wrong types
are one-line ``ConfigError``s listing the valid keys. ``run_tag`` names what the
overrides change from the experiment's base (``lr0.01-hidden300x100``, or a short
hash when that gets long), so a trial sits beside the others in ``runs/`` and in
the dashboard instead of replacing them; ``tagged`` puts the tag before ``-seedN``.

    python -m paddle_mnist train mlp --set optimizer=sgd --set lr=0.05 --set hidden=300,100 --seeds 0
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from pathlib import Path

from paddle_mnist.engine.config import TrainConfig, _hints
from paddle_mnist.errors import ConfigError

# settings that change how a run is run or logged, not what it learns: never part of a run's name
UNNAMED = ("device", "log_every", "histograms")
MAX_TAG = 40  # a longer tag becomes a short hash
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def valid_keys() -> str:
    return ", ".join(f.name for f in dataclasses.fields(TrainConfig))


def _unknown(key: str) -> ConfigError:
    return ConfigError(f"unknown setting {key!r}; valid keys: {valid_keys()}")


def parse_value(key: str, text: str):
    """``text`` as the type of ``TrainConfig.<key>``; a one-line ``ConfigError`` otherwise."""
    hints = _hints()
    if key not in hints:
        raise _unknown(key)
    want, text = hints[key], text.strip()
    try:
        if want is bool:
            if text.lower() not in _TRUE + _FALSE:
                raise ValueError
            return text.lower() in _TRUE
        if want is tuple:
            return tuple(int(v) for v in text.replace("x", ",").split(",") if v.strip())
        return want(text)
    except ValueError:
        example = {bool: "true/false", tuple: "300,100", int: "an integer", float: "a number"}.get(want, "text")
        raise ConfigError(f"{key}={text!r}: expected {example} ({want.__name__}); valid keys: {valid_keys()}") \
            from None


def parse_sets(items) -> dict:
    """``["lr=0.01", "hidden=300,100"]`` -> ``{"lr": 0.01, "hidden": (300, 100)}``."""
    out = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set expects key=value, got {item!r}; valid keys: {valid_keys()}")
        out[key.strip()] = parse_value(key.strip(), value)
    return out


def read_config_file(path) -> dict:
    """A ``.json`` or ``.toml`` file of ``TrainConfig`` keys, checked like ``--set``."""
    path = Path(path)
    try:
        text = path.read_text()
    except (FileNotFoundError, IsADirectoryError):
        raise ConfigError(f"{path}: config file not found") from None
    try:
        if path.suffix == ".toml":
            import tomllib

            data = tomllib.loads(text)
        else:
            data = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"{path}: not valid {path.suffix.lstrip('.') or 'JSON'} ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a table of settings, got {type(data).__name__}")
    return {k: _checked(k, v, path) for k, v in data.items()}


def _checked(key: str, value, where):
    """A value read from a file, checked against the field's type (lists -> tuples, ints -> floats)."""
    hints = _hints()
    if key not in hints:
        raise ConfigError(f"{where}: unknown setting {key!r}; valid keys: {valid_keys()}")
    try:
        dataclasses.replace(TrainConfig(), **{key: value})
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}; valid keys: {valid_keys()}") from None
    return tuple(value) if isinstance(value, list) else value


def merge(file_settings: dict, sets: dict, flags: dict) -> dict:
    """One override dict: the config file, then ``--set``, then the dedicated flags (``--lr`` ...)."""
    out = {**file_settings, **sets, **flags}
    dataclasses.replace(TrainConfig(), **out)  # every value checked together (ranges too)
    for key, choices in _choices().items():
        if key in out and out[key] not in choices:
            raise ConfigError(f"{key}={out[key]!r}: choose from {', '.join(choices)}")
    return out


def _choices() -> dict:
    """The named settings and their registries (models, losses, optimizers, ...)."""
    from paddle_mnist.engine.losses import LOSSES
    from paddle_mnist.engine.nets import ACTIVATIONS, INITIALIZERS, MODELS
    from paddle_mnist.engine.optimizers import OPTIMIZERS, SCHEDULES

    return {"model": list(MODELS), "loss": list(LOSSES), "optimizer": list(OPTIMIZERS),
            "activation": list(ACTIVATIONS), "init": list(INITIALIZERS), "lr_schedule": list(SCHEDULES)}


def _fmt(value) -> str:
    if isinstance(value, (tuple, list)):
        return "x".join(str(v) for v in value)
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return re.sub(r"[^A-Za-z0-9_.]+", "_", str(value))


def run_tag(exp, settings) -> str:
    """What the overrides change from ``exp``'s base (after ``--quick``): ``lr0.01-hidden300x100`` or ``""``."""
    base = exp.base
    if settings.quick:
        base = dataclasses.replace(base, **exp.quick)
    changed = {k: v for k, v in sorted(settings.overrides.items())
               if k not in UNNAMED and getattr(base, k, object()) != v}
    parts = [f"{k.replace('_', '')}{_fmt(v)}" if k != "data_path" else "data" + _digest(v)
             for k, v in changed.items()]
    tag = "-".join(parts)
    if len(tag) > MAX_TAG:
        tag = f"{'-'.join(parts[:2])[:MAX_TAG - 9]}-{_digest(tag)}"
    return tag


def _digest(value) -> str:
    return hashlib.sha1(str(value).encode()).hexdigest()[:8]


def tagged(name: str, tag: str) -> str:
    """``adam-seed0`` + ``lr0.01`` -> ``adam-lr0.01-seed0`` (a name without ``-seedN`` gets the tag appended)."""
    if not tag:
        return name
    m = re.match(r"^(.*?)(-seed\d+)?$", name)
    return f"{m.group(1)}-{tag}{m.group(2) or ''}"
