"""What the optimizer claims share (000 §2.7, 001, 003): the optimizers' names, the experiment that decides them,
and ``adadelta_lr_zero()``, the tiny deterministic measurement behind source 003's AdaDelta claim. Their rules are
data (``claim_specs``), decided by ``rules``.

    python -c "from paddle_mnist.studies.claim_rules_opt import adadelta_lr_zero; print(adadelta_lr_zero())"
"""
from __future__ import annotations

import numpy as np

from paddle_mnist.scratch.optim import AdaDelta

OPT_MISSING = "the `optimizers` study (python -m paddle_mnist train optimizers)"
OPT_NAMES = {"sgd": "SGD", "momentum": "Momentum", "adagrad": "Adagrad", "adam": "Adam", "rmsprop": "RMSProp"}


def adadelta_lr_zero(steps: int = 10, seed: int = 0) -> dict:
    """Largest parameter move of Paddle's AdaDelta rule at lr=0 and of the textbook rule, on fixed gradients.

    The numpy rule is checked against ``paddle.optimizer.Adadelta`` by tests/test_adadelta.py.
    """
    rng = np.random.default_rng(seed)
    p0, grads = rng.normal(size=(3, 4)), [rng.normal(size=(3, 4)) for _ in range(steps)]
    moves = {}
    for key, opt in (("paddle_rule_lr0_max_move", AdaDelta(lr=0.0)),
                     ("textbook_rule_max_move", AdaDelta(lr=0.0, textbook=True))):
        p = {"w": p0.copy()}
        for g in grads:
            opt.step(p, {"w": g})
        moves[key] = float(np.abs(p["w"] - p0).max())
    return {**moves, "steps": steps}
