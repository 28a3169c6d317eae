"""``TrainConfig``: one frozen dataclass describing one training run.

Unknown keys, wrong types and out-of-range values are ``ConfigError``s; variants
are built with ``dataclasses.replace`` (see ``experiments.py``).

    python -m paddle_mnist train mlp --epochs 3 --lr 0.001
"""
from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, fields

from paddle_mnist.errors import ConfigError


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
        positive = {"epochs": self.epochs, "batch_size": self.batch_size, "lr": self.lr, "log_every": self.log_every}
        for name, value in positive.items():
            if not value > 0:
                raise ConfigError(f"{name} must be positive, got {value!r}")
        for name in ("max_steps", "train_subset", "valid_subset", "seed", "weight_decay", "momentum"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {self.dropout!r}")
        if self.dropout_after not in ("all", "fc1"):
            raise ConfigError(f"dropout_after must be all or fc1, got {self.dropout_after!r}")
        if not self.hidden or any(isinstance(h, bool) or not isinstance(h, int) or h <= 0 for h in self.hidden):
            raise ConfigError(f"hidden must be a non-empty tuple of positive ints, got {self.hidden!r}")
        if self.device not in ("auto", "cpu", "gpu") and not self.device.startswith("gpu:"):
            raise ConfigError(f"device must be auto, cpu, gpu or gpu:N, got {self.device!r}")

    def model_kwargs(self) -> dict:
        """Keyword arguments for ``models.build_model(self.model, ...)``."""
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
