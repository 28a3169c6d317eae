"""Optimizer trajectories on the toy loss ``z = x**2 / 10 + y**2`` (source 003), and near a saddle point (source 000).

Each optimizer starts at ``(-7, 2)`` and takes 20 steps; the path is computed
twice, with the numpy optimizers of ``paddle_mnist.scratch.optim`` and with the
matching ``paddle.optimizer`` class on one float64 parameter of shape ``[2]``
(``nesterov`` is ``paddle.optimizer.Momentum(use_nesterov=True)``), so the two
implementations check each other. Learning rates are those of source 003 (SGD
0.95, Momentum 0.1, RMSProp 0.5, Adam 0.5) plus AdaGrad 1.5, Nesterov 0.1 and
AdaDelta 1.0 (the textbook rule, which has no rate); every other hyperparameter is
Paddle's default. ``path_words`` measures source 003's words about a path (zig-zag,
sudden turns, overshoot) and ``steps_to_loss`` counts the steps to z <= 0.005.

The saddle toy ``z = x**2 + y**4 / 4 - y**2 / 2`` (``saddle_loss``) has a saddle at
the origin (curving up along x, down along y) and minima ``-1/4`` at ``(0, +-1)``;
``saddle_escape`` follows SGD and Momentum (numpy) from seeded starts near it.

``run_trajectories()`` returns a plain JSON-able dict; nothing here plots or
writes files, and paddle is only imported when a Paddle path is computed.

    python -c "from paddle_mnist.scratch.trajectories import run_trajectories as r; print({k: v['final'] for k, v in r().items()})"
"""
from __future__ import annotations

import numpy as np

from paddle_mnist.scratch.optim import NUMPY_OPTIMIZERS
# deferred: paddle (loaded on first use, so importing this module stays light)

START = (-7.0, 2.0)
STEPS = 20

# optimizer name -> learning rate used for its trajectory
TRAJECTORY_SETTINGS = {
    "sgd": 0.95,
    "momentum": 0.1,
    "rmsprop": 0.5,
    "adam": 0.5,
    "adagrad": 1.5,
    "nesterov": 0.1,
    "adadelta": 1.0,  # Paddle's rule at lr 1 is the textbook rule of 003's framework (no learning rate)
}


def toy_loss(x, y):
    """``x**2 / 10 + y**2``: an elongated bowl with its minimum 0 at the origin."""
    return x**2 / 10.0 + y**2


def toy_grad(xy: np.ndarray) -> np.ndarray:
    """Gradient ``(x / 5, 2 y)`` of ``toy_loss`` at ``xy = [x, y]``."""
    return np.array([xy[0] / 5.0, 2.0 * xy[1]])


def numpy_path(name: str, lr: float, steps: int = STEPS, start=START, grad=toy_grad, **opt_kwargs) -> np.ndarray:
    """Points ``[steps + 1, 2]`` visited by numpy optimizer ``name`` (start included) on the loss whose gradient
    is ``grad`` (default: the bowl's)."""
    if name not in NUMPY_OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose from {sorted(NUMPY_OPTIMIZERS)}")
    opt = NUMPY_OPTIMIZERS[name](lr=lr, **opt_kwargs)
    params = {"xy": np.array(start, dtype=np.float64)}
    path = [params["xy"].copy()]
    for _ in range(steps):
        opt.step(params, {"xy": grad(params["xy"])})
        path.append(params["xy"].copy())
    return np.stack(path)


def paddle_optimizer(name: str, lr: float, parameters, **opt_kwargs):
    """The ``paddle.optimizer`` matching numpy optimizer ``name`` (same keyword arguments)."""
    import paddle

    classes = {
        "sgd": paddle.optimizer.SGD,
        "momentum": paddle.optimizer.Momentum,
        "nesterov": paddle.optimizer.Momentum,
        "adagrad": paddle.optimizer.Adagrad,
        "rmsprop": paddle.optimizer.RMSProp,
        "adam": paddle.optimizer.Adam,
        "adadelta": paddle.optimizer.Adadelta,
    }
    if name not in classes:
        raise ValueError(f"unknown optimizer {name!r}; choose from {sorted(classes)}")
    if name == "nesterov":
        opt_kwargs = {**opt_kwargs, "use_nesterov": True}
    return classes[name](learning_rate=lr, parameters=parameters, **opt_kwargs)


