"""The ``numpy`` study: seed 004's numpy net with six numpy optimizers, and the assignment's own numpy net.

* The proper net (784-300-300-10 ReLU, softmax cross entropy, batch 100,
  10,000 iterations, float32) trained with every numpy optimizer, next to seed
  004's printed accuracies.
* The assignment's net (sigmoid hidden layers, one output unit regressing the
  digit value, squared error, SGD, batch 20) tuned on ``valid`` over learning
  rate x hidden size x epochs; the chosen point alone is scored once on ``eval``.

    python -m paddle_mnist train numpy --quick --dry-run
"""
from __future__ import annotations

import math
import time

import numpy as np

from paddle_mnist.datafile.store import read_arrays
from paddle_mnist.engine.config import TrainConfig
from paddle_mnist.engine.experiment import Experiment, Job, Stage
from paddle_mnist.engine.pool import parallel_map
from paddle_mnist.perf.env import keep_freed_memory
from paddle_mnist.scratch.net import NumpyMLP
from paddle_mnist.scratch.optim import build_optimizer
from paddle_mnist.studies.registry import register

# ------------------------------------------------------------------ settings
# The proper net of seed 004.
PROPER = {"sizes": (784, 300, 300, 10), "activation": "relu", "batch_size": 100, "iterations": 10000,
          "eval_every": 500, "curve_valid": 2000, "train_acc_n": 10000}
PROPER_QUICK = {**PROPER, "iterations": 300, "eval_every": 100, "curve_valid": 1000, "train_acc_n": 2000}

# (label, optimizer, learning rate, initialisation); seed 004's learning rates, longest runs first.
# "momentum-init0.01" repeats Momentum with seed 004's own N(0, 0.01) weights, to explain its 91.4%.
OPTIMIZER_RUNS = (
    ("adam", "adam", 1e-3, "xavier"),
    ("rmsprop", "rmsprop", 1e-3, "xavier"),
    ("adagrad", "adagrad", 1e-3, "xavier"),
    ("nesterov", "nesterov", 1e-3, "xavier"),
    ("momentum", "momentum", 1e-3, "xavier"),
    ("momentum-init0.01", "momentum", 1e-3, "normal0.01"),
    ("sgd", "sgd", 0.1, "xavier"),
)

# Seed 004's printed test accuracies, at iterations 0, 600, ..., 9,600 (after that iteration's update), on
# 60,000 training images with N(0, 0.01) weights; batches drawn with replacement.
SEED_004_ITERATIONS = tuple(range(0, 10000, 600))
SEED_004_CURVES = {
    "sgd": (0.0865, 0.8873, 0.9221, 0.9464, 0.9549, 0.9646, 0.9685, 0.9711, 0.9721, 0.9751, 0.9783, 0.9772, 0.9759,
            0.9783, 0.9782, 0.9783, 0.9784),
    "adagrad": (0.2231, 0.8645, 0.8829, 0.8919, 0.8967, 0.9008, 0.9036, 0.9068, 0.9089, 0.9093, 0.913, 0.9131,
                0.9141, 0.9142, 0.9166, 0.9171, 0.9191),
    "rmsprop": (0.0958, 0.9633, 0.9702, 0.9732, 0.9748, 0.9778, 0.976, 0.9793, 0.9773, 0.9768, 0.9777, 0.9798,
                0.9769, 0.9776, 0.9774, 0.9751, 0.9759),
    "momentum": (0.0867, 0.1135, 0.2655, 0.4005, 0.6998, 0.79, 0.83, 0.8529, 0.8705, 0.884, 0.8897, 0.8945, 0.899,
                 0.9025, 0.9063, 0.9104, 0.9136),
    "nesterov": (0.0865, 0.1135, 0.2681, 0.4049, 0.7014, 0.7904, 0.8298, 0.8541, 0.8706, 0.8839, 0.89, 0.8949,
                 0.899, 0.9025, 0.9062, 0.9103, 0.914),
    "adam": (0.2231, 0.9549, 0.9681, 0.9707, 0.9751, 0.976, 0.9753, 0.98, 0.9784, 0.9762, 0.9813, 0.9789, 0.9801,
             0.9805, 0.9806, 0.981, 0.9821),
}
# The last printed value of each: Adam 98.21%, RMSProp 97.59%, SGD 97.84%, AdaGrad 91.91%, Momentum 91.36%, ...
SEED_004 = {k: v[-1] for k, v in SEED_004_CURVES.items()}

