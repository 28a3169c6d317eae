"""Training and evaluation benchmarks: the engine vs a plain Paddle loop vs PyTorch vs the FLOP limit.

``bench_train`` writes ``reports/bench/train.json``, ``bench_eval`` writes
``reports/bench/eval.json``. Every figure is the median (with min and max) of
``repeats`` rounds; in each round every contender runs in a **fresh
subprocess**, one after the other, so that slow drifts of a shared machine hit
them alike and every ratio is taken from the same run:

* ``torch`` -- PyTorch at its default thread count (``torch_1thread`` too), the
  same 784-200-200-10 ReLU net (or 784-10), Adam 1e-3, the same batches in the
  same order (``np.random.RandomState(seed)``, one permutation per epoch, as
  ``engine.fit`` draws them). Skipped with a note when torch is not installed.
* ``paddle_as_installed`` -- the same plain loop in Paddle with
  ``PADDLE_MNIST_TUNED=0`` and no ``MKL_DEBUG_CPU_TYPE`` (Paddle's defaults).
* ``paddle_tuned`` -- the same loop with the package's settings (``_env.py``);
  ``paddle_tuned_2threads`` is that loop after ``core.set_num_threads(2)``.
* ``engine`` -- the project's own ``engine.fit`` (progress bar, VisualDL,
  checkpoints, ``valid`` scored every epoch) at its defaults (two MKL threads on
  two cores): the wall time from the end of one epoch's checkpoint to the end
  of the next, with ``metrics.csv``'s ``seconds`` column and a breakdown
  (evaluation, logging, checkpointing). ``engine_1thread`` is the same with
  ``PADDLE_MNIST_THREADS=1`` (as each of two parallel workers runs).

* ``flop_limit`` -- the epoch's forward+backward GEMM FLOPs divided by the rate
  numpy (OpenBLAS, one thread) reaches on exactly those matrix shapes.

Each loop times one full epoch per round after a short warm-up; the engine
times its second epoch (the first is the warm-up); the order of the contenders
is reversed every other round. A ``paddle.profiler`` summary of one training
step (the engine's per-step operations, averaged over several steps) shows
where the time goes.

    python -m paddle_mnist bench train
"""
from __future__ import annotations

import datetime as _dt
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from paddle_mnist.paths import shown
from paddle_mnist.perf.bench import BENCH_DIR, REPO, machine, peak_rss_mb, stats
from paddle_mnist.engine.records import write_json

SIZES = {"mlp": (784, 200, 200, 10), "softmax": (784, 10)}
CASES = (("mlp", 100), ("mlp", 32), ("softmax", 100))
# goals of issue 7: engine epoch / PyTorch epoch, per case
GOALS = {"mlp_b100": 0.8, "mlp_b32": 0.7, "softmax_b100": 1.0}
STRETCH_FLOP_RATIO = 2.0
EVAL_GOAL_S = 0.040
OVERHEAD_GOAL = 0.05
RSS_GOAL_MB = 1024.0
MARK = "BENCH_RESULT "
SEED = 0


def case_name(model: str, batch_size: int) -> str:
    return f"{model}_b{batch_size}"


def gemm_flops(sizes, n_samples: int) -> int:
    """FLOPs of the matrix products of one forward+backward pass over ``n_samples``.

    Per layer ``in -> out``: the forward ``X @ W`` and the weight gradient ``X^T @ dY``
    cost ``2*n*in*out`` each; the input gradient ``dY @ W^T`` another ``2*n*in*out``
    for every layer but the first (the images need no gradient). Bias, activation,
    loss and optimizer FLOPs are elementwise and not counted.
    """
    total = 0
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        total += (4 if i == 0 else 6) * n_samples * n_in * n_out
    return int(total)


def forward_flops(sizes, n_samples: int) -> int:
    return int(sum(2 * n_samples * a * b for a, b in zip(sizes[:-1], sizes[1:])))


def batch_sizes(n: int, batch_size: int, max_batches: int | None = None) -> list[int]:
    sizes = [min(batch_size, n - s) for s in range(0, n, batch_size)]
    return sizes[:max_batches] if max_batches else sizes


def torch_available() -> bool:
    return importlib.util.find_spec("torch") is not None


