"""The ``practice`` study: source 002's practices and source 000 §2.2's k-fold remark, measured in numpy over seeds.

One stage of plain-function jobs (``Stage(fn=practice_job)``, run by ``engine.pool.parallel_map``), per seed:

* ``ewa``: exponentially weighted averages (beta 0.5 / 0.9 / 0.98, with and without bias correction) of a
  seeded noisy year of daily temperatures: roughness, lag behind the noise-free curve, error of the first values.
* ``gd``: softmax regression on the train split by batch (the whole split), mini-batch (100) and stochastic (1)
  gradient descent at one rate: train loss per epoch and per second, jitter of the per-step losses.
* ``lr``: mini-batch SGD of softmax regression at a constant rate vs 002's decay ``lr0 / (1 + rate * epoch)``.
* ``input``: a sigmoid 784-64-64-64-10 ``NumpyMLP`` on raw vs standardised pixels: per-layer gradient RMS early
  on, train loss after a fixed number of steps.
* ``kfold``: the learning rate of softmax regression on a seeded 1,000-image subset chosen by 5-fold
  cross-validation vs one held-out split, both scored on ``eval``.

The numpy pieces are in ``scratch.practice``; the claim rules in ``claim_specs``.

    python -m paddle_mnist train practice --quick --dry-run
"""
from __future__ import annotations

import time
import traceback

import numpy as np

from paddle_mnist.datafile.store import read_arrays
from paddle_mnist.engine.config import TrainConfig
from paddle_mnist.engine.experiment import Experiment, Job, Stage
from paddle_mnist.errors import PaddleMnistError
from paddle_mnist.perf.env import keep_freed_memory
from paddle_mnist.perf.numpy_pin import numpy_pin_env, shown_env
from paddle_mnist.scratch.net import NumpyMLP
from paddle_mnist.scratch.optim import build_optimizer
from paddle_mnist.scratch.practice import (SEASON, SoftmaxRegression, Standardiser, batch_indices, ewa, fit_softmax,
                                           holdout_indices, inverse_time_decay, kfold_indices, lag, roughness,
                                           seasonal_series)
from paddle_mnist.studies.registry import register

# gd arms: (label, batch size (0: the whole split), epochs); input arms; lr arms: (label, decay rate)
GD_ARMS = (("batch", 0, 5), ("stochastic", 1, 0.25), ("mini-batch", 100, 3))
INPUT_ARMS = ("raw", "standardised")
FULL = {
    "ewa": {"betas": (0.5, 0.9, 0.98), "first": 10, "start": 60, "max_shift": 60},
    "gd": {"lr": 0.1, "train_subset": 0, "probe_every": 10, "checkpoints": 30, "arms": GD_ARMS},
    "lr": {"lr0": 2.0, "decay_rate": 1.0, "epochs": 20, "batch_size": 100, "train_subset": 0,
           "arms": (("constant", 0.0), ("decayed", 1.0))},
    "input": {"sizes": (784, 64, 64, 64, 10), "lr": 0.1, "steps": 300, "early_steps": 20, "batch_size": 100,
              "train_subset": 0, "probe_every": 10, "log_every": 50, "arms": INPUT_ARMS},
    "kfold": {"n": 1000, "k": 5, "n_valid": 200, "lrs": (0.01, 0.03, 0.1, 0.3, 1.0), "epochs": 20, "batch_size": 50},
}
QUICK = {
    "ewa": FULL["ewa"],
    "gd": {**FULL["gd"], "train_subset": 5000},
    "lr": {**FULL["lr"], "epochs": 3, "train_subset": 5000},
    "input": {**FULL["input"], "steps": 60, "early_steps": 10, "train_subset": 5000, "log_every": 20},
    "kfold": {**FULL["kfold"], "n": 500, "n_valid": 100, "lrs": (0.03, 0.3, 1.0), "epochs": 5},
}
OVERRIDABLE = ("device", "data_path")


# ------------------------------------------------------------------ helpers
def _record(job: dict, started: float, **fields) -> dict:
    """A run record: the fields ``summarise`` and the claim rules read, plus the part's own numbers."""
    out = {"name": job["name"], "variant": job["variant"], "part": job["part"], "seed": job["seed"], "status": "ok",
           "history": {"epoch": []}, "test_acc": None, "best_valid_acc": None}
    out.update(fields)
    out["seconds"] = time.perf_counter() - started
    return out


