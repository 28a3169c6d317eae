"""The experiment registry: experiments are data (frozen dataclasses), not scripts.

Each ``Experiment`` names a base ``TrainConfig``, its variants (overrides applied
with ``dataclasses.replace``), its seeds and its ``--quick`` settings. One engine
(``engine.fit``) runs them all; ``runner.run_experiment`` records the results.

    python -m paddle_mnist list
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from .config import TrainConfig

QUICK = {"epochs": 2, "train_subset": 5000, "valid_subset": 2000, "histograms": False}


@dataclass(frozen=True)
class Experiment:
    name: str
    title: str
    section: str  # the assignment section it reproduces
    base: TrainConfig
    variants: tuple = (("default", {}),)  # (label, overrides) pairs
    seeds: tuple = (0, 1, 2)
    quick: dict = field(default_factory=lambda: dict(QUICK))
    headline: bool = False  # copy the best model to reports/models/<name>.pdparams
    description: str = ""
    # "module:function" for experiments that are not a grid of engine runs (numpy, trajectories, ...):
    # called as function(exp, seeds=..., quick=..., runs_dir=..., workers=...) -> list of run records
    custom: str = ""
    # "module:function" called after the runs as function(exp, runs, quick=...) -> dict merged into the
    # record (e.g. a tuning step that picks the best variant on valid, then scores it)
    post: str = ""

    def configs(self, seeds=None, quick: bool = False, overrides: dict | None = None):
        """``(run_name, label, TrainConfig)`` for every variant x seed."""
        seeds = tuple(seeds) if seeds else (self.seeds[:1] if quick else self.seeds)
        out = []
        for label, variant in self.variants:
            cfg = dataclasses.replace(self.base, **variant)
            if quick:
                cfg = dataclasses.replace(cfg, **self.quick)
            if overrides:
                cfg = dataclasses.replace(cfg, **overrides)
            for seed in seeds:
                out.append((f"{label}-seed{seed}", label, dataclasses.replace(cfg, seed=seed)))
        return out


EXPERIMENTS = {
    "softmax": Experiment(
        name="softmax", title="Softmax classifier", section="1.2.1 / 2.3",
        base=TrainConfig(model="softmax", optimizer="sgd", lr=0.1, epochs=20, batch_size=100),
        headline=True,
        description="Multinomial logistic regression (one Linear(784, 10)), cross entropy on logits, SGD 0.1.",
    ),
    "mlp": Experiment(
        name="mlp", title="Three-layer fully connected net", section="1.2.2 / 2.4",
        base=TrainConfig(model="mlp", hidden=(200, 200), activation="relu", optimizer="adam", lr=1e-3,
                         epochs=20, batch_size=100),
        variants=(("adam", {}), ("adam-cosine", {"lr_schedule": "cosine"})),
        headline=True,
        description="784-200-200-10 ReLU MLP, cross entropy on logits, Adam 1e-3 with a constant learning rate "
                    "and with a per-epoch cosine decay to 0; the variant with the better mean valid accuracy is "
                    "the headline.",
    ),
}


def get_experiment(name: str) -> Experiment:
    if name not in EXPERIMENTS:
        from .errors import PaddleMnistError

        raise PaddleMnistError(f"unknown experiment {name!r}; choose from {', '.join(EXPERIMENTS)}")
    return EXPERIMENTS[name]