# ---------------------------------------------------------------- subprocess plumbing
def _env_for(kind: str) -> dict:
    """The environment of a worker: ``tuned`` (the package's defaults) or ``as_installed`` (Paddle's)."""
    import paddle_mnist

    env = dict(os.environ)
    env.pop("PADDLE_MNIST_TUNED", None)
    for key in paddle_mnist.CPU_SETTINGS:  # let the worker's own import apply them again
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
    code = "from paddle_mnist.perf.bench_train import _worker; _worker()"
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


# ---------------------------------------------------------------- worker helpers
def _train_arrays(data_path):
    from paddle_mnist.datafile.store import read_arrays

    x, y = read_arrays(data_path or None)["train"]
    return x, np.asarray(y)


def mkl_info() -> dict:
    """The MKL that Paddle's CPU wheel loads (version string, max threads), where it can be asked."""
    import ctypes

    import paddle

    info = {"paddle_with_mkl": str(getattr(paddle.version, "with_mkl", "?")), "library": None, "version": None,
            "max_threads": None}
    lib_path = Path(paddle.__file__).parent / "libs" / "libmklml_intel.so"
    if not lib_path.is_file():
        return info
    try:
        lib = ctypes.CDLL(str(lib_path))
        buf = ctypes.create_string_buffer(256)
        lib.MKL_Get_Version_String(buf, 256)
        info.update(library=lib_path.name, version=buf.value.decode(errors="replace"),
                    max_threads=int(lib.MKL_Get_Max_Threads()))
    except (OSError, AttributeError):
        pass
    return info


def _paddle_loop(model_name: str, batch_size: int, seed: int):
    """A plain Paddle training epoch: the package's model, loss and optimizer, no engine."""
    import paddle

    from paddle_mnist.engine.config import TrainConfig
    from paddle_mnist.course.losses import get_loss
    from paddle_mnist.perf.tuned import step_kit
    from paddle_mnist.course.nets import build_model
    from paddle_mnist.engine.optimizers import build_optimizer

    paddle.seed(seed)
    cfg = TrainConfig(model=model_name, batch_size=batch_size, seed=seed, device="cpu")
    model = build_model(cfg.model, **cfg.model_kwargs())
    opt = build_optimizer(cfg.optimizer, model.parameters(), cfg)
    loss_fn = step_kit("cpu").loss(get_loss(cfg.loss)).fn  # the engine's (tuned) loss

    def run(x, y, order, n_batches):
        value = float("nan")
        for k in range(n_batches):
            idx = order[k * batch_size:(k + 1) * batch_size]
            out = model(paddle.to_tensor(x[idx]))
            batch_loss = loss_fn(out, paddle.to_tensor(y[idx]))
            batch_loss.backward()
            opt.step()
            opt.clear_grad()
            value = float(batch_loss)
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
    x, y = _train_arrays(spec.get("data_path"))
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


def worker_engine(spec: dict) -> dict:
    """``engine.fit`` of one case for 2 epochs, instrumented from outside (the engine is not modified).

    Boundaries are the ends of each epoch's resume checkpoint; ``evaluate``, the
    VisualDL epoch logging, ``metrics.csv`` and the checkpoint writes are timed by
    wrapping the engine's module-level helpers.
    """
    from paddle_mnist.course import train as core
    from paddle_mnist.engine import fit as engine
    from paddle_mnist.engine import vdl
    from paddle_mnist.engine.config import TrainConfig

    events = []  # (what, t_end, duration)

    def timed(what, fn):
        def wrapper(*args, **kwargs):
            t0 = time.perf_counter()
            result = fn(*args, **kwargs)
            t1 = time.perf_counter()
            events.append((what, t1, t1 - t0))
            return result

        return wrapper

    marks = []
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

    model_name, bs = spec["case"]
    x, y = _train_arrays(spec.get("data_path"))
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
    epochs_out = []
    for e in range(1, len(marks)):  # epoch e+1 spans (marks[e-1], marks[e]]
        lo, hi = marks[e - 1], marks[e]
        part = {w: sum(d for what, t, d in events if what == w and lo < t <= hi)
                for w in ("eval", "logging", "checkpoint")}
        full = hi - lo
        epochs_out.append({"epoch": e + 1, "full": full, "csv_seconds": seconds[e],
                           "train_loop": seconds[e] - part["eval"], **part,
                           "overhead_fraction": (part["logging"] + part["checkpoint"]) / full})
    return {"case": case_name(model_name, bs), "status": res["status"], "fit_seconds": total,
            "mkl_threads": mkl_info()["max_threads"],

            "steps_per_epoch": res["steps_per_epoch"], "epochs": epochs_out, "csv_seconds": seconds,
            "best_valid_acc": res["best_valid_acc"]}


