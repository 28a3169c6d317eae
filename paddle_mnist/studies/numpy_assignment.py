"""The assignment's own numpy net (source 000, 1.2): sigmoid hidden layers, one output regressing the digit, SGD.

Part of the ``numpy`` study (``studies.numpy_nets``): a grid of learning rate x hidden
size x epochs at the first seed, chosen on ``valid`` only (``choose_point``); then the
chosen point is trained from every seed and each is scored once on ``eval``
(``rerun_point``). ``assignment_search`` runs the same steps outside the study.

    python -c "from paddle_mnist.studies.numpy_assignment import assignment_search; print(assignment_search(quick=True)['eval'])"
"""
from __future__ import annotations

import hashlib
import math
import time

import numpy as np

from paddle_mnist.datafile.store import read_arrays
from paddle_mnist.engine.pool import parallel_map
from paddle_mnist.perf.env import keep_freed_memory
from paddle_mnist.scratch.net import NumpyMLP
from paddle_mnist.scratch.optim import build_optimizer
from paddle_mnist.studies.stats import mean_std

ASSIGNMENT = {"lr": (0.03, 0.1, 0.3), "hidden": (50, 100, 200), "max_epochs": 6, "batch_size": 20,
              "train_subset": 0, "valid_subset": 0}
COLLAPSE_EPOCHS = 2
ASSIGNMENT_QUICK = {"lr": (0.03, 0.1), "hidden": (50,), "max_epochs": 2, "batch_size": 20,
                    "train_subset": 5000, "valid_subset": 2000}


def weights_digest(params: dict) -> str:
    """The first 16 hex digits of the SHA-256 of every parameter's bytes, in key order (same bits, same digest)."""
    h = hashlib.sha256()
    for k in sorted(params):
        h.update(k.encode())
        h.update(np.ascontiguousarray(params[k]).tobytes())
    return h.hexdigest()[:16]


def grid_points(grid: dict, seed: int, data_path) -> list[dict]:
    """One job per (hidden, lr), biggest nets first (the longest runs start first)."""
    return [{"kind": "assignment", "lr": lr, "hidden": h, "seed": seed, "grid": grid, "data_path": data_path}
            for h in sorted(grid["hidden"], reverse=True) for lr in grid["lr"]]


def _subset(arrays: dict, mode: str, n: int):
    x, y = (np.asarray(a) for a in arrays[mode])
    return (x[:n], y[:n]) if n else (x, y)


def _fit(job: dict, max_epochs: int):
    """Train at ``job``'s (lr, hidden, seed) for up to ``max_epochs`` epochs; only ``train`` and ``valid`` are read.

    Returns ``(net, history, status, best, best_state)``; ``best`` is ``(epoch, valid_acc, valid_loss)`` of the
    best epoch (valid accuracy, then valid loss). A run whose valid squared error is still no better than always
    answering the mean train label after ``COLLAPSE_EPOCHS`` epochs has collapsed and stops there.
    """
    g = job["grid"]
    keep_freed_memory()
    arrays = read_arrays(job.get("data_path"))
    x, y = _subset(arrays, "train", g["train_subset"])
    vx, vy = _subset(arrays, "valid", g["valid_subset"])
    h = job["hidden"]
    net = NumpyMLP((784, h, h, 1), activation="sigmoid", output="mse", dtype=np.float32, seed=job["seed"])
    opt = build_optimizer("sgd", job["lr"])
    rng = np.random.default_rng(job["seed"])
    hist = {"epoch": [], "train_loss": [], "valid_loss": [], "valid_acc": []}
    mean_label_loss = float(np.mean((vy - y.mean()) ** 2))
    status, best, state = "ok", None, None
    with np.errstate(over="ignore", invalid="ignore"):
        for epoch in range(1, max_epochs + 1):
            order, losses = rng.permutation(len(y)), []
            for start in range(0, len(y) - g["batch_size"] + 1, g["batch_size"]):
                idx = order[start:start + g["batch_size"]]
                losses.append(net.train_step(x[idx], y[idx], opt))
                if not math.isfinite(losses[-1]):
                    status = "diverged"
                    break
            if status != "ok":
                break
            valid_loss, valid_acc = net.loss(vx, vy), net.accuracy(vx, vy)
            for k, v in (("epoch", epoch), ("train_loss", float(np.mean(losses))), ("valid_loss", valid_loss),
                         ("valid_acc", valid_acc)):
                hist[k].append(v)
            if best is None or (valid_acc, -valid_loss) > (best[1], -best[2]):
                best, state = (epoch, valid_acc, valid_loss), net.state_dict()
            if epoch >= COLLAPSE_EPOCHS and valid_loss >= 0.99 * mean_label_loss:
                status = "collapsed"
                break
    return net, hist, status, best, state


def train_point(job: dict) -> dict:
    """One grid point: valid after every epoch; the record of its best epoch (weights digest, not the weights)."""
    started = time.perf_counter()
    _, hist, status, best, state = _fit(job, job["grid"]["max_epochs"])
    return {"kind": "assignment", "lr": job["lr"], "hidden": job["hidden"], "seed": job["seed"], "status": status,
            "history": hist, "best_epoch": best and best[0], "best_valid_acc": best and best[1],
            "best_valid_loss": best and best[2], "weights_digest": state and weights_digest(state),
            "seconds": time.perf_counter() - started}