# The assignment's net (seed 000): sigmoid hidden layers, one output, squared error, batch 20.
ASSIGNMENT = {"lr": (0.03, 0.1, 0.3), "hidden": (50, 100, 200), "max_epochs": 6, "batch_size": 20,
              "train_subset": 0, "valid_subset": 0}
COLLAPSE_EPOCHS = 2
ASSIGNMENT_QUICK = {"lr": (0.03, 0.1), "hidden": (50,), "max_epochs": 2, "batch_size": 20,
                    "train_subset": 5000, "valid_subset": 2000}

# The initialisation study.


def _batches(n: int, batch_size: int, rng: np.random.Generator):
    """Endless shuffled mini-batch indices, a fresh permutation every epoch (last short batch dropped)."""
    while True:
        order = rng.permutation(n)
        for start in range(0, n - batch_size + 1, batch_size):
            yield order[start:start + batch_size]


def _reinit_normal(net: NumpyMLP, std: float, seed: int) -> None:
    """Seed 004's initialisation: weights ``std * N(0, 1)``, biases zero."""
    rng = np.random.default_rng(seed)
    for k, v in net.params.items():
        v[...] = std * rng.standard_normal(v.shape) if k.endswith("weight") else 0.0


# ------------------------------------------------ numpy: proper net x optimizers
def train_numpy_net(job: dict) -> dict:
    """Train the 784-300-300-10 numpy net with one optimizer; a run record (valid/eval scored at the end)."""
    s = job["settings"]
    started = time.perf_counter()
    keep_freed_memory()
    arrays = read_arrays(job.get("data_path"))
    x, y = (np.asarray(a) for a in arrays["train"])
    vx, vy = (np.asarray(a) for a in arrays["valid"])
    n = len(y)
    net = NumpyMLP(s["sizes"], activation=s["activation"], dtype=np.float32, seed=job["seed"])
    if job["init"] == "normal0.01":
        _reinit_normal(net, 0.01, job["seed"])
    opt = build_optimizer(job["optimizer"], job["lr"])
    batches = _batches(n, s["batch_size"], np.random.default_rng(job["seed"]))
    steps_per_epoch = n // s["batch_size"]
    hist = {"epoch": [], "iteration": [], "train_loss": [], "valid_acc": [], "update_rms": []}
    prev = {k: v.copy() for k, v in net.params.items()}
    status, interval, step = "ok", [], 0
    for step in range(1, s["iterations"] + 1):
        idx = next(batches)
        loss, grads = net.loss_and_grads(x[idx], y[idx])
        if not math.isfinite(loss):
            status = "diverged"
            break
        opt.step(net.params, grads)
        interval.append(loss)
        if step % s["eval_every"] == 0 or step == s["iterations"]:
            moved = sum(float(np.sum((net.params[k] - prev[k]).astype(np.float64) ** 2)) for k in prev)
            n_since = step - (hist["iteration"][-1] if hist["iteration"] else 0)
            hist["update_rms"].append(math.sqrt(moved / net.num_parameters()) / n_since)
            prev = {k: v.copy() for k, v in net.params.items()}
            hist["epoch"].append(step / steps_per_epoch)
            hist["iteration"].append(step)
            hist["train_loss"].append(float(np.mean(interval)))
            hist["valid_acc"].append(net.accuracy(vx[:s["curve_valid"]], vy[:s["curve_valid"]]))
            interval = []
    valid_acc = test_acc = train_acc = None
    if status == "ok":
        valid_acc = net.accuracy(vx, vy)
        ex, ey = arrays["eval"]
        test_acc = net.accuracy(np.asarray(ex), np.asarray(ey))  # scored once, at the end
        train_acc = net.accuracy(x[:s["train_acc_n"]], y[:s["train_acc_n"]])
    return {"name": f"{job['label']}-seed{job['seed']}", "variant": job["label"], "optimizer": job["optimizer"],
            "lr": job["lr"], "init": job["init"], "seed": job["seed"], "status": status,
            "iterations": step, "planned_iterations": s["iterations"], "eval_every": s["eval_every"],
            "batch_size": s["batch_size"], "sizes": list(s["sizes"]), "dtype": "float32",
            "history": hist, "best_valid_acc": valid_acc, "valid_acc": valid_acc, "test_acc": test_acc,
            "train_acc": train_acc, "train_acc_n": s["train_acc_n"], "curve_valid": s["curve_valid"],
            "reference_test_acc": SEED_004.get(job["label"]),
            "seconds": time.perf_counter() - started}


