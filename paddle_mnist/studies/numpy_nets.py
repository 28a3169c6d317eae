"""The ``numpy`` study: source 004's numpy net with six numpy optimizers, and the assignment's own numpy net.

* The proper net (784-300-300-10 ReLU, softmax cross entropy, batch 100,
  10,000 iterations, float32) trained with every numpy optimizer from each of
  the seeds (0, 1, 2), next to source 004's printed accuracies.
* The assignment's net (``studies.numpy_assignment``: sigmoid hidden layers, one
  output unit regressing the digit value, squared error, SGD, batch 20) tuned on
  ``valid`` over learning rate x hidden size x epochs at the first seed; the
  chosen point is trained from every seed and each is scored once on ``eval``.

Every job runs in a process started with the pinned numpy environment
(``perf.numpy_pin``: one OpenBLAS thread, the Haswell kernels, numpy's AVX2
loops), so the numbers do not depend on the thread count or the CPU model; the
record's ``settings.numpy_pin`` holds that environment and what the workers ran.

    python -m paddle_mnist train numpy --quick --dry-run
"""
from __future__ import annotations

import json
import math
import time
import traceback

import numpy as np

from paddle_mnist.datafile.store import read_arrays
from paddle_mnist.engine.config import TrainConfig
from paddle_mnist.engine.experiment import Experiment, Job, Stage
from paddle_mnist.perf.env import keep_freed_memory
from paddle_mnist.perf.numpy_pin import numpy_pin_env, pinned_runtime, shown_env
from paddle_mnist.scratch.net import NumpyMLP
from paddle_mnist.scratch.optim import build_optimizer
from paddle_mnist.studies import numpy_assignment as assignment
from paddle_mnist.studies.numpy_assignment import weights_digest
from paddle_mnist.studies.registry import register

# ------------------------------------------------------------------ settings
# The proper net of source 004.
PROPER = {"sizes": (784, 300, 300, 10), "activation": "relu", "batch_size": 100, "iterations": 10000,
          "eval_every": 500, "curve_valid": 2000, "train_acc_n": 10000}
PROPER_QUICK = {**PROPER, "iterations": 300, "eval_every": 100, "curve_valid": 1000, "train_acc_n": 2000}

# (label, optimizer, learning rate, initialisation); source 004's learning rates, longest runs first.
# "momentum-init0.01" repeats Momentum with source 004's own N(0, 0.01) weights, to explain its 91.4%.
OPTIMIZER_RUNS = (
    ("adam", "adam", 1e-3, "xavier"),
    ("rmsprop", "rmsprop", 1e-3, "xavier"),
    ("adagrad", "adagrad", 1e-3, "xavier"),
    ("nesterov", "nesterov", 1e-3, "xavier"),
    ("momentum", "momentum", 1e-3, "xavier"),
    ("momentum-init0.01", "momentum", 1e-3, "normal0.01"),
    ("sgd", "sgd", 0.1, "xavier"),
)

# Source 004's printed test accuracies, at iterations 0, 600, ..., 9,600 (after that iteration's update), on
# 60,000 training images with N(0, 0.01) weights; batches drawn with replacement.
SOURCE_004_ITERATIONS = tuple(range(0, 10000, 600))
SOURCE_004_CURVES = {
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
SOURCE_004 = {k: v[-1] for k, v in SOURCE_004_CURVES.items()}



def _batches(n: int, batch_size: int, rng: np.random.Generator):
    """Endless shuffled mini-batch indices, a fresh permutation every epoch (last short batch dropped)."""
    while True:
        order = rng.permutation(n)
        for start in range(0, n - batch_size + 1, batch_size):
            yield order[start:start + batch_size]


def _reinit_normal(net: NumpyMLP, std: float, seed: int) -> None:
    """Source 004's initialisation: weights ``std * N(0, 1)``, biases zero."""
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
        loss = net.train_step(x[idx], y[idx], opt)
        if not math.isfinite(loss):
            status = "diverged"
            break
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
            "reference_test_acc": SOURCE_004.get(job["label"]), "weights_digest": weights_digest(net.params),
            "kind": "optimizer", "runtime": pinned_runtime(), "seconds": time.perf_counter() - started}


def train_numpy_net_safe(job: dict) -> dict:
    """``train_numpy_net``, with an exception recorded as a ``failed`` run instead of raised."""
    try:
        return train_numpy_net(job)
    except Exception as exc:  # one failed run is recorded; the others go on

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
                "reference_test_acc": SOURCE_004.get(job["label"]), "kind": "optimizer", "seconds": 0.0}


