"""The experiment registry: ``@register`` on a function returning an ``Experiment`` (as timm's ``register_model``).

Each study module registers its experiments next to their code; importing
``paddle_mnist.studies`` imports every study module, so the registry is full.

    python -m paddle_mnist list
"""
from __future__ import annotations

from typing import Callable

from paddle_mnist.errors import PaddleMnistError

EXPERIMENTS: dict = {}  # name -> Experiment, in registration order (the report's order of running)


def register(factory: Callable) -> Callable:
    """Register ``factory()``'s experiment under its name; a duplicate name is an error."""
    exp = factory()
    if exp.name in EXPERIMENTS:
        raise ValueError(f"experiment {exp.name!r} registered twice")
    EXPERIMENTS[exp.name] = exp
    return factory


def get_experiment(name: str):
    if name not in EXPERIMENTS:
        raise PaddleMnistError(f"unknown experiment {name!r}; choose from {', '.join(EXPERIMENTS)}")
    return EXPERIMENTS[name]
