"""The studies, one module each; importing this package fills the experiment registry.

``baseline`` (softmax, mlp), ``loss``, ``dropout``, ``optimizers``, ``course`` (source
000's own setup), ``hparams``, ``numpy_nets``, ``trajectories``, ``init``, ``practice``
register in this order (the order ``reproduce`` runs them); ``determinism`` is the
same-seed check; ``claims``
decides the verdicts on the original report's claims; ``stats`` holds the
statistics they share.

    python -m paddle_mnist list
"""
# registration order = the order ``reproduce`` runs them
from paddle_mnist.studies import baseline  # noqa: F401  (softmax, mlp)
from paddle_mnist.studies import loss  # noqa: F401
from paddle_mnist.studies import dropout  # noqa: F401
from paddle_mnist.studies import optimizers  # noqa: F401
from paddle_mnist.studies import course  # noqa: F401
from paddle_mnist.studies import hparams  # noqa: F401
from paddle_mnist.studies import numpy_nets  # noqa: F401
from paddle_mnist.studies import trajectories  # noqa: F401
from paddle_mnist.studies import init  # noqa: F401
from paddle_mnist.studies import practice  # noqa: F401
from paddle_mnist.studies.registry import EXPERIMENTS, get_experiment
from paddle_mnist.engine.runner import run_experiment as run


def run_experiment(name: str, **kwargs) -> dict:
    """``engine.runner.run_experiment`` of the registered experiment ``name``."""
    return run(get_experiment(name), **kwargs)


__all__ = ["EXPERIMENTS", "get_experiment", "run_experiment"]
