"""``TrainConfig``: one frozen dataclass describing one training run.

Unknown keys, wrong types, non-finite numbers, out-of-range values and a model
over ``MAX_PARAMETERS`` are ``ConfigError``s raised when a config is built, so
every source (``--set``, ``--config``, flags, a run folder's saved ``config.json``)
meets the same checks before anything is built; ``check_data_path`` adds the
file checks a run needs. Variants are built with ``dataclasses.replace``.

    python -m paddle_mnist train mlp --epochs 3 --lr 0.001
"""
from __future__ import annotations

import dataclasses
import math
import typing
from pathlib import Path
from dataclasses import dataclass, fields

from paddle_mnist.errors import ConfigError
from paddle_mnist.engine.losses import LOSSES


@dataclass(frozen=True)
class TrainConfig:
    # model
    model: str = "mlp"
    hidden: tuple = (200, 200)
    activation: str = "relu"
    dropout: float = 0.0
    dropout_after: str = "all"  # "all": a Dropout after every hidden layer; "fc1": after the first only (source 000)
    out_features: int = 10
    double_softmax: bool = False
    init: str = "default"
    # objective and optimizer
    loss: str = "cross_entropy"
    optimizer: str = "adam"
    lr: float = 1e-3
    lr_schedule: str = "constant"  # or "cosine": per-epoch cosine decay to 0 over `epochs`
    momentum: float = 0.9
    weight_decay: float = 0.0
    # schedule and data
    epochs: int = 10
    batch_size: int = 100
    seed: int = 0
    max_steps: int = 0  # 0: no limit (``--quick`` sets a few hundred)
    train_subset: int = 0  # 0: the whole train split
    valid_subset: int = 0  # 0: the whole valid split
    data_path: str = ""  # "": the default data file
    # bookkeeping
    log_every: int = 50
    histograms: bool = True
    score_eval: bool = True  # False: a run that only informs a choice never touches eval
    device: str = "auto"

    def __post_init__(self):
        check_types(self)
        check_values(self)

    def model_kwargs(self) -> dict:
        """Keyword arguments for ``engine.nets.build_model(self.model, ...)``."""
        kwargs = {"double_softmax": self.double_softmax, "init": self.init}
        if self.model == "mlp":
            kwargs.update(hidden=tuple(self.hidden), activation=self.activation, dropout=self.dropout,
                          out_features=self.out_features)
            if self.dropout_after != "all":  # absent from older checkpoints' sidecars: they mean "all"
                kwargs["dropout_after"] = self.dropout_after
        return kwargs

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["hidden"] = list(self.hidden)
        return d


MAX_PARAMETERS = 50_000_000  # a bigger model is refused before anything is built
MAX_SEED = 2 ** 32 - 1  # numpy's seed range
CLASSES = 10


def check_values(cfg: TrainConfig) -> None:
    """Every field's range (numbers finite), the output layer and the parameter count; a ``ConfigError``."""
    for name in ("lr", "momentum", "weight_decay", "dropout"):
        if not math.isfinite(getattr(cfg, name)):
            raise ConfigError(f"{name} must be a finite number, got {getattr(cfg, name)!r}")
    for name in ("epochs", "batch_size", "lr", "log_every"):
        if not getattr(cfg, name) > 0:
            raise ConfigError(f"{name} must be positive, got {getattr(cfg, name)!r}")
    for name in ("max_steps", "train_subset", "valid_subset", "seed", "weight_decay", "momentum"):
        if getattr(cfg, name) < 0:
            raise ConfigError(f"{name} must be >= 0, got {getattr(cfg, name)!r}")
    if cfg.seed > MAX_SEED:
        raise ConfigError(f"seed must be at most 2**32-1 = {MAX_SEED}, got {cfg.seed}")
    if not 0.0 <= cfg.dropout < 1.0:
        raise ConfigError(f"dropout must be in [0, 1), got {cfg.dropout!r}")
    if cfg.dropout_after not in ("all", "fc1"):
        raise ConfigError(f"dropout_after must be all or fc1, got {cfg.dropout_after!r}")
    if not cfg.hidden or any(isinstance(h, bool) or not isinstance(h, int) or h <= 0 for h in cfg.hidden):
        raise ConfigError(f"hidden must be a non-empty tuple of positive ints, got {cfg.hidden!r}")
    if cfg.device not in ("auto", "cpu", "gpu") and not (cfg.device.startswith("gpu:") and cfg.device[4:].isdigit()):
        raise ConfigError(f"device must be auto, cpu, gpu or gpu:N, got {cfg.device!r}")
    _check_output(cfg)
    count = parameter_count(cfg)
    if count > MAX_PARAMETERS:
        raise ConfigError(f"the model would have {count:,} parameters (hidden={list(cfg.hidden)}); the limit is "
                          f"{MAX_PARAMETERS:,}")