def _train(job: dict):
    """``(x, y, arrays)``: the train split (its first ``train_subset`` images when set) and every split."""
    arrays = read_arrays(job.get("data_path"))
    x, y = (np.asarray(a) for a in arrays["train"])
    n = job["settings"].get("train_subset") or len(y)
    if n > len(y):
        raise PaddleMnistError(f"practice needs {n} training images; the data file has {len(y)}")
    return x[:n], y[:n], arrays


def _eval(arrays):
    return tuple(np.asarray(a) for a in arrays["eval"])


def _r(values, digits: int = 4) -> list:
    return [round(float(v), digits) for v in values]


# ------------------------------------------------------------------ 002 §7: exponentially weighted averages
def ewa_run(job: dict) -> dict:
    s, started = job["settings"], time.perf_counter()
    signal, observed = seasonal_series(job["seed"])
    first, per_beta, series = s["first"], {}, {"signal": _r(signal), "observed": _r(observed)}
    for beta in s["betas"]:
        raw, corrected = ewa(observed, beta), ewa(observed, beta, bias_correction=True)
        per_beta[f"{beta:g}"] = {
            "roughness": roughness(corrected, s["start"]),
            "lag": lag(corrected, signal, s["start"], s["max_shift"]),
            "first_error": float(np.mean(np.abs(raw[:first] - signal[:first]))),
            "first_error_corrected": float(np.mean(np.abs(corrected[:first] - signal[:first])))}
        series[f"{beta:g}"], series[f"{beta:g}-corrected"] = _r(raw), _r(corrected)
    return _record(job, started, betas=per_beta, series=series, season=dict(SEASON))


# ------------------------------------------------------------------ 002 §3-5: batch vs mini-batch vs stochastic
def _checkpoints(total: int, per_epoch: int, count: int) -> list[int]:
    marks = {int(v) for v in np.geomspace(1, total, count).round()} | {total}
    return sorted(marks | ({per_epoch} if per_epoch <= total else set()))


