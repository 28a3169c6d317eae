"""Optimizer registry: lowercase name -> ``(config, kit) -> (class, options)``; ``build_optimizer`` builds every one.

Adam is the class the step kit names (``perf.tuned.StepKit.adam``; without a kit,
``perf.tuned.adam_class``): with the tuned settings on (``PADDLE_MNIST_TUNED``) it is
``lean_adam.Adam``, Paddle's multi-tensor Adam (one fused kernel for all
parameters) called without Paddle's per-step Python bookkeeping; same numbers.

    python -m paddle_mnist train optimizers --quick
"""
from __future__ import annotations

from paddle_mnist.perf.tuned import adam_class
# deferred: paddle (loaded on first use, so importing this module stays light)


def sgd(cfg, kit):
    import paddle

    return paddle.optimizer.SGD, {}


def momentum(cfg, kit):
    import paddle

    return paddle.optimizer.Momentum, {"momentum": cfg.momentum}


def nesterov(cfg, kit):
    import paddle

    return paddle.optimizer.Momentum, {"momentum": cfg.momentum, "use_nesterov": True}


def adagrad(cfg, kit):
    import paddle

    return paddle.optimizer.Adagrad, {}


def rmsprop(cfg, kit):
    import paddle

    return paddle.optimizer.RMSProp, {}


def adam(cfg, kit):
    return (kit.adam if kit is not None else adam_class()), {}


OPTIMIZERS = {  # name -> (the optimizer class, its options from the config)
    "sgd": sgd,
    "momentum": momentum,
    "nesterov": nesterov,
    "adagrad": adagrad,
    "rmsprop": rmsprop,
    "adam": adam,
}


SCHEDULES = ("constant", "cosine")


def build_optimizer(name: str, params, cfg, kit=None):
    """The optimizer of ``cfg``; with ``lr_schedule='cosine'`` its learning rate is a per-epoch
    ``CosineAnnealingDecay`` from ``cfg.lr`` towards 0 over ``cfg.epochs`` (step it once per epoch). ``kit`` (a
    ``perf.tuned.StepKit``) names the Adam class."""
    import paddle

    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose from {sorted(OPTIMIZERS)}")
    if cfg.lr_schedule not in SCHEDULES:
        raise ValueError(f"unknown lr_schedule {cfg.lr_schedule!r}; choose from {SCHEDULES}")
    lr = cfg.lr
    if cfg.lr_schedule == "cosine":
        lr = paddle.optimizer.lr.CosineAnnealingDecay(learning_rate=cfg.lr, T_max=cfg.epochs)
    cls, options = OPTIMIZERS[name](cfg, kit)
    return cls(learning_rate=lr, parameters=params, weight_decay=cfg.weight_decay or None, **options)