def _gemm_epoch(sizes, bss, rng) -> float:
    """Seconds numpy takes for the GEMMs of forward+backward over batches of the given sizes."""
    ws = [rng.standard_normal((a, b), dtype=np.float32) for a, b in zip(sizes[:-1], sizes[1:])]
    shapes = {}
    for bs in set(bss):
        acts = [rng.standard_normal((bs, s), dtype=np.float32) for s in sizes]
        shapes[bs] = acts
    t0 = time.perf_counter()
    for bs in bss:
        acts = shapes[bs]
        for i, w in enumerate(ws):
            np.matmul(acts[i], w)  # forward
        for i, w in enumerate(ws):
            np.matmul(acts[i].T, acts[i + 1])  # weight gradient
            if i > 0:
                np.matmul(acts[i + 1], w.T)  # input gradient
    return time.perf_counter() - t0


def worker_gemm(spec: dict) -> dict:
    """numpy float32 GEMM on one thread: a square GEMM's rate and each case's epoch of GEMMs."""
    rng = np.random.default_rng(0)
    nsq = spec.get("square_n", 1024)
    a = rng.standard_normal((nsq, nsq), dtype=np.float32)
    b = rng.standard_normal((nsq, nsq), dtype=np.float32)
    a @ b
    square = []
    for _ in range(spec["repeats"]):
        t0 = time.perf_counter()
        a @ b
        square.append(2 * nsq ** 3 / (time.perf_counter() - t0) / 1e9)
    out = {"square_n": nsq, "square_gflops": square, "cases": {}}
    try:
        out["blas"] = np.show_config(mode="dicts")["Build Dependencies"]["blas"].get("name")
    except Exception:  # the layout of show_config varies between numpy versions
        out["blas"] = None
    for model_name, bs, n in spec["cases"]:
        bss = batch_sizes(n, bs, spec.get("max_batches"))
        _gemm_epoch(SIZES[model_name], bss[:20], rng)
        times = [_gemm_epoch(SIZES[model_name], bss, rng) for _ in range(spec["repeats"])]
        flops = sum(gemm_flops(SIZES[model_name], b) for b in bss)
        out["cases"][case_name(model_name, bs)] = {"seconds": times, "flops": flops}
    if spec.get("eval_n"):
        sizes, n = SIZES["mlp"], spec["eval_n"]
        xs = [rng.standard_normal((n, s), dtype=np.float32) for s in sizes[:-1]]
        ws = [rng.standard_normal((a, b), dtype=np.float32) for a, b in zip(sizes[:-1], sizes[1:])]
        times = []
        for _ in range(spec["repeats"] + 1):
            t0 = time.perf_counter()
            for xi, w in zip(xs, ws):
                np.matmul(xi, w)
            times.append(time.perf_counter() - t0)
        out["eval"] = {"n": n, "seconds": times[1:], "flops": forward_flops(sizes, n)}
    return out


