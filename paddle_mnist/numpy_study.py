"""The ``numpy``, ``trajectories`` and ``init`` experiments (custom runners for ``runner.run_experiment``).

* ``numpy``: the proper numpy net (784-300-300-10 ReLU, softmax cross entropy,
  batch 100, 10,000 iterations, float32) trained with every numpy optimizer
  (``numpy_runs``), next to seed 004's printed accuracies; then, as the
  experiment's ``post`` step (``numpy_post``), the assignment's own net
  (sigmoid, squared error, one output unit regressing the digit value) tuned on
  ``valid`` over learning rate x hidden size x epochs, the chosen point scored
  once on ``eval``.
* ``trajectories``: the toy loss ``z = x**2/10 + y**2`` from (-7, 2), 20 steps,
  numpy and ``paddle.optimizer`` paths (``trajectories_runs``), with the exact
  SGD check as ``post`` (``trajectories_post``).
* ``init``: zero / N(0, 1) / N(0, 0.01) / Xavier / MSRA weights for sigmoid,
  tanh and ReLU MLPs, a short fixed budget through the Paddle engine
  (``init_runs``), and the histograms of every hidden layer's activations at
  initialisation on 1,000 real training images (``init_post``).

Every function has the custom/post signature of ``runner.run_experiment`` and
returns JSON-able data; ``workers > 1`` runs the numpy trainings in spawned
processes with one BLAS thread each.

    python -m paddle_mnist train numpy --quick
"""
from __future__ import annotations

import contextlib
import math
import os
import time

import numpy as np

from .data import read_arrays
from .numpy_net import NumpyMLP
from .numpy_optim import build_optimizer

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


def _seeds(exp, seeds, quick: bool) -> tuple:
    return tuple(seeds) if seeds else (tuple(exp.seeds[:1]) if quick else tuple(exp.seeds))


def _data_path(overrides) -> str | None:
    return (overrides or {}).get("data_path") or None


# ------------------------------------------------------------ worker processes
@contextlib.contextmanager
def single_thread_env():
    """One BLAS/OpenMP thread in processes started inside this block (two numpy workers on two cores)."""
    names = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    saved = {k: os.environ.get(k) for k in names}
    os.environ.update({k: "1" for k in names})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


# (set, get) function names of the OpenBLAS builds numpy ships or links against
_OPENBLAS_CALLS = (("scipy_openblas_set_num_threads64_", "scipy_openblas_get_num_threads64_"),
                   ("scipy_openblas_set_num_threads", "scipy_openblas_get_num_threads"),
                   ("openblas_set_num_threads64_", "openblas_get_num_threads64_"),
                   ("openblas_set_num_threads", "openblas_get_num_threads"))


def _openblas_handles() -> list:
    """``(set_num_threads, get_num_threads)`` of every OpenBLAS library loaded in this process (Linux)."""
    import ctypes

    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as fh:
            paths = sorted({line.split()[-1] for line in fh if "openblas" in line.lower()
                            and line.split()[-1].startswith("/")})
    except OSError:
        return []
    handles = []
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for set_name, get_name in _OPENBLAS_CALLS:
            if hasattr(lib, set_name) and hasattr(lib, get_name):
                handles.append((getattr(lib, set_name), getattr(lib, get_name)))
                break
    return handles


@contextlib.contextmanager
def blas_threads(n: int = 1):
    """Run numpy's OpenBLAS with ``n`` threads inside the block (restored after); yields the libraries found.

    On a busy machine OpenBLAS's spinning threads collapse: 300 Adam steps of the
    784-300-300-10 net took 25 s with two threads and 1.4 s with one while
    other processes held the cores.
    """
    handles = _openblas_handles()
    saved = [get() for _, get in handles]
    for set_threads, _ in handles:
        set_threads(n)
    try:
        yield len(handles)
    finally:
        for (set_threads, _), k in zip(handles, saved):
            set_threads(k)