def run_numpy_job(job: dict) -> dict:
    """One job of the study, by its ``kind``: an optimizer run, a grid point or a rerun of the chosen point.

    ``cpu_seconds`` (this process's CPU time for the job) sits next to the wall-clock ``seconds``: on a shared
    machine the wall clock also counts other people's processes.
    """
    cpu = time.process_time()
    if job["kind"] == "optimizer":
        record = train_numpy_net_safe(job)
    else:
        fn = assignment.train_point if job["kind"] == "assignment" else assignment.rerun_point
        record = {**fn(job), "runtime": pinned_runtime()}
    return {**record, "cpu_seconds": time.process_time() - cpu}


def numpy_plan(exp, s):
    """The grid at the first seed, then every ``OPTIMIZER_RUNS`` x seed with the chosen point's reruns.

    Stage 1 chooses on ``valid``; stage 2 holds the long runs (longest first) and the chosen point from every
    seed (each scored once on ``eval``), so two workers stay busy to the end. Every job runs in a process
    started with ``perf.numpy_pin.numpy_pin_env()``.
    """
    settings = PROPER_QUICK if s.quick else PROPER
    grid = assignment.ASSIGNMENT_QUICK if s.quick else assignment.ASSIGNMENT
    pin = numpy_pin_env()
    points = [Job(f"assignment_lr{j['lr']:g}_h{j['hidden']}", "assignment", j, {"kind": "assignment"})
              for j in assignment.grid_points(grid, s.seeds[0], s.data_path)]
    found = yield Stage("assignment net grid", points, fn=run_numpy_job, env=pin)
    seen = [r.pop("runtime") for r in found if "runtime" in r]  # what each worker ran (settings.numpy_pin)
    grid_runs = [{"lr": j.config["lr"], "hidden": j.config["hidden"], **r} for j, r in zip(points, found)]
    choice = assignment.choose_point(grid_runs)  # valid only
    opt = [Job(f"{label}-seed{seed}", label, {"kind": "optimizer", "label": label, "optimizer": name, "lr": lr,
                                              "init": init, "seed": seed, "settings": settings,
                                              "data_path": s.data_path}, {"kind": "optimizer"})
           for label, name, lr, init in OPTIMIZER_RUNS for seed in s.seeds]  # longest first
    again = [Job(f"assignment_chosen-seed{j['seed']}", "assignment-chosen", j, {"kind": "assignment_seed"})
             for j in assignment.rerun_jobs(choice, grid, s.seeds, s.data_path)]
    done = yield Stage("numpy optimizers and the chosen assignment net", opt + again, fn=run_numpy_job, env=pin)
    seen += [r.pop("runtime") for r in done if "runtime" in r]
    by_name = {j.name: r for j, r in zip(opt, done)}
    runs = [by_name[f"{label}-seed{seed}"] for seed in s.seeds for label, *_ in OPTIMIZER_RUNS]
    if s.dry_run:
        return runs, {}
    reruns = done[len(opt):]
    search = assignment.summarise_search(grid_runs, choice, reruns, grid, s.data_path,
                                         sum(r["seconds"] for r in found + reruns))
    pinned = {"env": shown_env(pin), "runtime": list({json.dumps(v, sort_keys=True): v for v in seen}.values())}
    return runs, {"search": search, "settings": {"numpy_pin": pinned}}


@register
def numpy() -> Experiment:
    return Experiment(
        name="numpy", title="The numpy nets: the assignment's sigmoid regressor and six numpy optimizers",
        section="1.2.2 (numpy) / source 004",
        base=TrainConfig(model="mlp", hidden=(300, 300), optimizer="adam", lr=1e-3, batch_size=100),
        seeds=(0, 1, 2),
        plan=numpy_plan,
        settable=("device", "data_path"),
        description="Numpy from scratch, float32. (a) The 784-300-300-10 ReLU net with softmax cross entropy, "
                    "batch 100, 10,000 iterations (20 epochs), trained with each numpy optimizer at source 004's "
                    "learning rates (SGD 0.1, the others 0.001), plus Momentum from source 004's N(0, 0.01) weights; "
                    "valid and eval scored once at the end; every run from seeds 0, 1 and 2. (b) The assignment's "
                    "net (sigmoid hidden layers, one output unit regressing the digit, squared error, SGD, batch "
                    "20): learning rate x hidden units x epochs chosen on valid at seed 0, the chosen point "
                    "trained from each seed and scored once on eval. Every job runs with numpy's BLAS and SIMD "
                    "pinned (one OpenBLAS thread, its Haswell kernels, numpy's AVX2 loops).",
    )