def gd_run(job: dict) -> dict:
    """One batch size: the probe train loss (every ``probe_every``-th train image) at log-spaced steps, against
    epochs and training seconds (probe evaluations not timed); jitter of the per-step batch losses."""
    s, (_, size, epochs), seed = job["settings"], job["arm"], job["seed"]
    started = time.perf_counter()
    keep_freed_memory()
    x, y, _ = _train(job)
    n = len(y)
    bs = size or n
    px, py = x[::s["probe_every"]], y[::s["probe_every"]]
    per_epoch = n // bs
    total = max(3, round(epochs * per_epoch))
    model, batches = SoftmaxRegression(seed=seed), batch_indices(n, bs, np.random.default_rng(seed))
    losses = np.empty(total)
    hist = {"epoch": [0.0], "step": [0], "seconds": [0.0], "train_loss": [model.loss(px, py)]}
    step, clock, status, epoch_seconds = 0, 0.0, "ok", None
    for mark in _checkpoints(total, per_epoch, s["checkpoints"]):
        t0 = time.perf_counter()
        while step < mark:
            if bs == n:
                losses[step] = model.step(x, y, s["lr"])
            else:
                idx = next(batches)
                losses[step] = model.step(x[idx], y[idx], s["lr"])
            step += 1
        clock += time.perf_counter() - t0
        if not np.isfinite(losses[step - 1]):
            status = "diverged"
            break
        if step == per_epoch:
            epoch_seconds = clock
        for k, v in (("epoch", step / per_epoch), ("step", step), ("seconds", clock),
                     ("train_loss", model.loss(px, py))):
            hist[k].append(v)
    late = losses[step // 2:step]
    return _record(job, started, status=status, batch_size=bs, lr=s["lr"], steps=step, history=hist,
                   train_seconds=clock, seconds_per_epoch=clock * per_epoch / step, epoch_seconds=epoch_seconds,
                   jitter=float(np.mean(np.abs(np.diff(late, 2)))) if len(late) >= 3 else None,
                   rise_share=float(np.mean(np.diff(losses[:step]) > 0)))


# ------------------------------------------------------------------ 002 §11: learning-rate decay
def lr_run(job: dict) -> dict:
    s, (_, rate), seed = job["settings"], job["arm"], job["seed"]
    started = time.perf_counter()
    keep_freed_memory()
    x, y, arrays = _train(job)
    model, losses = fit_softmax(x, y, epochs=s["epochs"], batch_size=s["batch_size"], lr=s["lr0"], seed=seed,
                                decay_rate=rate)
    status = "ok" if np.isfinite(losses[-1]) else "diverged"
    epochs = list(range(1, len(losses) + 1))
    hist = {"epoch": epochs, "train_loss": losses, "lr": [inverse_time_decay(s["lr0"], rate, e - 1) for e in epochs]}
    ex, ey = _eval(arrays)
    return _record(job, started, status=status, decay_rate=rate, history=hist,
                   final_train_loss=model.loss(x, y), test_acc=model.accuracy(ex, ey))


# ------------------------------------------------------------------ 002 §12: input standardisation
def input_run(job: dict) -> dict:
    """Sigmoid NumpyMLP, plain SGD: each weight gradient's RMS over the first ``early_steps`` steps; probe loss."""
    s, label, seed = job["settings"], job["arm"], job["seed"]
    started = time.perf_counter()
    keep_freed_memory()
    x, y, arrays = _train(job)
    scale = Standardiser(x) if label == "standardised" else None

    def prep(a):
        return scale(a) if scale else np.asarray(a, dtype=np.float32)

    px, py = prep(x[::s["probe_every"]]), y[::s["probe_every"]]
    net = NumpyMLP(s["sizes"], activation="sigmoid", dtype=np.float32, seed=seed)
    opt, batches = build_optimizer("sgd", s["lr"]), batch_indices(len(y), s["batch_size"], np.random.default_rng(seed))
    layers = [f"fc{i}.weight" for i in range(1, len(s["sizes"]))]
    rms, hist, status = [], {"epoch": [], "step": [0], "train_loss": [net.loss(px, py)]}, "ok"
    for step in range(1, s["steps"] + 1):
        idx = next(batches)
        loss, grads = net.loss_and_grads(prep(x[idx]), y[idx])
        if not np.isfinite(loss):
            status = "diverged"
            break
        if step <= s["early_steps"]:
            rms.append([float(np.sqrt(np.mean(grads[k].astype(np.float64) ** 2))) for k in layers])
        opt.step(net.params, grads)
        if step % s["log_every"] == 0 or step == s["steps"]:
            hist["step"].append(step)
            hist["train_loss"].append(net.loss(px, py))
    early = np.mean(rms, axis=0)
    ex, ey = _eval(arrays)
    return _record(job, started, status=status, history=hist, layers=layers,
                   grad_rms=rms, early_grad_rms=early.tolist(), imbalance=float(abs(np.log10(early[0] / early[-1]))),
                   final_train_loss=hist["train_loss"][-1], test_acc=net.accuracy(prep(ex), ey),
                   max_abs_input=scale.max_abs() if scale else float(np.abs(x).max()),
                   constant_pixels=int(scale.constant.sum()) if scale else None)


# ------------------------------------------------------------------ 000 §2.2: k-fold vs a held-out split
def kfold_run(job: dict) -> dict:
    """Choose the rate on a seeded subset by k-fold CV and by one held-out split; score the choices on eval.

    The k-fold choice is retrained on the whole subset; the hold-out choice keeps its model trained without the
    held-out images (the validation split never trains). Every rate retrained on the whole subset is also
    scored on eval, only to say afterwards which choice was best (nothing is chosen on eval).
    """
    s, seed = job["settings"], job["seed"]
    started = time.perf_counter()
    keep_freed_memory()
    arrays = read_arrays(job.get("data_path"))
    x, y = (np.asarray(a) for a in arrays["train"])
    sub = np.random.default_rng(seed).choice(len(y), s["n"], replace=False)
    xs, ys = x[sub], y[sub]
    ex, ey = _eval(arrays)

    def fit(rows, lr) -> SoftmaxRegression:
        return fit_softmax(xs[rows], ys[rows], epochs=s["epochs"], batch_size=s["batch_size"], lr=lr, seed=seed)[0]

    folds = kfold_indices(s["n"], s["k"], seed)
    cv = [float(np.mean([fit(tr, lr).accuracy(xs[va], ys[va]) for tr, va in folds])) for lr in s["lrs"]]
    tr, va = holdout_indices(s["n"], s["n_valid"], seed)
    held = [fit(tr, lr) for lr in s["lrs"]]
    ho = [m.accuracy(xs[va], ys[va]) for m in held]
    everything = np.arange(s["n"])
    grid_test = [fit(everything, lr).accuracy(ex, ey) for lr in s["lrs"]]  # afterwards, to judge the choices
    kc, hc = int(np.argmax(cv)), int(np.argmax(ho))
    return _record(job, started, lrs=list(s["lrs"]), cv_acc=cv, holdout_acc=ho, grid_test_acc=grid_test,
                   kfold_choice=kc, holdout_choice=hc, grid_best=int(np.argmax(grid_test)),
                   kfold_test_acc=grid_test[kc], holdout_test_acc=held[hc].accuracy(ex, ey),
                   holdout_refit_test_acc=grid_test[hc], test_acc=grid_test[kc], subset=sub[:20].tolist())


# ------------------------------------------------------------------ the study
PARTS = {"ewa": ewa_run, "gd": gd_run, "lr": lr_run, "input": input_run, "kfold": kfold_run}


def practice_job(job: dict) -> dict:
    """Run one job of the study; an exception becomes a ``failed`` record (the other jobs go on)."""
    try:
        return PARTS[job["part"]](job)
    except Exception as exc:  # one failed run is recorded; the others go on
        traceback.print_exc()
        return {"name": job["name"], "variant": job["variant"], "part": job["part"],
                "seed": job["seed"], "status": "failed", "error": f"{type(exc).__name__}: {exc}",
                "history": {"epoch": []}, "test_acc": None, "best_valid_acc": None, "seconds": 0.0}


def _jobs(cfg: dict, seeds, data_path) -> list[Job]:
    """Every part x arm x seed, the slowest parts first (the pool hands them out in this order)."""
    def job(part, name, variant, seed, arm=None):
        config = {"part": part, "name": name, "variant": variant, "seed": seed, "settings": cfg[part],
                  "data_path": data_path, **({"arm": arm} if arm is not None else {})}
        return Job(name, variant, config)

    out = [job("gd", f"gd-{a[0]}-seed{seed}", f"gd-{a[0]}", seed, a) for a in cfg["gd"]["arms"] for seed in seeds]
    out += [job("kfold", f"kfold-seed{seed}", "kfold", seed) for seed in seeds]
    out += [job("lr", f"lr-{a[0]}-seed{seed}", f"lr-{a[0]}", seed, a) for a in cfg["lr"]["arms"] for seed in seeds]
    out += [job("input", f"input-{a}-seed{seed}", f"input-{a}", seed, a) for a in cfg["input"]["arms"]
            for seed in seeds]
    return out + [job("ewa", f"ewa-seed{seed}", "ewa", seed) for seed in seeds]


def practice_plan(exp, s):
    fixed = sorted(set(s.overrides) - set(OVERRIDABLE))
    if fixed:
        raise PaddleMnistError(f"practice: {', '.join(fixed)} cannot be set; the study fixes its own settings "
                               "(only --seeds, --quick and --device apply)")
    cfg = QUICK if s.quick else FULL
    pin = numpy_pin_env()  # numpy's BLAS kernels and SIMD loops pinned, as in the numpy study
    runs = yield Stage("practice", _jobs(cfg, s.seeds, s.data_path), fn=practice_job, env=pin)
    return runs, {"setup": cfg, "settings": {"numpy_pin": {"env": shown_env(pin)}}}


@register
def practice() -> Experiment:
    return Experiment(
        name="practice", title="Source 002's practices and k-fold cross-validation", section="source 002; 000 §2.2",
        base=TrainConfig(), seeds=(0, 1, 2, 3, 4), plan=practice_plan, settable=OVERRIDABLE,
        description="Numpy, every arm over the same seeds. Exponentially weighted averages (beta 0.5, 0.9, 0.98) "
                    "of a noisy year of daily temperatures, with and without bias correction; softmax regression "
                    "by batch (50,000), mini-batch (100) and stochastic (1) gradient descent at lr 0.1; mini-batch "
                    "SGD at a constant lr 0.5 vs lr 0.5 / (1 + epoch); a sigmoid 784-64-64-64-10 net (SGD 0.1) on "
                    "raw vs per-pixel standardised inputs; the learning rate of softmax regression on 1,000 "
                    "images chosen by 5-fold cross-validation vs one 200-image held-out split.",
    )