def parallel_map(fn, jobs: list, workers: int = 1) -> list:
    """``[fn(job) for job in jobs]``, in ``workers`` spawned processes when ``workers > 1`` (order kept).

    Either way numpy's BLAS runs one thread per process: here through
    ``blas_threads(1)``, in the workers through ``OMP_NUM_THREADS=1``.
    """
    if workers <= 1 or len(jobs) <= 1:
        with blas_threads(1):
            return [fn(job) for job in jobs]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with single_thread_env(), ProcessPoolExecutor(max_workers=min(workers, len(jobs)),
                                                  mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(fn, jobs))


_MALLOC_TUNED = False


def keep_freed_memory() -> bool:
    """Ask glibc to keep freed heap memory (no trim, no mmap below 32 MB); ``False`` where unavailable.

    Every numpy step allocates and frees a few MB of temporaries (``Adam`` ~10
    arrays the size of ``fc1.weight``); by default glibc gives that memory back
    to the OS at once and page-faults it in again on the next step, which made
    ``Adam.step`` 3.4x slower (2.9 ms instead of 0.85 ms per step here).
    """
    global _MALLOC_TUNED
    if _MALLOC_TUNED:
        return True
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        # M_TRIM_THRESHOLD = -1, M_MMAP_THRESHOLD = -3 (malloc.h)
        _MALLOC_TUNED = bool(libc.mallopt(-1, 256 * 1024 * 1024)) and bool(libc.mallopt(-3, 32 * 1024 * 1024))
    except (OSError, AttributeError):
        _MALLOC_TUNED = False
    return _MALLOC_TUNED


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


def numpy_runs(exp, *, seeds=None, overrides=None, runs_dir="runs", quick=False, resume=False, workers=1,
               progress=None, log=print) -> list[dict]:
    """Custom runner of ``numpy``: every entry of ``OPTIMIZER_RUNS`` x seed."""
    settings = PROPER_QUICK if quick else PROPER
    jobs = [{"label": label, "optimizer": opt, "lr": lr, "init": init, "seed": seed, "settings": settings,
             "data_path": _data_path(overrides)}
            for seed in _seeds(exp, seeds, quick) for label, opt, lr, init in OPTIMIZER_RUNS]
    log(f"[numpy] {len(jobs)} numpy runs of {settings['iterations']} iterations, {workers} worker(s)")
    runs = parallel_map(train_numpy_net_safe, jobs, workers)
    for r in runs:
        log(f"[numpy] {r['name']}: {r['status']} valid={r['valid_acc']} test={r['test_acc']} "
            f"({r['seconds']:.1f} s)")
    return runs


# ------------------------------------------------ numpy: the assignment's net
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
            for h in sorted(grid["hidden"], reverse=True) for lr in grid["lr"]]  # biggest nets first
    log(f"[numpy] assignment net: {len(jobs)} grid points x up to {grid['max_epochs']} epochs")
    runs = parallel_map(train_assignment_point, jobs, workers)
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
    baseline = {"mean_label": mean_label, "valid_acc": float(np.mean(vy == np.clip(np.rint(mean_label), 0, 9))),
                "valid_loss": float(np.mean((vy - mean_label) ** 2))}
    for r in runs:
        r.pop("state")
    log(f"[numpy] assignment net: chose lr={choice['lr']} hidden={h} epochs={choice['epochs']} "
        f"(valid {choice['valid_acc']:.4f}) -> eval {result['acc']:.4f}")
    return {"grid": {k: (list(v) if isinstance(v, tuple) else v) for k, v in grid.items()}, "runs": runs,
            "choice": choice, "eval": result, "baseline": baseline, "seconds": time.perf_counter() - started}


def numpy_post(exp, runs, *, seeds=None, overrides=None, runs_dir="runs", quick=False, resume=False, workers=1,
               progress=None, log=print) -> dict:
    """Post step of ``numpy``: the assignment-net search, under ``'search'``."""
    seed = _seeds(exp, seeds, quick)[0]
    return {"search": assignment_search(quick=quick, seed=seed, workers=workers, data_path=_data_path(overrides),
                                        log=log)}


# -------------------------------------------------------------- trajectories
SGD_EXPECTED = (-0.1035, 0.2432)