def paddle_path(name: str, lr: float, steps: int = STEPS, start=START, **opt_kwargs) -> np.ndarray:
    """Points ``[steps + 1, 2]`` visited by the Paddle optimizer ``name`` on a float64 parameter."""
    import paddle

    xy = paddle.create_parameter(
        shape=[2],
        dtype="float64",
        default_initializer=paddle.nn.initializer.Assign(np.array(start, dtype=np.float64)),
    )
    opt = paddle_optimizer(name, lr, [xy], **opt_kwargs)
    path = [xy.numpy().copy()]
    for _ in range(steps):
        loss = toy_loss(xy[0], xy[1])
        loss.backward()
        opt.step()
        opt.clear_grad()
        path.append(xy.numpy().copy())
    return np.stack(path)


def run_trajectories(settings: dict | None = None, steps: int = STEPS, start=START) -> dict:
    """``{name: {'lr', 'numpy': [[x, y], ...], 'paddle': [[x, y], ...], 'final': [x, y]}}``.

    ``final`` is the numpy path's last point; ``settings`` maps names to
    learning rates (default ``TRAJECTORY_SETTINGS``).
    """
    settings = TRAJECTORY_SETTINGS if settings is None else settings
    out = {}
    for name, lr in settings.items():
        np_path = numpy_path(name, lr, steps, start)
        pd_path = paddle_path(name, lr, steps, start)
        out[name] = {
            "lr": float(lr),
            "numpy": np_path.tolist(),
            "paddle": pd_path.tolist(),
            "final": np_path[-1].tolist(),
        }
    return out


# ------------------------------------------------------------------ source 003's words about a path, measured
TARGET_LOSS = 0.005  # 003 §3.2 counts the steps "得到loss值等于0.005"
MAX_STEPS = 10_000
OVERSHOOT_STEPS = 100  # steps followed for the overshoot and its correction
CURVE_STEPS = 200  # steps of the loss curve kept in the record (the steps-to-0.005 figure)


def steps_to_loss(name: str, lr: float, target: float = TARGET_LOSS, max_steps: int = MAX_STEPS) -> int | None:
    """The first step at which the numpy path's toy loss is at most ``target`` (None: not within ``max_steps``,
    or the path left the finite numbers)."""
    path = numpy_path(name, lr, max_steps)
    z = toy_loss(path[:, 0], path[:, 1])
    hit = np.flatnonzero(np.isfinite(z) & (z <= target))
    return int(hit[0]) if len(hit) and np.isfinite(z[:hit[0] + 1]).all() else None


def path_words(path) -> dict:
    """Zig-zag: the share of steps whose y move flips sign against the step before; sudden turn: the largest
    angle (degrees) between consecutive steps; both over the whole ``path`` (zero-length steps skipped)."""
    d = np.diff(np.asarray(path, dtype=np.float64), axis=0)
    flips = np.sign(d[1:, 1]) * np.sign(d[:-1, 1]) < 0
    norm = np.linalg.norm(d, axis=1)
    keep = (norm[1:] > 0) & (norm[:-1] > 0)
    cos = (d[1:] * d[:-1]).sum(1)[keep] / (norm[1:] * norm[:-1])[keep]
    return {"y_flip_share": float(flips.mean()) if len(flips) else 0.0,
            "max_turn_deg": float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))).max()) if keep.any() else 0.0}


