"""Optimizer registry: lowercase name -> factory ``(parameters, config) -> paddle.optimizer``.

Adam and Momentum use Paddle's multi-tensor update when tuned settings are on
(``PADDLE_MNIST_TUNED``, see ``_env.py``): one fused step for all parameters.

    python -m paddle_mnist train optimizers --quick
"""
from __future__ import annotations

from ._env import tuned_enabled


def _wd(cfg):
    return cfg.weight_decay or None


def sgd(params, cfg):
    import paddle

    return paddle.optimizer.SGD(learning_rate=cfg.lr, parameters=params, weight_decay=_wd(cfg))


def momentum(params, cfg):
    import paddle

    return paddle.optimizer.Momentum(learning_rate=cfg.lr, momentum=cfg.momentum, parameters=params,
                                     weight_decay=_wd(cfg))


def nesterov(params, cfg):
    import paddle

    return paddle.optimizer.Momentum(learning_rate=cfg.lr, momentum=cfg.momentum, parameters=params,
                                     use_nesterov=True, weight_decay=_wd(cfg))


def adagrad(params, cfg):
    import paddle

    return paddle.optimizer.Adagrad(learning_rate=cfg.lr, parameters=params, weight_decay=_wd(cfg))


def rmsprop(params, cfg):
    import paddle

    return paddle.optimizer.RMSProp(learning_rate=cfg.lr, parameters=params, weight_decay=_wd(cfg))


def adam(params, cfg):
    import paddle

    return paddle.optimizer.Adam(learning_rate=cfg.lr, parameters=params, weight_decay=_wd(cfg),
                                 use_multi_tensor=tuned_enabled())


OPTIMIZERS = {
    "sgd": sgd,
    "momentum": momentum,
    "nesterov": nesterov,
    "adagrad": adagrad,
    "rmsprop": rmsprop,
    "adam": adam,
}


def build_optimizer(name: str, params, cfg):
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose from {sorted(OPTIMIZERS)}")
    return OPTIMIZERS[name](params, cfg)
