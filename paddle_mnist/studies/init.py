"""The ``init`` study (source 003): zero, N(0, 1), N(0, 0.01), Xavier and MSRA weights for sigmoid, tanh and ReLU MLPs.

A short fixed budget per (optimizer, activation, init) through the engine, and
histograms of every hidden layer's activations at initialisation on 1,000 real
training images.

    python -m paddle_mnist train init --quick --dry-run
"""
from __future__ import annotations

import dataclasses

import numpy as np

from paddle_mnist.datafile.store import read_arrays
from paddle_mnist.engine.config import TrainConfig
from paddle_mnist.engine.experiment import Experiment, Job, Stage
from paddle_mnist.studies.registry import register
# deferred: paddle (loaded on first use, so importing this module stays light)

INIT_SCHEMES = ("zero", "normal", "normal_small", "xavier", "msra")
INIT_LABELS = {"zero": "zero", "normal": "N(0, 1)", "normal_small": "N(0, 0.01)", "xavier": "Xavier",
               "msra": "MSRA / He"}
INIT_ACTIVATIONS = ("sigmoid", "tanh", "relu")
INIT_OPTIMIZERS = (("sgd", 0.1), ("adam", 1e-3))
INIT_HIDDEN = (100, 100, 100, 100, 100)
INIT_STEPS = 500  # one epoch of batch 100
INIT_STEPS_QUICK = 60
HIST_IMAGES = 1000
HIST_BINS = 40
RELU_LOG10_RANGE = (-8.0, 6.0)  # clipped into the end bins


def init_plan(exp, s):
    """Every optimizer x activation x initialisation x seed, one short run each."""
    jobs = []
    for seed in s.seeds:
        for opt, lr in INIT_OPTIMIZERS:
            for act in INIT_ACTIVATIONS:
                for init in INIT_SCHEMES:
                    cfg = TrainConfig(model="mlp", hidden=INIT_HIDDEN, activation=act, init=init, optimizer=opt,
                                      lr=lr, epochs=1, batch_size=100, seed=seed, histograms=False,
                                      max_steps=INIT_STEPS_QUICK if s.quick else INIT_STEPS,
                                      valid_subset=2000 if s.quick else 0)
                    if s.overrides:
                        cfg = dataclasses.replace(cfg, **s.overrides)
                    jobs.append(Job(f"{opt}-{act}-{init}-seed{seed}", f"{opt}/{act}/{init}", cfg,
                                    {"optimizer": opt, "activation": act, "init": init}))
    runs = yield Stage("initialisations", jobs)
    return runs, {}


def _histogram(values: np.ndarray, activation: str) -> dict:
    """Counts over a fixed range per activation: sigmoid [0, 1], tanh [-1, 1], ReLU log10 of the positive values.

    Also the mean, std, min and max, and the fraction of saturated units
    (sigmoid below 0.02 or above 0.98, |tanh| above 0.98) or of zeros (ReLU).
    """
    values = values.astype(np.float64).ravel()
    stats = {"mean": float(values.mean()), "std": float(values.std()), "max": float(values.max()),
             "min": float(values.min())}
    if activation == "sigmoid":
        lo, hi = 0.0, 1.0
        stats["saturated"] = float(np.mean((values < 0.02) | (values > 0.98)))
    elif activation == "tanh":
        lo, hi = -1.0, 1.0
        stats["saturated"] = float(np.mean(np.abs(values) > 0.98))
    else:  # ReLU: the scale changes by orders of magnitude from layer to layer, so log10 of the positive part
        stats["zero"] = float(np.mean(values <= 0))
        values = np.log10(values[values > 0])
        lo, hi = RELU_LOG10_RANGE
        stats["log10"] = True
    counts, edges = np.histogram(np.clip(values, lo, hi), bins=HIST_BINS, range=(lo, hi))
    return {"counts": counts.tolist(), "edges": edges.tolist(), **stats}


def activation_histograms(seed: int = 0, data_path=None, n_images: int = HIST_IMAGES) -> dict:
    """``{activation: {init: [layer histogram, ...]}}`` of an untrained ``MLP(INIT_HIDDEN)`` on real images.

    The model is built right after ``paddle.seed(seed)``, as ``engine.fit`` does,
    so these are the initial weights of the matching ``init`` runs.
    """
    import paddle

    from paddle_mnist.engine.nets import MLP

    x = np.asarray(read_arrays(data_path)["train"][0][:n_images])
    out = {}
    with paddle.no_grad():
        for act in INIT_ACTIVATIONS:
            out[act] = {}
            for init in INIT_SCHEMES:
                paddle.seed(seed)
                model = MLP(hidden=INIT_HIDDEN, activation=act, init=init)
                layers = model.hidden_activations(paddle.to_tensor(x))
                out[act][init] = [_histogram(h.numpy(), act) for h in layers]
    return out


def init_post(exp, runs, s) -> dict:
    """Post step of ``init``: activation histograms at initialisation and the study's setup."""
    seed = s.seeds[0]
    return {"histograms": activation_histograms(seed, s.data_path),
            "setup": {"hidden": list(INIT_HIDDEN), "steps": INIT_STEPS_QUICK if s.quick else INIT_STEPS,
                      "batch_size": 100, "optimizers": [list(o) for o in INIT_OPTIMIZERS],
                      "activations": list(INIT_ACTIVATIONS), "inits": list(INIT_SCHEMES),
                      "hist_images": HIST_IMAGES, "seed": seed}}


@register
def init() -> Experiment:
    return Experiment(
        name="init", title="Weight initialisation: zero, N(0, 1), N(0, 0.01), Xavier, MSRA", section="source 003",
        base=TrainConfig(model="mlp", hidden=(100, 100, 100, 100, 100), optimizer="sgd", lr=0.1, epochs=1,
                         max_steps=500, histograms=False),
        seeds=(0,),
        plan=init_plan,
        analyse=init_post,
        fixed={k: "sets optimizer, lr, activation and init per run; use `train mlp --set optimizer=... --set "
                  "lr=... --set activation=... --set init=...`" for k in ("optimizer", "lr", "activation", "init")},
        description="784-100x5-10 MLPs with sigmoid, tanh or ReLU hidden layers and zero, N(0, 1), N(0, 0.01), "
                    "Xavier (normal) or MSRA/He (normal) weights, biases zero: activation histograms of every "
                    "hidden layer at initialisation on 1,000 training images, and accuracy after one epoch "
                    "(500 steps of batch 100) with SGD 0.1 and with Adam 0.001.",
    )