def worker_profile(spec: dict) -> dict:
    """``paddle.profiler`` over ``steps`` training steps doing exactly what the engine does per step."""
    import paddle
    import paddle.profiler as profiler
    from paddle.profiler.profiler_statistic import StatisticData

    from paddle_mnist.engine.config import TrainConfig
    from paddle_mnist.course.losses import get_loss
    from paddle_mnist.perf.tuned import as_tensor, step_kit
    from paddle_mnist.course.nets import build_model
    from paddle_mnist.engine.optimizers import build_optimizer

    model_name, bs = spec["case"]
    x, y = _train_arrays(spec.get("data_path"))
    paddle.seed(spec["seed"])
    cfg = TrainConfig(model=model_name, batch_size=bs, device="cpu")
    model = build_model(cfg.model, **cfg.model_kwargs())
    opt = build_optimizer(cfg.optimizer, model.parameters(), cfg)
    loss = step_kit("cpu").loss(get_loss(cfg.loss))
    order = np.random.RandomState(spec["seed"]).permutation(len(y))
    batches = [(x[order[i:i + bs]], y[order[i:i + bs]]) for i in range(0, min(len(y), 64 * bs), bs)]

    kept = []

    def step(k, record=False):
        xb, yb = batches[k % len(batches)]
        phase = profiler.RecordEvent if record else None

        def ev(name):
            return phase(name) if phase else _Null()

        with ev("data: as_tensor"):
            x_t, y_t = as_tensor(xb), as_tensor(yb)
        with ev("forward + loss"):
            out = model(x_t)
            batch_loss = loss.fn(out, y_t)
        with ev("loss.item()"):
            value = batch_loss.item()
        with ev("backward"):
            batch_loss.backward()
        with ev("optimizer step + clear_grad"):
            opt.step()
            opt.clear_grad(set_to_zero=False)
        with ev("accuracy bookkeeping"):  # as engine.fit: keep the logits, count once per epoch
            kept.append((out.detach(), yb))
            if len(kept) > len(batches):
                kept.clear()
        return value

    steps = spec["steps"]
    for k in range(steps):  # warm-up
        step(k)
    t0 = time.perf_counter()
    for k in range(steps):
        step(k)
    plain_ms = (time.perf_counter() - t0) / steps * 1e3
    prof = profiler.Profiler(targets=[profiler.ProfilerTarget.CPU], on_trace_ready=lambda p: None)
    prof.start()
    t0 = time.perf_counter()
    for k in range(steps):
        step(k, record=True)
        prof.step()
    profiled_ms = (time.perf_counter() - t0) / steps * 1e3
    prof.stop()
    data = StatisticData(prof.profiler_result.get_data(), prof.profiler_result.get_extra_info())
    summary = data.event_summary
    op_total = sum(item.cpu_time for item in summary.items.values()) or 1

    def rows(items, share_of):
        out = []
        for item in sorted(items, key=lambda i: -i.cpu_time):
            out.append({"name": item.name, "calls_per_step": item.call / steps,
                        "ms_per_step": item.cpu_time / 1e6 / steps,
                        "us_per_call": item.cpu_time / 1e3 / max(item.call, 1),
                        "share": item.cpu_time / share_of})
        return out

    phases = rows(summary.userdefined_items.values(), max(sum(i.cpu_time for i in
                                                              summary.userdefined_items.values()), 1))
    return {"case": case_name(model_name, bs), "steps": steps, "step_ms": plain_ms, "profiled_step_ms": profiled_ms,
            "ops_ms_per_step": op_total / 1e6 / steps, "phases": phases,
            "ops": rows(summary.items.values(), op_total)[:spec.get("top", 20)]}


