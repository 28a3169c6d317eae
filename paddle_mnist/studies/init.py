"""The ``init`` study (source 003): zero, N(0, 1), N(0, 0.01), Xavier and MSRA weights for sigmoid, tanh and ReLU MLPs.

A short fixed budget per (optimizer, activation, init) through the engine at the
first seed (the grid), histograms of every hidden layer's activations at
initialisation on 1,000 real training images, and the nets of source 003's 表1
(``TABLE1``: one layer, two layers, the multi-layer rows) with SGD 0.1 at every
seed, with each 表1 multi-layer net's activation shape per seed (``table1_shapes``).

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
GRID_NET = "784-100x5-10"
# source 003's 表1, row by row: (net, activation, init) trained with SGD 0.1 at every seed; "784-10" is softmax
# regression (no hidden layer, so no activation), "784-100-10" one sigmoid hidden layer; N(0, 1) is its 随机初始化
TABLE1 = (("784-10", "none", "zero"), ("784-100-10", "sigmoid", "zero"), ("784-100-10", "sigmoid", "normal"),
          (GRID_NET, "sigmoid", "normal"), (GRID_NET, "tanh", "xavier"), (GRID_NET, "relu", "xavier"),
          (GRID_NET, "relu", "msra"))
TABLE1_OPTIMIZER = ("sgd", 0.1)
NETS = {"784-10": ({"model": "softmax"}, "modelsoftmax-"), "784-100-10": ({"hidden": (100,)}, "hidden100-"),
        GRID_NET: ({}, "")}  # net -> (config fields, run-name prefix: what differs from the study's base)
SIGMOID_EDGE, SIGMOID_CENTRE = (0.1, 0.9), (0.4, 0.6)  # "凹形": share in [0, .1) or (.9, 1] vs in [.4, .6]
MAJORITY_CLASS = 0.1135  # the eval split's most frequent class: 1,135 of its 10,000 images are 1s (chance)
NEAR_ZERO = 0.1  # "偏向0": a ReLU activation at or below 0.1 x the first hidden layer's std


def _config(s, seed: int, opt: str, lr: float, act: str, init: str, net: str = GRID_NET) -> TrainConfig:
    fields, _ = NETS[net]
    cfg = TrainConfig(model="mlp", hidden=INIT_HIDDEN, activation="relu" if act == "none" else act, init=init,
                      optimizer=opt, lr=lr, epochs=1, batch_size=100, seed=seed, histograms=False,
                      max_steps=INIT_STEPS_QUICK if s.quick else INIT_STEPS, valid_subset=2000 if s.quick else 0)
    return dataclasses.replace(cfg, **{**fields, **s.overrides})


def table1_name(net: str, act: str, init: str) -> str:
    """A 表1 run's name without its seed: what differs from the study's base net (``sgd-hidden100-sigmoid-zero``)."""
    prefix = NETS[net][1]
    opt = TABLE1_OPTIMIZER[0]
    return f"{opt}-{prefix}{init}" if act == "none" else f"{opt}-{prefix}{act}-{init}"


def table1_variant(net: str, act: str, init: str) -> str:
    """The variant of a 表1 row's runs (``sgd/hidden100/sigmoid/zero``; a multi-layer row's is the grid's)."""
    return table1_name(net, act, init).replace("-", "/")


def grid_runs(record: dict) -> list[dict]:
    """The grid's runs (every optimizer x activation x init on ``GRID_NET`` at the first seed), without 表1's others."""
    seed = (record.get("setup") or {}).get("seed", 0)
    return [r for r in record["runs"] if r.get("net", GRID_NET) == GRID_NET and r.get("seed", seed) == seed]


def init_plan(exp, s):
    """Every optimizer x activation x initialisation at the first seed (the grid), then source 003's 表1 nets
    (``TABLE1``) with SGD 0.1 at every seed (a multi-layer row's first-seed run is the grid's)."""
    jobs, first = [], s.seeds[0]
    for opt, lr in INIT_OPTIMIZERS:
        for act in INIT_ACTIVATIONS:
            for init in INIT_SCHEMES:
                jobs.append(Job(f"{opt}-{act}-{init}-seed{first}", f"{opt}/{act}/{init}",
                                _config(s, first, opt, lr, act, init),
                                {"optimizer": opt, "activation": act, "init": init, "net": GRID_NET}))
    opt, lr = TABLE1_OPTIMIZER
    for seed in s.seeds:
        for net, act, init in TABLE1:
            if net == GRID_NET and seed == first:
                continue
            jobs.append(Job(f"{table1_name(net, act, init)}-seed{seed}", table1_variant(net, act, init),
                            _config(s, seed, opt, lr, act, init, net),
                            {"optimizer": opt, "activation": act, "init": init, "net": net}))
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


