"""Settings from the command line: ``--set key=value``, ``--config FILE``, and the run names they give.

Every ``TrainConfig`` field can be set; a value is parsed by the field's type
(int, float, bool, str; ``hidden`` as ``300,100``). Unknown keys, wrong types,
``seed`` (it comes from ``--seeds``) and a config file too big or nested too
deep are one-line ``ConfigError``s. ``run_name`` names a run from the config it
trains: the variant's label with the optimizer trained, then what the user's
settings change from the experiment's base (``sgd-lr0.05-hidden300x100-epochs2-seed0``;
a hash only past ``MAX_TAG`` characters); ``run_tag`` names the results file the same way.

    python -m paddle_mnist train mlp --set optimizer=sgd --set lr=0.05 --set hidden=300,100 --epochs 2 --seeds 0
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import tomllib
from pathlib import Path

from paddle_mnist.engine.config import TrainConfig, _hints
from paddle_mnist.errors import ConfigError
from paddle_mnist.engine.losses import LOSSES
from paddle_mnist.engine.optimizers import OPTIMIZERS, SCHEDULES
# deferred: paddle (loaded on first use, so importing this module stays light)

# settings that change how a run is run or logged, not what it learns: never part of a run's name
UNNAMED = ("device", "log_every", "histograms", "seed")
# the order a name lists what changed: the optimizer and its settings, the model, then schedule and data
NAME_ORDER = ("optimizer", "lr", "lr_schedule", "momentum", "weight_decay", "model", "hidden", "activation",
              "dropout", "dropout_after", "out_features", "double_softmax", "init", "loss", "epochs", "batch_size",
              "max_steps", "train_subset", "valid_subset", "score_eval", "data_path")
MAX_TAG = 60  # a longer tag keeps its first parts and ends in a short hash of the whole
MAX_CONFIG_BYTES = 64 * 1024
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
    if path.is_dir():
        raise ConfigError(f"{path}: is a folder, not a config file")
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_CONFIG_BYTES:,} bytes; a config file is a short table of "
                          "settings")
    kind = "TOML" if path.suffix == ".toml" else "JSON"
    try:
        text = raw.decode("utf-8")
        data = tomllib.loads(text) if kind == "TOML" else json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid {kind} ({str(exc).splitlines()[0]})") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid {kind} (nested too deeply; a config file is a flat table of "
                          "settings)") from None
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
    if "seed" in out:
        raise ConfigError(f"seed is set with --seeds (e.g. --seeds {out['seed']}), not --set or --config")
    dataclasses.replace(TrainConfig(), **out)  # every value checked together (ranges too)
    for key, choices in _choices().items():
        if key in out and out[key] not in choices:
            raise ConfigError(f"{key}={out[key]!r}: choose from {', '.join(choices)}")
    return out


def _choices() -> dict:
    """The named settings and their registries (models, losses, optimizers, ...)."""
    from paddle_mnist.engine.nets import ACTIVATIONS, INITIALIZERS, MODELS

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


def _short(key: str) -> str:
    return key.replace("_", "")


def changed_settings(exp, s, cfg: TrainConfig | None = None) -> dict:
    """The user's settings (values read from ``cfg`` when given) that differ from ``exp``'s base after ``--quick``,
    in ``NAME_ORDER``."""
    base = dataclasses.replace(exp.base, **exp.quick) if s.quick else exp.base
    keys = [k for k in NAME_ORDER if k in s.overrides]
    values = {k: getattr(cfg, k) if cfg is not None else s.overrides[k] for k in keys}
    return {k: v for k, v in values.items() if getattr(base, k) != v}


def _parts(changed: dict) -> list[str]:
    return [("data" + _digest(v)) if k == "data_path" else f"{_short(k)}{_fmt(v)}" for k, v in changed.items()
            if k != "optimizer"]


def _joined(parts: list[str]) -> str:
    """``parts`` joined by ``-``; past ``MAX_TAG`` characters the first parts that fit plus a hash of all."""
    tag = "-".join(parts)
    if len(tag) <= MAX_TAG:
        return tag
    kept = []
    for part in parts:
        if len("-".join(kept + [part])) > MAX_TAG - 10:
            break
        kept.append(part)
    return "-".join(kept + ["h" + _digest(tag)])


def run_tag(exp, settings) -> str:
    """What the user's settings change from ``exp``'s base (after ``--quick``), for the results file's name:
    the optimizer, then ``lr0.05-hidden300x100-epochs2`` (``""`` when nothing changes)."""
    changed = changed_settings(exp, settings)
    head = [changed["optimizer"]] if "optimizer" in changed else []
    return _joined(head + _parts(changed))


def run_name(exp, settings, job_name: str, cfg: TrainConfig) -> str:
    """A run's name from the config it trains: the variant's label with the optimizer it trains, what the user's
    settings change from the base, then ``-seedN`` (``adam-seed0`` -> ``sgd-lr0.05-hidden300x100-epochs2-seed0``).

    A label word naming the base's optimizer is replaced by the config's (else a changed optimizer leads the
    tag); the label ``default`` becomes the optimizer once anything changed. Values come from ``cfg``; past
    ``MAX_TAG`` characters the tail is a hash.
    """
    m = re.match(r"^(.*?)(-seed\d+)?$", job_name)
    label, seed = m.group(1), m.group(2) or ""
    if seed:
        seed = f"-seed{cfg.seed}"
    changed = changed_settings(exp, settings, cfg)
    if not changed:
        return f"{label}{seed}"
    base_opt = exp.base.optimizer
    words = ["default" if w == base_opt and "optimizer" in changed else w for w in label.split("-")]
    parts = _parts(changed)
    if "optimizer" in changed and "default" not in words:
        parts = [cfg.optimizer] + parts  # a label that does not name the optimizer: the tag does
    words = [cfg.optimizer if w == "default" else w for w in words]
    tag = _joined(parts)
    return "-".join(words + ([tag] if tag else [])) + seed


def name_settings(name: str) -> dict:
    """The ``key -> value text`` a run name states (``lr0.05`` -> ``{"lr": "0.05"}``), for checking names."""
    keys = sorted((k for k in NAME_ORDER if k not in ("optimizer", "data_path")), key=len, reverse=True)
    out = {}
    for token in name.split("-"):
        for key in keys:
            rest = token[len(_short(key)):]
            if token.startswith(_short(key)) and rest and (rest[0].isalnum() or rest[0] == "."):
                out[key] = rest
                break
    return out


def _digest(value) -> str:
    return hashlib.sha1(str(value).encode()).hexdigest()[:8]