class _Null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def worker_eval(spec: dict) -> dict:
    """``valid`` scored as ``engine.evaluate`` does, in batches of 100, and as one kept tensor (1 and 2 threads)."""
    from paddle_mnist.datafile.store import read_arrays

    vx, vy = read_arrays(spec.get("data_path") or None)["valid"]
    if spec.get("valid_subset"):
        vx, vy = vx[:spec["valid_subset"]], vy[:spec["valid_subset"]]
    n = len(vy)
    out = {"n": n, "framework": spec["framework"], "variants": {}}
    if spec["framework"] == "torch":
        import torch

        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(784, 200), torch.nn.ReLU(), torch.nn.Linear(200, 200),
                                    torch.nn.ReLU(), torch.nn.Linear(200, 10)).eval()
        tx, ty = torch.from_numpy(np.ascontiguousarray(vx)), torch.from_numpy(np.asarray(vy))

        def torch_eval():
            with torch.no_grad():
                o = model(tx)
                float(torch.nn.functional.cross_entropy(o, ty))
                return float((o.argmax(-1) == ty).float().mean())

        variants = {"torch_one_batch": (torch_eval, torch.get_num_threads())}
        out.update(torch=torch.__version__, threads=torch.get_num_threads())
        set_threads = None
    else:
        import paddle
        from paddle.base import core

        from paddle_mnist.course.losses import get_loss
        from paddle_mnist.course.nets import build_model
        from paddle_mnist.course.train import evaluate
        from paddle_mnist.perf.tuned import step_kit

        kit = step_kit("cpu")
        paddle.seed(0)
        model = build_model("mlp")
        loss = kit.loss(get_loss("cross_entropy"))
        tx, ty = paddle.to_tensor(np.ascontiguousarray(vx)), paddle.to_tensor(np.asarray(vy))

        def fast():
            model.eval()
            with paddle.no_grad():
                o = model(tx)
                float(loss.fn(o, ty))
                acc = float((loss.predict(o) == ty).astype("float32").mean())
            model.train()
            return acc

        from paddle_mnist.perf.env import train_threads

        def ev(x, y, **kw):
            return evaluate(model, x, y, loss, to_tensor=kit.to_tensor, **kw)

        variants = {"engine_in_fit": (lambda: ev(tx, ty), train_threads() or 1),
                    "engine_evaluate": (lambda: ev(vx, vy), 1),
                    "batches_of_100": (lambda: ev(vx, vy, batch_size=100), 1),
                    "one_tensor": (fast, 1)}
        if spec.get("two_threads"):
            variants["one_tensor_2threads"] = (fast, 2)
        out.update(paddle=paddle.__version__, mkl=mkl_info())
        set_threads = core.set_num_threads
    times = {k: [] for k in variants}
    for _ in range(2):  # warm-up
        for fn, threads in variants.values():
            if set_threads is not None:
                set_threads(threads)
            fn()
    for _ in range(spec["repeats"]):
        for name, (fn, threads) in variants.items():
            if set_threads is not None:
                set_threads(threads)
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    out["variants"] = {k: {"seconds": v, "threads": variants[k][1]} for k, v in times.items()}
    return out


WORKERS = {"loop": worker_loop, "engine": worker_engine, "gemm": worker_gemm, "profile": worker_profile,
           "eval": worker_eval}


# ---------------------------------------------------------------- the benchmarks
def _ratio(a, b):
    return None if a is None or b is None or not b else a / b


def _median(entry):
    return None if entry is None else entry["median"]


def _command(what: str, repeats: int, tiny: bool) -> str:
    cmd = f"python -m paddle_mnist bench {what}"
    if repeats != 5:
        cmd += f" --repeats {repeats}"
    if tiny:
        cmd += "  (tiny=True settings: not comparable)"
    return cmd


def _settings(repeats, tiny, data_path, max_batches, warmup_batches, n_train):
    return {"repeats": repeats, "tiny": tiny, "max_batches": max_batches, "warmup_batches": warmup_batches,
            "timed_epochs_per_round": 1, "train_samples": n_train, "seed": SEED,
            "data_file": shown(data_path) if data_path else None,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}


def _machine_info(workers: list[dict]) -> dict:
    info = machine()
    paddle_worker = next((w for w in workers if w.get("mkl")), None)
    if paddle_worker:
        info["mkl"] = paddle_worker["mkl"]
    info["threads"] = {"paddle_default": 1, "note": "Paddle sets one thread at import; the 2threads rows call "
                       "paddle.base.core.set_num_threads(2)"}
    torch_worker = next((w for w in workers if w.get("torch")), None)
    if torch_worker:
        info["torch"] = torch_worker["torch"]
        info["threads"]["torch_default"] = torch_worker["threads"]
    return info


