"""The benchmark workers: each runs in a fresh interpreter, measures one thing and prints one marked JSON line.

``_spawn(spec, env_kind)`` starts ``python -c "from paddle_mnist.bench.workers
import _worker; _worker()" '<spec>'`` in the environment ``_env_for(env_kind)``
(Paddle tuned, as installed, one thread, or GEMM on one thread); ``_worker``
dispatches on ``spec["kind"]`` through ``WORKERS``: ``loop`` (a plain Paddle or
PyTorch epoch), ``engine`` (``engine.fit``, instrumented from outside), ``gemm``
(``bench.flops``), ``profile`` and ``eval`` (``bench.profile``).

    python -m paddle_mnist bench train
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from paddle_mnist.bench.profile import worker_eval, worker_profile
from paddle_mnist.bench.flops import SIZES, batch_sizes, case_name, worker_gemm
from paddle_mnist.bench.measure import REPO, mkl_info, peak_rss_mb, train_arrays
from paddle_mnist.perf import env as cpu_env
from paddle_mnist.engine.config import TrainConfig
from paddle_mnist.engine.losses import get_loss
from paddle_mnist.perf.tuned import step_kit
from paddle_mnist.engine.optimizers import build_optimizer
from paddle_mnist.engine import fit as engine, vdl
# deferred: paddle, torch (in the worker process that times them; torch is optional)

MARK = "BENCH_RESULT "


# ---------------------------------------------------------------- subprocess plumbing
def _env_for(kind: str) -> dict:
    """The environment of a worker: ``tuned`` (the package's defaults) or ``as_installed`` (Paddle's)."""
    env = dict(os.environ)
    env.pop("PADDLE_MNIST_TUNED", None)
    for key in cpu_env.ADDED:  # let the worker's own import apply them again
        env.pop(key, None)
    if kind == "as_installed":
        env.pop("MKL_DEBUG_CPU_TYPE", None)
        env["PADDLE_MNIST_TUNED"] = "0"
    elif kind == "tuned_1thread":  # the tuned settings, but one MKL thread in the engine (its default is two)
        env["PADDLE_MNIST_THREADS"] = "1"
    elif kind == "gemm":
        env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return env


def _env_summary(env: dict) -> dict:
    keys = ("PADDLE_MNIST_TUNED", "PADDLE_MNIST_THREADS", "MKL_DEBUG_CPU_TYPE", "MKL_CBWR", "OMP_NUM_THREADS",
            "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
    return {k: env.get(k) for k in keys}


def _spawn(spec: dict, env_kind: str) -> dict:
    """Run ``_worker(spec)`` in a fresh interpreter; its result dict (the marked last line of stdout)."""
    code = "from paddle_mnist.bench.workers import _worker; _worker()"
    proc = subprocess.run([sys.executable, "-c", code, json.dumps(spec)], capture_output=True, text=True,
                          cwd=REPO, env=_env_for(env_kind))
    lines = [line for line in proc.stdout.splitlines() if line.startswith(MARK)]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"benchmark worker {spec['kind']} ({env_kind}) failed with exit code "
                           f"{proc.returncode}:\n{proc.stderr[-3000:]}")
    out = json.loads(lines[-1][len(MARK):])
    out["env_kind"] = env_kind
    return out


def _worker() -> None:
    spec = json.loads(sys.argv[1])
    out = WORKERS[spec["kind"]](spec)
    out["env"] = _env_summary(os.environ)  # as the worker saw it, after the package applied its settings
    out["peak_rss_mb"] = peak_rss_mb()

    sys.stdout.write(MARK + json.dumps(out) + "\n")
    sys.stdout.flush()


# ---------------------------------------------------------------- the training workers
def _paddle_loop(model_name: str, batch_size: int, seed: int):
    """A plain Paddle training epoch: the package's model, loss and optimizer, stepped by the engine's own loop
    (``engine.loop.train_epoch``) with the plain pieces (``paddle.to_tensor`` copies, zero-filled gradients, the
    loss read with ``float``) and no ``engine.fit`` around it (no evaluation, logging or checkpoints)."""
    import paddle

    from paddle_mnist.engine.loop import train_epoch
    from paddle_mnist.engine.nets import build_model

    paddle.seed(seed)
    cfg = TrainConfig(model=model_name, batch_size=batch_size, seed=seed, device="cpu")
    model = build_model(cfg.model, **cfg.model_kwargs())
    opt = build_optimizer(cfg.optimizer, model.parameters(), cfg)
    loss = step_kit("cpu").loss(get_loss(cfg.loss))  # the engine's (tuned) loss

    def run(x, y, order, n_batches):
        value = float("nan")
        batches = ((x[idx], y[idx]) for idx in (order[k * batch_size:(k + 1) * batch_size] for k in range(n_batches)))
        for value, _, _ in train_epoch(model, batches, loss, opt, to_tensor=paddle.to_tensor, value_of=float):
            pass
        return value

    return run


def _torch_loop(model_name: str, batch_size: int, seed: int):
    """The same epoch in PyTorch: same layer sizes, ReLU, Adam 1e-3, cross-entropy on logits."""
    import torch

    torch.manual_seed(seed)
    sizes = SIZES[model_name]
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.functional.cross_entropy

    def run(x, y, order, n_batches):
        value = float("nan")
        for k in range(n_batches):
            idx = order[k * batch_size:(k + 1) * batch_size]
            out = model(torch.from_numpy(x[idx]))
            batch_loss = loss_fn(out, torch.from_numpy(y[idx]))
            opt.zero_grad()
            batch_loss.backward()
            opt.step()
            value = batch_loss.item()
        return value

    return run


def worker_loop(spec: dict) -> dict:
    """Time one epoch per case (and per thread setting) after a warm-up, all in this process.

    Each case draws its batch order like ``engine.fit``: ``RandomState(seed)``, one
    permutation per epoch; the warm-up uses the first batches of epoch 1 and the
    timed epoch is epoch 2, the engine's timed epoch.
    """
    framework = spec["framework"]
    x, y = train_arrays(spec.get("data_path"))
    n = len(y)
    out = {"framework": framework, "cases": {}}
    if framework == "torch":
        import torch

        default_threads = torch.get_num_threads()
        variants = {"": default_threads, "_1thread": 1} if spec.get("one_thread", True) else {"": default_threads}
        out.update(torch=torch.__version__, threads=default_threads, paddle_loaded="paddle" in sys.modules)

        set_threads = torch.set_num_threads
        make = _torch_loop
    else:
        import paddle
        from paddle.base import core

        variants = {"": 1}
        if spec.get("two_threads"):
            variants["_2threads"] = 2
        out.update(paddle=paddle.__version__, mkl=mkl_info(), threads=1)
        set_threads = core.set_num_threads
        make = _paddle_loop
    runs = {}
    for model_name, bs in spec["cases"]:
        n_batches = len(batch_sizes(n, bs, spec.get("max_batches")))
        for suffix, threads in variants.items():
            rs = np.random.RandomState(spec["seed"])
            run = make(model_name, bs, spec["seed"])
            set_threads(threads)
            run(x, y, rs.permutation(n), min(spec["warmup_batches"], n_batches))
            runs[case_name(model_name, bs) + suffix] = (run, rs, threads, n_batches)
    for name, (run, rs, threads, n_batches) in runs.items():  # one timed epoch each, back to back
        set_threads(threads)
        order = rs.permutation(n)
        w0, c0 = time.perf_counter(), time.process_time()
        last = run(x, y, order, n_batches)
        out["cases"][name] = {"seconds": time.perf_counter() - w0, "cpu_seconds": time.process_time() - c0,
                              "threads": threads, "batches": n_batches, "last_loss": last}
    return out


def _instrument(events: list, marks: list) -> None:
    """Wrap the engine's module-level helpers (in this worker process only) so that they record their timings.

    ``events`` gets ``(what, t_end, duration)`` for each evaluation, logging call and
    checkpoint write; ``marks`` the end of each epoch's resume checkpoint.
    """
    from paddle_mnist.engine import loop as core

    def timed(what, fn):
        def wrapper(*args, **kwargs):
            t0 = time.perf_counter()
            result = fn(*args, **kwargs)
            t1 = time.perf_counter()
            events.append((what, t1, t1 - t0))
            return result

        return wrapper

    save = engine.save_state

    def save_and_mark(obj, path):
        t0 = time.perf_counter()
        save(obj, path)
        t1 = time.perf_counter()
        events.append(("checkpoint", t1, t1 - t0))
        if Path(path).name == engine.CHECKPOINT:
            marks.append(t1)

    engine.save_state = save_and_mark
    core.evaluate = timed("eval", core.evaluate)
    engine.write_csv = timed("logging", engine.write_csv)
    vdl.RunLogger.epoch = timed("logging", vdl.RunLogger.epoch)


def _epoch_parts(events: list, marks: list, seconds: list) -> list[dict]:
    """Each timed epoch's wall time split into evaluation, logging and checkpointing."""
    epochs_out = []
    for e in range(1, len(marks)):  # epoch e+1 spans (marks[e-1], marks[e]]
        lo, hi = marks[e - 1], marks[e]
        part = {w: sum(d for what, t, d in events if what == w and lo < t <= hi)
                for w in ("eval", "logging", "checkpoint")}
        full = hi - lo
        epochs_out.append({"epoch": e + 1, "full": full, "csv_seconds": seconds[e],
                           "train_loop": seconds[e] - part["eval"], **part,
                           "overhead_fraction": (part["logging"] + part["checkpoint"]) / full})
    return epochs_out