def overshoot(name: str, lr: float, steps: int = OVERSHOOT_STEPS) -> dict:
    """Along x (the shallow axis, the start's far coordinate): the step at which the path first crosses the
    minimum's x = 0, how far beyond it goes (``excursion``, a share of the start's |x|), the step of that
    farthest point, and the step at which it crosses back (None: not within ``steps``)."""
    xs = numpy_path(name, lr, steps)[:, 0]
    cross = np.flatnonzero(xs[:-1] * xs[1:] < 0)
    if not len(cross):
        return {"crosses": False, "cross_step": None, "excursion": 0.0, "peak_step": None, "back_step": None,
                "steps": steps}
    first = int(cross[0]) + 1
    after = xs[first:]
    beyond = np.sign(after) == np.sign(xs[first])
    end = int(np.argmin(beyond)) if not beyond.all() else len(after)
    peak = first + int(np.argmax(np.abs(after[:end])))
    return {"crosses": True, "cross_step": first, "excursion": float(abs(xs[peak]) / abs(xs[0])),
            "peak_step": peak, "back_step": first + end if end < len(after) else None, "steps": steps}


def adagrad_rates(lr: float, steps: int = STEPS, start=START, epsilon: float = 1e-6) -> list[list[float]]:
    """AdaGrad's effective per-coordinate step size ``lr / (sqrt(G) + epsilon)`` after each of ``steps`` steps
    (Paddle's rule, ``G`` the running sum of squared gradients) along its path on the toy loss."""
    path = numpy_path("adagrad", lr, steps, start, epsilon=epsilon)
    g2 = np.cumsum(np.stack([toy_grad(p) for p in path[:-1]]) ** 2, axis=0)
    return (lr / (np.sqrt(g2) + epsilon)).tolist()


# ------------------------------------------------------------------ a saddle point (source 000 §2.7)
SADDLE = {"lr": 0.01, "momentum": 0.9, "radius": 0.5, "steps": 200, "max_steps": 3000,
          "x_range": 0.3, "y_range": (1e-4, 1e-3)}


def saddle_loss(x, y):
    """``x**2 + y**4 / 4 - y**2 / 2``: a saddle at (0, 0) (z = 0) between the minima (0, +-1) (z = -1/4)."""
    return x**2 + y**4 / 4.0 - y**2 / 2.0


def saddle_grad(xy: np.ndarray) -> np.ndarray:
    """Gradient ``(2 x, y**3 - y)`` of ``saddle_loss``."""
    return np.array([2.0 * xy[0], xy[1] ** 3 - xy[1]])


def saddle_start(seed: int, settings: dict = SADDLE) -> tuple[float, float]:
    """A seeded start near the saddle: x uniform in +-x_range, |y| log-uniform in y_range with a random sign."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-settings["x_range"], settings["x_range"])
    lo, hi = np.log10(settings["y_range"][0]), np.log10(settings["y_range"][1])
    return float(x), float(rng.choice((-1.0, 1.0)) * 10 ** rng.uniform(lo, hi))


def saddle_escape(name: str, start, settings: dict = SADDLE) -> dict:
    """Numpy ``sgd`` or ``momentum`` from ``start`` on ``saddle_loss``: ``max_steps`` steps.

    ``escape_step``: the first step at which the point is farther than ``radius`` from the saddle (None if it
    never is); ``distance``: its distance from the saddle after ``steps`` steps; ``path``: the first
    ``steps`` + 1 points.
    """
    kwargs = {"momentum": settings["momentum"]} if name == "momentum" else {}
    path = numpy_path(name, settings["lr"], settings["max_steps"], start, grad=saddle_grad, **kwargs)
    dist = np.hypot(path[:, 0], path[:, 1])
    out = np.flatnonzero(dist > settings["radius"])
    return {"optimizer": name, "start": [float(v) for v in start],
            "escape_step": int(out[0]) if len(out) else None, "distance": float(dist[settings["steps"]]),
            "final": path[-1].tolist(), "final_loss": float(saddle_loss(*path[-1])),
            "path": path[:settings["steps"] + 1].tolist()}