def bench_train(repeats: int = 5, out_dir=BENCH_DIR, *, tiny: bool = False, data_path=None,
                include_torch: bool = True, two_threads: bool = True, log=print) -> Path:
    """Training speed: engine vs plain Paddle (as installed, tuned) vs PyTorch vs FLOP limit; writes train.json.

    ``tiny=True`` times only a few batches of each epoch (for tests): the file has
    the same layout, but its figures say nothing about speed.
    """
    from paddle_mnist.datafile.store import read_arrays

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    max_batches = 4 if tiny else None
    warmup_batches = 2 if tiny else 50
    n_train = len(read_arrays(data_path)["train"][1])  # also makes sure the array cache is warm
    common = {"seed": SEED, "data_path": str(data_path) if data_path else None, "max_batches": max_batches,
              "warmup_batches": warmup_batches}
    use_torch = include_torch and torch_available()
    notes = []
    if not use_torch:
        notes.append("PyTorch rows skipped: " + ("torch is not installed (`pip install torch` to include them)"
                                                 if include_torch else "include_torch=False"))
    cases = [list(c) for c in CASES]
    raw = {"torch": [], "as_installed": [], "tuned": [], "engine": {case_name(*c): [] for c in CASES},
           "engine_1thread": {case_name(*c): [] for c in CASES}}
    jobs = []  # (where the result goes, spec, environment)
    if use_torch:
        jobs.append((raw["torch"], {"kind": "loop", "framework": "torch", "cases": cases, **common}, "as_installed"))
    jobs.append((raw["as_installed"], {"kind": "loop", "framework": "paddle", "cases": cases, **common},
                 "as_installed"))
    jobs.append((raw["tuned"], {"kind": "loop", "framework": "paddle", "cases": cases, "two_threads": two_threads,
                                **common}, "tuned"))
    for model_name, bs in CASES:
        spec = {"kind": "engine", "case": [model_name, bs], "scratch": str(out_dir), "timed_epochs": 1,
                "valid_subset": 500 if tiny else 0, **common}
        jobs.append((raw["engine"][case_name(model_name, bs)], spec, "tuned"))
        if two_threads:
            jobs.append((raw["engine_1thread"][case_name(model_name, bs)], spec, "tuned_1thread"))
    for r in range(repeats):
        log(f"[bench train] round {r + 1}/{repeats}")
        for sink, spec, env in (jobs if r % 2 == 0 else jobs[::-1]):  # alternate the order between rounds
            sink.append(_spawn(spec, env))

    log("[bench train] GEMM rate and profile")
    gemm = _spawn({"kind": "gemm", "repeats": max(repeats, 3), "max_batches": max_batches,
                   "cases": [[m, bs, n_train] for m, bs in CASES]}, "gemm")
    profile = _spawn({"kind": "profile", "case": ["mlp", 100], "steps": 5 if tiny else 30, "seed": SEED,
                      "data_path": common["data_path"]}, "tuned")

    res = {"command": _command("train", repeats, tiny), "argv": [shown(a) if os.path.isabs(a) else a for a in sys.argv],
           "settings": _settings(repeats, tiny, data_path, max_batches, warmup_batches, n_train),
           "machine": _machine_info(raw["tuned"] + raw["torch"]),
           "environments": {"as_installed": raw["as_installed"][0]["env"], "tuned": raw["tuned"][0]["env"],
                            "tuned_1thread": (raw["engine_1thread"][case_name(*CASES[0])][0]["env"]
                                               if two_threads else None),
                            "torch": raw["torch"][0]["env"] if use_torch else None},
           "torch": {"available": use_torch, "version": raw["torch"][0]["torch"] if use_torch else None,
                     "threads": raw["torch"][0]["threads"] if use_torch else None},
           "gemm": {"square_n": gemm["square_n"], "square_gflops": stats(gemm["square_gflops"]), "threads": 1,
                    "blas": gemm.get("blas")},
           "cases": {}, "notes": notes}
    for model_name, bs in CASES:
        name = case_name(model_name, bs)
        steps = len(batch_sizes(n_train, bs, max_batches))
        samples = sum(batch_sizes(n_train, bs, max_batches))
        case = {"model": model_name, "batch_size": bs, "sizes": list(SIZES[model_name]), "steps": steps,
                "samples": samples, "gemm_flops": gemm["cases"][name]["flops"]}

        def loop_stats(runs, key):
            vals = [w["cases"][key] for w in runs if key in w["cases"]]
            if not vals:
                return None
            return {**stats(v["seconds"] for v in vals), "cpu": stats(v["cpu_seconds"] for v in vals),
                    "threads": vals[0]["threads"]}

        if use_torch:
            case["torch"] = loop_stats(raw["torch"], name)
            case["torch_1thread"] = loop_stats(raw["torch"], name + "_1thread")
        case["paddle_as_installed"] = loop_stats(raw["as_installed"], name)
        case["paddle_tuned"] = loop_stats(raw["tuned"], name)
        if two_threads:
            case["paddle_tuned_2threads"] = loop_stats(raw["tuned"], name + "_2threads")
        eng = [e for w in raw["engine"][name] for e in w["epochs"]]
        for key, field in (("engine", "full"), ("engine_train_loop", "train_loop"),
                           ("engine_csv_seconds", "csv_seconds"), ("engine_eval", "eval"),
                           ("engine_logging", "logging"), ("engine_checkpoint", "checkpoint"),
                           ("engine_overhead_fraction", "overhead_fraction")):
            case[key] = stats(e[field] for e in eng) if eng else None
        case["engine_peak_rss_mb"] = stats(w["peak_rss_mb"] for w in raw["engine"][name])
        case["engine_mkl_threads"] = raw["engine"][name][0]["mkl_threads"]
        eng2 = [e["full"] for w in raw["engine_1thread"][name] for e in w["epochs"]]
        if eng2:
            case["engine_1thread"] = {**stats(eng2), "mkl_threads": raw["engine_1thread"][name][0]["mkl_threads"]}
        gsec = gemm["cases"][name]["seconds"]
        case["flop_limit"] = stats(gsec)
        case["gemm_gflops"] = stats(case["gemm_flops"] / s / 1e9 for s in gsec)
        torch_m = _median(case.get("torch"))
        eng_m, tuned_m = _median(case["engine"]), _median(case["paddle_tuned"])
        case["ratios"] = {
            "engine_vs_torch": _ratio(eng_m, torch_m),
            "engine_vs_torch_1thread": _ratio(eng_m, _median(case.get("torch_1thread"))),
            "engine_1thread_vs_torch": _ratio(_median(case.get("engine_1thread")), torch_m),
            "engine_1thread_vs_engine": _ratio(_median(case.get("engine_1thread")), eng_m),
            "engine_train_loop_vs_torch": _ratio(_median(case["engine_train_loop"]), torch_m),
            "tuned_vs_torch": _ratio(tuned_m, torch_m),
            "as_installed_vs_torch": _ratio(_median(case["paddle_as_installed"]), torch_m),
            "tuned_vs_as_installed": _ratio(tuned_m, _median(case["paddle_as_installed"])),
            "engine_vs_as_installed": _ratio(eng_m, _median(case["paddle_as_installed"])),
            "two_threads_vs_one": _ratio(_median(case.get("paddle_tuned_2threads")), tuned_m),
            "engine_vs_tuned_loop": _ratio(eng_m, tuned_m),
            "engine_vs_flop_limit": _ratio(eng_m, _median(case["flop_limit"])),
            "tuned_vs_flop_limit": _ratio(tuned_m, _median(case["flop_limit"])),
            "torch_vs_flop_limit": _ratio(torch_m, _median(case["flop_limit"])),
        }
        goal = GOALS[name]
        ratio = case["ratios"]["engine_vs_torch"]
        case["goals"] = {
            "engine_vs_torch_max": goal,
            "engine_vs_torch_met": None if ratio is None else ratio <= goal,
            "engine_train_loop_vs_torch_met": (None if case["ratios"]["engine_train_loop_vs_torch"] is None
                                               else case["ratios"]["engine_train_loop_vs_torch"] <= goal),
            "engine_1thread_vs_torch_met": (None if case["ratios"]["engine_1thread_vs_torch"] is None
                                             else case["ratios"]["engine_1thread_vs_torch"] <= goal),
            "stretch_within_2x_flop_limit": case["ratios"]["engine_vs_flop_limit"] <= STRETCH_FLOP_RATIO,
            "overhead_under_5pct": case["engine_overhead_fraction"]["median"] < OVERHEAD_GOAL if eng else None,
            "peak_rss_under_1gb": case["engine_peak_rss_mb"]["max"] < RSS_GOAL_MB,
        }
        case["engine_runs"] = [{k: w[k] for k in ("status", "fit_seconds", "steps_per_epoch", "csv_seconds",
                                                   "best_valid_acc", "peak_rss_mb")} for w in raw["engine"][name]]
        res["cases"][name] = case
    res["peak_rss_mb"] = max(c["engine_peak_rss_mb"]["max"] for c in res["cases"].values())
    res["profile"] = {k: profile[k] for k in ("case", "steps", "step_ms", "profiled_step_ms", "ops_ms_per_step",
                                              "phases", "ops")}
    res["goals"] = {name: c["goals"] for name, c in res["cases"].items()}
    res["goals"]["peak_rss_under_1gb"] = res["peak_rss_mb"] < RSS_GOAL_MB
    path = out_dir / "train.json"
    write_json(path, res)
    return path