def worker_engine(spec: dict) -> dict:
    """``engine.fit`` of one case for 2 epochs, instrumented from outside (the engine is not modified).

    Boundaries are the ends of each epoch's resume checkpoint; ``evaluate``, the
    VisualDL epoch logging, ``metrics.csv`` and the checkpoint writes are timed by
    wrapping the engine's module-level helpers.
    """
    events, marks = [], []  # events: (what, t_end, duration)
    _instrument(events, marks)
    model_name, bs = spec["case"]
    x, y = train_arrays(spec.get("data_path"))
    n = len(y)
    subset = 0
    if spec.get("max_batches"):
        subset = min(n, spec["max_batches"] * bs)
    epochs = 1 + spec.get("timed_epochs", 1)
    cfg = TrainConfig(model=model_name, batch_size=bs, epochs=epochs, seed=spec["seed"], device="cpu",
                      data_path=spec.get("data_path") or "", train_subset=subset if subset < n else 0,
                      valid_subset=spec.get("valid_subset", 0))
    with tempfile.TemporaryDirectory(prefix=".bench-engine-", dir=spec["scratch"]) as tmp:
        t0 = time.perf_counter()
        res = engine.fit(cfg, Path(tmp) / "run", experiment="bench", vdl_dir=Path(tmp) / "vdl",
                         command=["bench"], progress=spec.get("progress", True))
        total = time.perf_counter() - t0
    seconds = res["history"]["seconds"]
    return {"case": case_name(model_name, bs), "status": res["status"], "fit_seconds": total,
            "mkl_threads": mkl_info()["max_threads"],

            "steps_per_epoch": res["steps_per_epoch"], "epochs": _epoch_parts(events, marks, seconds),
            "csv_seconds": seconds, "best_valid_acc": res["best_valid_acc"]}


WORKERS = {"loop": worker_loop, "engine": worker_engine, "gemm": worker_gemm, "profile": worker_profile,
           "eval": worker_eval}