def train_numpy_net_safe(job: dict) -> dict:
    """``train_numpy_net``, with an exception recorded as a ``failed`` run instead of raised."""
    try:
        return train_numpy_net(job)
    except Exception as exc:  # one failed run is recorded; the others go on
        import traceback

        traceback.print_exc()
        s = job["settings"]
        return {"name": f"{job['label']}-seed{job['seed']}", "variant": job["label"], "optimizer": job["optimizer"],
                "lr": job["lr"], "init": job["init"], "seed": job["seed"], "status": "failed",
                "error": f"{type(exc).__name__}: {exc}", "iterations": 0, "planned_iterations": s["iterations"],
                "eval_every": s["eval_every"], "batch_size": s["batch_size"],
                "sizes": list(s["sizes"]), "dtype": "float32",
                "history": {"epoch": [], "iteration": [], "train_loss": [], "valid_acc": [], "update_rms": []},
                "best_valid_acc": None, "valid_acc": None, "test_acc": None, "train_acc": None,
                "train_acc_n": s["train_acc_n"], "curve_valid": s["curve_valid"],
                "reference_test_acc": SEED_004.get(job["label"]), "seconds": 0.0}



def numpy_plan(exp, s):
    """Every entry of ``OPTIMIZER_RUNS`` x seed, then the assignment net's grid; choose on valid, score eval once."""
    settings = PROPER_QUICK if s.quick else PROPER
    jobs = [Job(f"{label}-seed{seed}", label, {"label": label, "optimizer": opt, "lr": lr, "init": init,
                                                "seed": seed, "settings": settings, "data_path": s.data_path})
            for seed in s.seeds for label, opt, lr, init in OPTIMIZER_RUNS]
    runs = yield Stage("numpy optimizers", jobs, fn=train_numpy_net_safe)
    grid = ASSIGNMENT_QUICK if s.quick else ASSIGNMENT
    seed = s.seeds[0]
    points = [Job(f"assignment_lr{lr:g}_h{h}", "assignment", {"lr": lr, "hidden": h, "seed": seed, "grid": grid,
                                                              "data_path": s.data_path})
              for h in sorted(grid["hidden"], reverse=True) for lr in grid["lr"]]  # biggest nets first
    started = time.perf_counter()
    grid_runs = yield Stage("assignment net grid", points, fn=train_assignment_point)
    if s.dry_run:
        return runs, {}
    return runs, {"search": score_assignment(grid_runs, grid, s.data_path, started)}


def train_assignment_point(job: dict) -> dict:
    """Train the sigmoid / squared-error / one-output net at one (lr, hidden); valid after every epoch.

    Only ``train`` and ``valid`` are read. The weights of the run's best epoch
    (by valid accuracy, then valid loss) come back under ``'state'``. A run whose
    valid squared error is still no better than always answering the mean train
    label (the label variance, ~8.3) after ``COLLAPSE_EPOCHS`` epochs has
    collapsed to the mean and stops there (status ``'collapsed'``).
    """
    g = job["grid"]
    started = time.perf_counter()
    keep_freed_memory()
    arrays = read_arrays(job.get("data_path"))
    x, y = (np.asarray(a) for a in arrays["train"])
    vx, vy = (np.asarray(a) for a in arrays["valid"])
    if g["train_subset"]:
        x, y = x[:g["train_subset"]], y[:g["train_subset"]]
    if g["valid_subset"]:
        vx, vy = vx[:g["valid_subset"]], vy[:g["valid_subset"]]
    h = job["hidden"]
    net = NumpyMLP((784, h, h, 1), activation="sigmoid", output="mse", dtype=np.float32, seed=job["seed"])
    opt = build_optimizer("sgd", job["lr"])
    rng = np.random.default_rng(job["seed"])
    hist = {"epoch": [], "train_loss": [], "valid_loss": [], "valid_acc": []}
    mean_label_loss = float(np.mean((vy - y.mean()) ** 2))
    status, best, state = "ok", None, None
    with np.errstate(over="ignore", invalid="ignore"):
        for epoch in range(1, g["max_epochs"] + 1):
            order, losses = rng.permutation(len(y)), []
            for start in range(0, len(y) - g["batch_size"] + 1, g["batch_size"]):
                idx = order[start:start + g["batch_size"]]
                loss, grads = net.loss_and_grads(x[idx], y[idx])
                if not math.isfinite(loss):
                    status = "diverged"
                    break
                opt.step(net.params, grads)
                losses.append(loss)
            if status != "ok":
                break
            valid_loss = net.loss(vx, vy)
            valid_acc = net.accuracy(vx, vy)
            for k, v in (("epoch", epoch), ("train_loss", float(np.mean(losses))), ("valid_loss", valid_loss),
                         ("valid_acc", valid_acc)):
                hist[k].append(v)
            if best is None or (valid_acc, -valid_loss) > (best[1], -best[2]):
                best, state = (epoch, valid_acc, valid_loss), net.state_dict()
            if epoch >= COLLAPSE_EPOCHS and valid_loss >= 0.99 * mean_label_loss:
                status = "collapsed"
                break
    return {"lr": job["lr"], "hidden": h, "seed": job["seed"], "status": status, "history": hist,
            "best_epoch": best and best[0], "best_valid_acc": best and best[1], "best_valid_loss": best and best[2],
            "seconds": time.perf_counter() - started, "state": state}