def bench_eval(repeats: int = 5, out_dir=BENCH_DIR, *, tiny: bool = False, data_path=None,
               include_torch: bool = True, two_threads: bool = True, log=print) -> Path:
    """Scoring ``valid`` (10,000) with the MLP: engine.evaluate vs one kept tensor vs batches of 100; eval.json."""
    from paddle_mnist.datafile.store import read_arrays

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    n_valid = len(read_arrays(data_path)["valid"][1])
    calls = 2 if tiny else 5
    common = {"data_path": str(data_path) if data_path else None, "repeats": calls, "two_threads": two_threads}
    use_torch = include_torch and torch_available()
    workers = {}
    for r in range(1 if tiny else repeats):
        log(f"[bench eval] round {r + 1}")
        for label, framework, env in (("tuned", "paddle", "tuned"), ("as_installed", "paddle", "as_installed"),
                                      ("torch", "torch", "as_installed")):
            if framework == "torch" and not use_torch:
                continue
            workers.setdefault(label, []).append(_spawn({"kind": "eval", "framework": framework, **common}, env))
    gemm = _spawn({"kind": "gemm", "repeats": max(repeats, 3), "cases": [], "eval_n": n_valid, "square_n": 1024},
                  "gemm")
    res = {"command": _command("eval", repeats, tiny), "argv": [shown(a) if os.path.isabs(a) else a for a in sys.argv],
           "settings": {"calls_per_round": calls, "rounds": len(workers["tuned"]), "tiny": tiny, "n": n_valid,
                        "data_file": shown(data_path) if data_path else None,
                        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")},
           "machine": _machine_info(workers["tuned"] + workers.get("torch", [])),
           "environments": {k: v[0]["env"] for k, v in workers.items()},
           "notes": [] if use_torch else ["PyTorch row skipped: torch is not installed"],
           "variants": {}}
    for label, runs in workers.items():
        for variant in runs[0]["variants"]:
            key = variant if label == "torch" else f"{label}_{variant}"
            vals = [s for w in runs for s in w["variants"][variant]["seconds"]]
            res["variants"][key] = {**stats(vals), "threads": runs[0]["variants"][variant]["threads"]}
    res["flop_limit"] = {**stats(gemm["eval"]["seconds"]), "flops": gemm["eval"]["flops"],
                         "square_gflops": stats(gemm["square_gflops"])}
    v = res["variants"]
    m = {k: e["median"] for k, e in v.items()}
    res["ratios"] = {
        "one_tensor_vs_engine_evaluate": _ratio(m.get("tuned_one_tensor"), m.get("tuned_engine_evaluate")),
        "batches_of_100_vs_engine_evaluate": _ratio(m.get("tuned_batches_of_100"), m.get("tuned_engine_evaluate")),
        "two_threads_vs_one": _ratio(m.get("tuned_one_tensor_2threads"), m.get("tuned_one_tensor")),
        "tuned_vs_as_installed": _ratio(m.get("tuned_engine_evaluate"), m.get("as_installed_engine_evaluate")),
        "engine_evaluate_vs_torch": _ratio(m.get("tuned_engine_evaluate"), m.get("torch_one_batch")),
        "one_tensor_vs_flop_limit": _ratio(m.get("tuned_one_tensor"), res["flop_limit"]["median"]),
    }
    best = min((k for k in m if k.startswith("tuned_")), key=m.get)
    res["goals"] = {"under_40ms": {"target_s": EVAL_GOAL_S, "engine_in_fit": m["tuned_engine_in_fit"] < EVAL_GOAL_S,
                                   "engine_evaluate": m["tuned_engine_evaluate"] < EVAL_GOAL_S,
                                   "fastest_variant": best, "fastest_met": m[best] < EVAL_GOAL_S}}
    res["peak_rss_mb"] = max(w["peak_rss_mb"] for runs in workers.values() for w in runs)
    path = out_dir / "eval.json"
    write_json(path, res)
    return path