def rerun_point(job: dict) -> dict:
    """The chosen (lr, hidden, epochs) trained from ``job['seed']``; its final weights scored once on ``eval``."""
    started = time.perf_counter()
    net, hist, status, _, _ = _fit(job, job["epochs"])
    out = {"kind": "assignment_seed", "lr": job["lr"], "hidden": job["hidden"], "epochs": job["epochs"],
           "seed": job["seed"], "status": status, "epochs_run": len(hist["epoch"]),
           "valid_acc": hist["valid_acc"][-1] if hist["valid_acc"] else None,
           "valid_loss": hist["valid_loss"][-1] if hist["valid_loss"] else None, "eval_acc": None, "eval_loss": None,
           "weights_digest": weights_digest(net.params)}
    if status != "diverged":
        ex, ey = (np.asarray(a) for a in read_arrays(job.get("data_path"))["eval"])  # after training, once
        out.update(eval_acc=net.accuracy(ex, ey), eval_loss=net.loss(ex, ey))
    return {**out, "seconds": time.perf_counter() - started}


def choose_point(grid_runs: list[dict]) -> dict:
    """The (lr, hidden, epochs) with the best valid accuracy (ties: lower valid loss). Uses valid only."""
    ok = [r for r in grid_runs if r["best_epoch"] is not None]
    if not ok:
        raise RuntimeError("every point of the assignment-net search diverged in its first epoch")
    best = max(ok, key=lambda r: (r["best_valid_acc"], -r["best_valid_loss"]))
    return {"lr": best["lr"], "hidden": best["hidden"], "epochs": best["best_epoch"],
            "valid_acc": best["best_valid_acc"], "valid_loss": best["best_valid_loss"]}


def rerun_jobs(choice: dict, grid: dict, seeds, data_path) -> list[dict]:
    return [{"kind": "assignment_seed", "lr": choice["lr"], "hidden": choice["hidden"], "epochs": choice["epochs"],
             "seed": seed, "grid": grid, "data_path": data_path} for seed in seeds]


def label_baseline(train_labels, valid_labels) -> dict:
    """Always answering the mean train label: exact integer sums and ``math.fsum``, so no CPU changes a bit."""
    ty, vy = (np.asarray(a).reshape(-1).astype(np.int64) for a in (train_labels, valid_labels))
    mean_label = int(ty.sum()) / len(ty)
    rounded = min(max(round(mean_label), 0), 9)
    return {"mean_label": mean_label, "valid_acc": int(np.count_nonzero(vy == rounded)) / len(vy),
            "valid_loss_rounded": int(((vy - rounded) ** 2).sum()) / len(vy),
            "valid_loss": math.fsum((int(v) - mean_label) ** 2 for v in vy) / len(vy)}


def summarise_search(grid_runs: list[dict], choice: dict, reruns: list[dict], grid: dict, data_path,
                     seconds: float) -> dict:
    """The ``search`` part of the record: the grid (first seed), its choice and the chosen point over the seeds."""
    arrays = read_arrays(data_path)
    baseline = label_baseline(_subset(arrays, "train", grid["train_subset"])[1],
                              _subset(arrays, "valid", grid["valid_subset"])[1])
    acc, acc_std = mean_std([r["eval_acc"] for r in reruns])
    loss, loss_std = mean_std([r["eval_loss"] for r in reruns])
    seed = grid_runs[0]["seed"] if grid_runs else None
    chosen = next((r for r in grid_runs if (r["lr"], r["hidden"]) == (choice["lr"], choice["hidden"])), None)
    first = next((r for r in reruns if r["seed"] == seed), None)
    return {"grid": {k: (list(v) if isinstance(v, tuple) else v) for k, v in grid.items()}, "runs": grid_runs,
            "seed": seed, "choice": choice,
            "eval": {"acc": acc, "acc_std": acc_std, "loss": loss, "loss_std": loss_std,
                     "n": sum(r["eval_acc"] is not None for r in reruns), "runs": reruns},
            # the rerun from the grid's seed must end on the grid's best weights, bit for bit
            "rerun_matches_grid": None if first is None or chosen is None else
            first["weights_digest"] == chosen["weights_digest"],
            "baseline": baseline, "seconds": seconds}


def assignment_search(*, quick: bool = False, seeds=(0,), workers: int = 1, data_path=None, env=None,
                      log=print) -> dict:
    """Grid search on ``valid`` at ``seeds[0]``; the chosen point is then trained from each seed and scored on
    ``eval`` (``env``: the workers' environment, e.g. ``perf.numpy_pin.numpy_pin_env()``)."""
    grid = ASSIGNMENT_QUICK if quick else ASSIGNMENT
    started = time.perf_counter()
    jobs = grid_points(grid, seeds[0], data_path)
    log(f"[numpy] assignment net: {len(jobs)} grid points x up to {grid['max_epochs']} epochs")
    runs = parallel_map(train_point, jobs, workers, env=env)
    choice = choose_point(runs)  # decided on valid only; eval is read afterwards, by the reruns
    reruns = parallel_map(rerun_point, rerun_jobs(choice, grid, seeds, data_path), workers, env=env)
    return summarise_search(runs, choice, reruns, grid, data_path, time.perf_counter() - started)
