"""The benchmark workers that look inside one step: a ``paddle.profiler`` summary of a training step, and scoring.

``worker_profile`` profiles the engine's own loop (``engine.loop.train_epoch``) step by step on one case;
``worker_eval`` times scoring ``valid`` as ``engine.loop.evaluate`` does it, as one
kept tensor (1 and 2 threads) and in PyTorch. Both run in fresh processes
started by ``bench.workers``.

    python -m paddle_mnist bench eval
"""
from __future__ import annotations

import itertools
import time
import types

import numpy as np

from paddle_mnist.bench.flops import case_name
from paddle_mnist.bench.measure import mkl_info, train_arrays
from paddle_mnist.engine.config import TrainConfig
from paddle_mnist.engine.losses import get_loss
from paddle_mnist.perf.tuned import step_kit
from paddle_mnist.engine.optimizers import build_optimizer
from paddle_mnist.perf.env import train_threads
from paddle_mnist.datafile.store import read_arrays
# deferred: paddle, torch (in the worker process that times them; torch is optional)


class _Phases:
    """Names each piece ``engine.loop.train_epoch`` calls, as a ``paddle.profiler.RecordEvent`` while ``on``."""

    def __init__(self, record_event):
        self.record_event, self.on = record_event, False

    def wrap(self, name, fn):
        def phased(*args, **kwargs):
            if not self.on:
                return fn(*args, **kwargs)
            with self.record_event(name):
                return fn(*args, **kwargs)
        return phased


class _Named:
    """A model whose call is a named phase; ``train()`` passes through."""

    def __init__(self, call, train):
        self.call, self.train = call, train

    def __call__(self, images):
        return self.call(images)


def _profile_step(spec: dict):
    """``step(record=False)``: the next step of ``engine.loop.train_epoch`` (the engine's own loop, not a copy)
    over the first 64 batches, cycled, each piece it calls named as a phase: the batch conversion, forward, loss, the loss read-out,
    backward, the optimizer step and the gradient clearing."""
    import paddle
    import paddle.profiler as profiler

    from paddle_mnist.engine.loop import train_epoch
    from paddle_mnist.engine.nets import build_model

    model_name, bs = spec["case"]
    x, y = train_arrays(spec.get("data_path"))
    paddle.seed(spec["seed"])
    cfg = TrainConfig(model=model_name, batch_size=bs, device="cpu")
    model = build_model(cfg.model, **cfg.model_kwargs())
    opt = build_optimizer(cfg.optimizer, model.parameters(), cfg)
    kit = step_kit("cpu")
    loss = kit.loss(get_loss(cfg.loss))
    order = np.random.RandomState(spec["seed"]).permutation(len(y))
    batches = [(x[order[i:i + bs]], y[order[i:i + bs]]) for i in range(0, min(len(y), 64 * bs), bs)]
    ph = _Phases(profiler.RecordEvent)

    def batch_loss(logits, labels):  # the loss tensor, its ``backward`` named
        value = ph.wrap("loss", loss.fn)(logits, labels)
        return types.SimpleNamespace(tensor=value, backward=ph.wrap("backward", value.backward))

    steps = train_epoch(_Named(ph.wrap("forward", model), model.train), itertools.cycle(batches), types.SimpleNamespace(fn=batch_loss),
                        types.SimpleNamespace(step=ph.wrap("optimizer step", opt.step),
                                              clear_grad=ph.wrap("clear_grad", opt.clear_grad)),
                        to_tensor=ph.wrap("data: as_tensor", kit.to_tensor), release_grads=kit.release_grads,
                        value_of=ph.wrap("loss.item()", lambda b: b.tensor.item()))
    kept = []

    def step(record=False):
        ph.on = record
        value, out, yb = next(steps)
        kept.append((out, yb))  # as engine.fit: keep the logits, count once per epoch
        if len(kept) > len(batches):
            kept.clear()
        return value

    return step


def _rows(items, share_of, steps: int) -> list[dict]:
    """Profiler summary items as per-step rows, largest first."""
    out = []
    for item in sorted(items, key=lambda i: -i.cpu_time):
        out.append({"name": item.name, "calls_per_step": item.call / steps,
                    "ms_per_step": item.cpu_time / 1e6 / steps,
                    "us_per_call": item.cpu_time / 1e3 / max(item.call, 1),
                    "share": item.cpu_time / share_of})
    return out


def worker_profile(spec: dict) -> dict:
    """``paddle.profiler`` over ``steps`` training steps doing exactly what the engine does per step."""
    import paddle.profiler as profiler
    from paddle.profiler.profiler_statistic import StatisticData

    step = _profile_step(spec)
    steps = spec["steps"]
    for _ in range(steps):  # warm-up
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    plain_ms = (time.perf_counter() - t0) / steps * 1e3
    prof = profiler.Profiler(targets=[profiler.ProfilerTarget.CPU], on_trace_ready=lambda p: None)
    prof.start()
    t0 = time.perf_counter()
    for _ in range(steps):
        step(record=True)
        prof.step()
    profiled_ms = (time.perf_counter() - t0) / steps * 1e3
    prof.stop()
    data = StatisticData(prof.profiler_result.get_data(), prof.profiler_result.get_extra_info())
    summary = data.event_summary
    op_total = sum(item.cpu_time for item in summary.items.values()) or 1
    phases = _rows(summary.userdefined_items.values(), max(sum(i.cpu_time for i in
                                                               summary.userdefined_items.values()), 1), steps)
    return {"case": case_name(*spec["case"]), "steps": steps, "step_ms": plain_ms, "profiled_step_ms": profiled_ms,
            "ops_ms_per_step": op_total / 1e6 / steps, "phases": phases,
            "ops": _rows(summary.items.values(), op_total, steps)[:spec.get("top", 20)]}


def _torch_variants(vx, vy, out: dict) -> dict:
    """PyTorch scoring ``valid`` as one batch: ``{name: (fn, threads)}``."""
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

    out.update(torch=torch.__version__, threads=torch.get_num_threads())
    return {"torch_one_batch": (torch_eval, torch.get_num_threads())}


def _paddle_variants(vx, vy, spec: dict, out: dict) -> dict:
    """The engine's ways of scoring ``valid``, and one kept tensor: ``{name: (fn, threads)}``."""
    import paddle

    from paddle_mnist.engine.nets import build_model
    from paddle_mnist.engine.loop import evaluate

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

    def ev(x, y, **kw):
        return evaluate(model, x, y, loss, to_tensor=kit.to_tensor, **kw)

    variants = {"engine_in_fit": (lambda: ev(tx, ty), train_threads() or 1),
                "engine_evaluate": (lambda: ev(vx, vy), 1),
                "batches_of_100": (lambda: ev(vx, vy, batch_size=100), 1),
                "one_tensor": (fast, 1)}
    if spec.get("two_threads"):
        variants["one_tensor_2threads"] = (fast, 2)
    out.update(paddle=paddle.__version__, mkl=mkl_info())
    return variants


def worker_eval(spec: dict) -> dict:
    """``valid`` scored as ``engine.loop.evaluate`` does, in batches of 100, and as one kept tensor (1 and 2 threads)."""
    vx, vy = read_arrays(spec.get("data_path") or None)["valid"]
    if spec.get("valid_subset"):
        vx, vy = vx[:spec["valid_subset"]], vy[:spec["valid_subset"]]
    n = len(vy)
    out = {"n": n, "framework": spec["framework"], "variants": {}}
    if spec["framework"] == "torch":
        variants = _torch_variants(vx, vy, out)
        set_threads = None
    else:
        from paddle.base import core

        variants = _paddle_variants(vx, vy, spec, out)
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