def choose_point(grid_runs: list[dict]) -> dict:
    """The (lr, hidden, epochs) with the best valid accuracy (ties: lower valid loss). Uses valid only."""
    ok = [r for r in grid_runs if r["best_epoch"] is not None]
    if not ok:
        raise RuntimeError("every point of the assignment-net search diverged in its first epoch")
    best = max(ok, key=lambda r: (r["best_valid_acc"], -r["best_valid_loss"]))
    return {"lr": best["lr"], "hidden": best["hidden"], "epochs": best["best_epoch"],
            "valid_acc": best["best_valid_acc"], "valid_loss": best["best_valid_loss"]}



def assignment_search(*, quick: bool = False, seed: int = 0, workers: int = 1, data_path=None, log=print) -> dict:
    """Grid search of the assignment's net on ``valid``; the chosen point alone is scored on ``eval``."""
    grid = ASSIGNMENT_QUICK if quick else ASSIGNMENT
    started = time.perf_counter()
    jobs = [{"lr": lr, "hidden": h, "seed": seed, "grid": grid, "data_path": data_path}
            for h in sorted(grid["hidden"], reverse=True) for lr in grid["lr"]]
    log(f"[numpy] assignment net: {len(jobs)} grid points x up to {grid['max_epochs']} epochs")
    return score_assignment(parallel_map(train_assignment_point, jobs, workers), grid, data_path, started)


def score_assignment(runs: list[dict], grid: dict, data_path, started: float) -> dict:
    """The grid's choice on ``valid``; the chosen point alone is then scored on ``eval``."""
    choice = choose_point(runs)  # decided on valid only ...
    state = next(r["state"] for r in runs if r["lr"] == choice["lr"] and r["hidden"] == choice["hidden"])
    arrays = read_arrays(data_path)
    ex, ey = (np.asarray(a) for a in arrays["eval"])  # ... then eval, once, for that point alone
    h = choice["hidden"]
    net = NumpyMLP((784, h, h, 1), activation="sigmoid", output="mse", dtype=np.float32)
    net.set_state_dict(state)
    result = {"acc": net.accuracy(ex, ey), "loss": net.loss(ex, ey)}
    ty = np.asarray(arrays["train"][1])[:grid["train_subset"] or None]
    vy = np.asarray(arrays["valid"][1])[:grid["valid_subset"] or None]
    mean_label = float(ty.mean())
    rounded = np.clip(np.rint(mean_label), 0, 9)
    baseline = {"mean_label": mean_label, "valid_acc": float(np.mean(vy == rounded)),
                "valid_loss_rounded": float(np.mean((vy - rounded) ** 2)),
                "valid_loss": float(np.mean((vy - mean_label) ** 2))}
    for r in runs:
        r.pop("state")
    return {"grid": {k: (list(v) if isinstance(v, tuple) else v) for k, v in grid.items()}, "runs": runs,
            "choice": choice, "eval": result, "baseline": baseline, "seconds": time.perf_counter() - started}



@register
def numpy() -> Experiment:
    return Experiment(
        name="numpy", title="The numpy nets: the assignment's sigmoid regressor and six numpy optimizers",
        section="1.2.2 (numpy) / seed 004",
        base=TrainConfig(model="mlp", hidden=(300, 300), optimizer="adam", lr=1e-3, batch_size=100),
        seeds=(0,),
        plan=numpy_plan,
        description="Numpy from scratch, float32. (a) The 784-300-300-10 ReLU net with softmax cross entropy, "
                    "batch 100, 10,000 iterations (20 epochs), trained with each numpy optimizer at seed 004's "
                    "learning rates (SGD 0.1, the others 0.001), plus Momentum from seed 004's N(0, 0.01) weights; "
                    "valid and eval scored once at the end. (b) The assignment's net (sigmoid hidden layers, one "
                    "output unit regressing the digit, squared error, SGD, batch 20): learning rate x hidden "
                    "units x epochs chosen on valid, the chosen point scored once on eval.",
    )