def trajectories_runs(exp, *, seeds=None, overrides=None, runs_dir="runs", quick=False, resume=False, workers=1,
                      progress=None, log=print) -> list[dict]:
    """Custom runner of ``trajectories``: one record per optimizer with its numpy and Paddle paths."""
    from .trajectories import START, STEPS, run_trajectories, toy_loss

    runs = []
    for name, entry in run_trajectories().items():
        ours, theirs = np.array(entry["numpy"]), np.array(entry["paddle"])
        runs.append({"name": name, "status": "ok", "optimizer": name, "lr": entry["lr"], "steps": STEPS,
                     "start": list(START),
                     "numpy": entry["numpy"], "paddle": entry["paddle"], "final": entry["final"],
                     "paddle_final": theirs[-1].tolist(), "final_loss": float(toy_loss(*ours[-1])),
                     "max_abs_diff": float(np.abs(ours - theirs).max()),
                     "loss_path": [float(toy_loss(px, py)) for px, py in ours]})
        log(f"[trajectories] {name} lr={entry['lr']}: final ({ours[-1][0]:.4f}, {ours[-1][1]:.4f}), "
            f"numpy vs paddle max diff {runs[-1]['max_abs_diff']:.1e}")
    return runs


def trajectories_post(exp, runs, **_) -> dict:
    """The exact check: plain SGD (lr 0.95) ends at (-0.1035, 0.2432), in numpy and in Paddle."""
    sgd = next(r for r in runs if r["optimizer"] == "sgd")
    got = [round(v, 4) for v in sgd["final"]]
    got_paddle = [round(v, 4) for v in sgd["paddle_final"]]
    return {"check": {"sgd_final": got, "sgd_paddle_final": got_paddle, "expected": list(SGD_EXPECTED),
                      "passed": got == list(SGD_EXPECTED) and got_paddle == list(SGD_EXPECTED),
                      "max_numpy_paddle_diff": max(r["max_abs_diff"] for r in runs)}}


# -------------------------------------------------------------------- init
def init_configs(seed: int = 0, quick: bool = False, overrides=None) -> list:
    """``(run_name, label, TrainConfig)`` for every optimizer x activation x initialisation."""
    import dataclasses

    from .config import TrainConfig

    out = []
    for opt, lr in INIT_OPTIMIZERS:
        for act in INIT_ACTIVATIONS:
            for init in INIT_SCHEMES:
                cfg = TrainConfig(model="mlp", hidden=INIT_HIDDEN, activation=act, init=init, optimizer=opt, lr=lr,
                                  epochs=1, batch_size=100, seed=seed, histograms=False,
                                  max_steps=INIT_STEPS_QUICK if quick else INIT_STEPS,
                                  valid_subset=2000 if quick else 0)
                if overrides:
                    cfg = dataclasses.replace(cfg, **overrides)
                out.append((f"{opt}-{act}-{init}-seed{seed}", f"{opt}/{act}/{init}", cfg))
    return out


def init_runs(exp, *, seeds=None, overrides=None, runs_dir="runs", quick=False, resume=False, workers=1,
              progress=None, log=print) -> list[dict]:
    """Custom runner of ``init``: a short fixed budget per (optimizer, activation, init) via the engine."""
    from .runner import run_configs

    configs = [c for seed in _seeds(exp, seeds, quick) for c in init_configs(seed, quick, overrides)]
    runs = run_configs(exp.name, configs, runs_dir=runs_dir, quick=quick, resume=resume, workers=workers,
                       progress=progress, log=log)
    for r in runs:
        cfg = r["config"]
        r.update(optimizer=cfg["optimizer"], activation=cfg["activation"], init=cfg["init"])
    return runs


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

    from .models import MLP

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


def init_post(exp, runs, *, seeds=None, overrides=None, quick=False, **_) -> dict:
    """Post step of ``init``: activation histograms at initialisation and the study's setup."""
    seed = _seeds(exp, seeds, quick)[0]
    return {"histograms": activation_histograms(seed, _data_path(overrides)),
            "setup": {"hidden": list(INIT_HIDDEN), "steps": INIT_STEPS_QUICK if quick else INIT_STEPS,
                      "batch_size": 100, "optimizers": [list(o) for o in INIT_OPTIMIZERS],
                      "activations": list(INIT_ACTIVATIONS), "inits": list(INIT_SCHEMES),
                      "hist_images": HIST_IMAGES, "seed": seed}}