def _shape(values: np.ndarray, activation: str, first_std: float) -> dict:
    """One layer's std and the shares 表1's words are measured by: sigmoid "凹形" (``edge`` in [0, 0.1) or (0.9, 1]
    against ``centre`` in [0.4, 0.6], bands of equal width), ReLU "偏向0" (``near_zero``: at or below ``NEAR_ZERO`` x
    the first hidden layer's std, zeros included)."""
    v = values.astype(np.float64).ravel()
    out = {"std": float(v.std())}
    if activation == "sigmoid":
        out["edge"] = float(np.mean((v < SIGMOID_EDGE[0]) | (v > SIGMOID_EDGE[1])))
        out["centre"] = float(np.mean((v >= SIGMOID_CENTRE[0]) & (v <= SIGMOID_CENTRE[1])))
    elif activation == "relu":
        out["near_zero"] = float(np.mean(v <= NEAR_ZERO * first_std))
    return out


def table1_shapes(seeds, data_path=None, n_images: int = HIST_IMAGES) -> dict:
    """``{"act/init": [{"seed", "layers": [shape per hidden layer]}, ...]}`` for 表1's multi-layer rows: the initial
    weights of their runs (``paddle.seed(seed)`` then the model, as ``engine.fit`` builds it)."""
    import paddle

    from paddle_mnist.engine.nets import MLP

    x = paddle.to_tensor(np.asarray(read_arrays(data_path)["train"][0][:n_images]))
    out = {}
    with paddle.no_grad():
        for net, act, init in TABLE1:
            if net != GRID_NET:
                continue
            out[f"{act}/{init}"] = []
            for seed in seeds:
                paddle.seed(seed)
                layers = [h.numpy() for h in MLP(hidden=INIT_HIDDEN, activation=act, init=init).hidden_activations(x)]
                first = float(layers[0].astype(np.float64).std())
                out[f"{act}/{init}"].append({"seed": seed, "layers": [_shape(h, act, first) for h in layers]})
    return out


def init_post(exp, runs, s) -> dict:
    """Post step of ``init``: activation histograms at initialisation, 表1's shapes per seed and the setup."""
    seed = s.seeds[0]
    return {"histograms": activation_histograms(seed, s.data_path),
            "table1": {"shapes": table1_shapes(s.seeds, s.data_path), "seeds": list(s.seeds),
                       "optimizer": list(TABLE1_OPTIMIZER), "rows": [list(r) for r in TABLE1],
                       "sigmoid_edge": list(SIGMOID_EDGE), "sigmoid_centre": list(SIGMOID_CENTRE),
                       "near_zero": NEAR_ZERO},
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
        seeds=(0, 1, 2, 3, 4),
        plan=init_plan,
        analyse=init_post,
        fixed={**{k: "sets optimizer, lr, activation and init per run; use `train mlp --set optimizer=... --set "
                     "lr=... --set activation=... --set init=...`" for k in ("optimizer", "lr", "activation", "init")},
               **{k: "trains 784-10, 784-100-10 and 784-100x5-10 nets (source 003's 表1), so model and hidden-layer "
                     "settings cannot apply to every run; use `train mlp --set hidden=... --set init=...`"
                  for k in ("model", "hidden", "dropout", "dropout_after", "out_features")}},
        description="784-100x5-10 MLPs with sigmoid, tanh or ReLU hidden layers and zero, N(0, 1), N(0, 0.01), "
                    "Xavier (normal) or MSRA/He (normal) weights, biases zero: activation histograms of every "
                    "hidden layer at initialisation on 1,000 training images, and accuracy after one epoch "
                    "(500 steps of batch 100) with SGD 0.1 and with Adam 0.001 at the first seed; and source 003's "
                    "表1 nets with SGD 0.1 at every seed: softmax regression (784-10) with zero weights, 784-100-10 "
                    "sigmoid with zero or N(0, 1) weights, 784-100x5-10 sigmoid/N(0, 1), tanh/Xavier, ReLU/Xavier "
                    "and ReLU/MSRA, with each multi-layer net's activation shape at initialisation per seed.",
    )