def _check_output(cfg: TrainConfig) -> None:
    """One output for the regression loss; at least one per class for the others (a softmax model has 10)."""
    want = LOSSES[cfg.loss].out_features if cfg.loss in LOSSES else CLASSES
    if cfg.model != "mlp":
        return
    if want == 1 and cfg.out_features != 1:
        raise ConfigError(f"out_features must be 1 for loss {cfg.loss}, got {cfg.out_features}")
    if want != 1 and cfg.out_features < CLASSES:
        raise ConfigError(f"out_features must be at least the {CLASSES} classes for loss {cfg.loss}, "
                          f"got {cfg.out_features}")


def parameter_count(cfg: TrainConfig) -> int:
    """Weights and biases of the model ``cfg`` builds, counted without building it."""
    sizes = [784, *cfg.hidden, cfg.out_features] if cfg.model == "mlp" else [784, CLASSES]
    return sum(a * b + b for a, b in zip(sizes, sizes[1:]))


def check_data_path(path: str) -> None:
    """A data file a run can read: present, a file, and gzip (the course's ``mnist.json.gz`` layout); else one line.

    The content itself is checked by ``datafile.store.read_arrays`` before any run starts.
    """
    if not path:
        return
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"data_path {path}: no such file")
    if not p.is_file():
        raise ConfigError(f"data_path {path}: is a folder, not a data file")
    try:
        with open(p, "rb") as f:
            magic = f.read(2)
    except OSError as exc:
        raise ConfigError(f"data_path {path}: cannot be read ({exc.strerror or exc})") from None
    if magic != b"\x1f\x8b":
        raise ConfigError(f"data_path {path}: not a course data file (expected a gzip-compressed JSON file "
                          "like data/mnist.json.gz)")


_HINTS = None


def _hints() -> dict:
    global _HINTS
    if _HINTS is None:
        _HINTS = typing.get_type_hints(TrainConfig)
    return _HINTS


def check_types(cfg: TrainConfig) -> None:
    for f in fields(cfg):
        want = _hints()[f.name]
        value = getattr(cfg, f.name)
        if want is float and isinstance(value, int) and not isinstance(value, bool):
            object.__setattr__(cfg, f.name, float(value))
            continue
        if want is tuple and isinstance(value, list):
            object.__setattr__(cfg, f.name, tuple(value))
            continue
        ok = isinstance(value, want) and not (want is int and isinstance(value, bool))
        if not ok:
            raise ConfigError(f"{f.name} must be {want.__name__}, got {type(value).__name__} {value!r}")


def from_dict(d: dict, base: TrainConfig | None = None) -> TrainConfig:
    """Build a config from a mapping; unknown keys are an error naming them."""
    known = {f.name for f in fields(TrainConfig)}
    unknown = sorted(set(d) - known)
    if unknown:
        raise ConfigError(f"unknown config key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    return dataclasses.replace(base or TrainConfig(), **d)
