"""Two toy tests of source 002's words about Momentum, RMSProp and Adam (numpy, deterministic, seeded starts).

* Leaving the plateau near a saddle (002 §1.2, "它们能帮助尽早走出平稳段"): SGD, Momentum, RMSProp and Adam at
  one rate (``SADDLE``'s 0.01, Paddle's other defaults) from each seed's start near the saddle of
  ``z = x**2 + y**4 / 4 - y**2 / 2`` (``trajectories.saddle_loss``): the step at which each leaves it.
* Damping a zig-zag (002 §8, "前后梯度方向不一致时,动量梯度下降能够抑制震荡"): plain gradient descent and Momentum
  at the same rate on the elongated bowl ``z = x**2 / 10 + y**2`` (source 003's toy loss) from seeded starts, at
  rates where gradient descent zig-zags across the steep y axis (0.5 < lr < 1). 002's Momentum averages the
  gradients (``v = b v + (1 - b) g``, ``w -= a v``), which is Paddle's rule (``v = b v + g``, ``w -= lr v``) at
  ``lr = a (1 - b)``; Paddle's rule at the same number ``lr = a`` is kept beside it.

Nothing here writes files; ``studies.trajectories`` stores both parts in the trajectories record.

    python -c "from paddle_mnist.scratch.plateau import plateau_study; print(plateau_study([0])['runs'][0])"
"""
from __future__ import annotations

import numpy as np

from paddle_mnist.scratch.trajectories import SADDLE, numpy_path, saddle_escape, saddle_start, toy_loss

PLATEAU_OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam")
OSCILLATION = {"rates": (0.6, 0.8, 0.95), "momentum": 0.9, "steps": 20, "x_range": (4.0, 10.0),
               "y_range": (1.0, 3.0)}
# arm -> (numpy optimizer, the Paddle learning rate for 002's rate a)
OSCILLATION_ARMS = {"gd": ("sgd", lambda a, b: a), "momentum-002": ("momentum", lambda a, b: a * (1 - b)),
                    "momentum-paddle": ("momentum", lambda a, b: a)}


def plateau_study(seeds, settings: dict = SADDLE) -> dict:
    """Per seed, the four optimizers from that seed's start near the saddle: the step at which each first gets
    farther than ``radius`` from it (None: not within ``max_steps``) and its distance after ``steps`` steps;
    ``status`` is ``diverged`` when the path left the finite numbers."""
    runs = []
    for seed in seeds:
        start = saddle_start(seed, settings)
        for name in PLATEAU_OPTIMIZERS:
            r = saddle_escape(name, start, settings)
            path = r.pop("path")
            ok = bool(np.isfinite(path).all() and np.isfinite(r["final"]).all())
            runs.append({**r, "seed": seed, "status": "ok" if ok else "diverged"})
    return {"settings": {k: (list(v) if isinstance(v, tuple) else v) for k, v in settings.items()}, "runs": runs}


def oscillation_start(seed: int, settings: dict = OSCILLATION) -> tuple[float, float]:
    """A seeded start on the bowl: |x| uniform in ``x_range``, |y| uniform in ``y_range``, random signs."""
    rng = np.random.default_rng(seed)
    x = rng.choice((-1.0, 1.0)) * rng.uniform(*settings["x_range"])
    return float(x), float(rng.choice((-1.0, 1.0)) * rng.uniform(*settings["y_range"]))


def flip_share(moves) -> float:
    """The share of steps whose move changes sign against the step before (0: never, 1: every step)."""
    m = np.asarray(moves, dtype=np.float64)
    return float((np.sign(m[1:]) * np.sign(m[:-1]) < 0).mean()) if len(m) > 1 else 0.0


def oscillation_words(path) -> dict:
    """A path's zig-zag: the share of steps whose y move (the steep axis) and whose x move flip sign, the share of
    steps at which the loss rose, and the final loss."""
    p = np.asarray(path, dtype=np.float64)
    d, z = np.diff(p, axis=0), toy_loss(p[:, 0], p[:, 1])
    return {"y_flip_share": flip_share(d[:, 1]), "x_flip_share": flip_share(d[:, 0]),
            "rise_share": float((np.diff(z) > 0).mean()), "final_loss": float(z[-1])}


def oscillation_study(seeds, settings: dict = OSCILLATION) -> dict:
    """Per seed's start and rate: gradient descent, 002's Momentum and Paddle's Momentum at the same number (each
    with its ``steps`` + 1 points)."""
    runs = []
    for seed in seeds:
        start = oscillation_start(seed, settings)
        for rate in settings["rates"]:
            for arm, (name, lr) in OSCILLATION_ARMS.items():
                kw = {"momentum": settings["momentum"]} if name == "momentum" else {}
                paddle_lr = lr(rate, settings["momentum"])
                path = numpy_path(name, paddle_lr, settings["steps"], start, **kw)
                ok = bool(np.isfinite(path).all())
                runs.append({"seed": seed, "start": list(start), "rate": rate, "arm": arm, "paddle_lr": paddle_lr,
                             "status": "ok" if ok else "diverged", **(oscillation_words(path) if ok else {}),
                             "path": path.tolist()})
    return {"settings": {k: (list(v) if isinstance(v, tuple) else v) for k, v in settings.items()}, "runs": runs}
