"""The timing benchmark of the claims ledger: each "faster" comparison measured like a benchmark.

One process at a time: every measurement is a fresh subprocess (``measure`` in the child) and nothing else is
started beside it; the arms are alternated (each round measures every arm once, the order rotated round by
round); the child times only its training steps, in CPU seconds (``time.process_time``) next to wall seconds,
in 5 chunks of which the least disturbed gives the per-step figure (``timeit``'s best of); each figure is the median of the rounds, and each comparison the median of the per-round ratios with their
min and max. Arms: the dropout study's and source 000's (``course``) MLP, 784-200-200-10, batch 100, through
``engine.fit.setup`` and ``engine.loop.train_epoch`` (the studies' own code, one MKL thread), and the
``practice`` study's numpy softmax regression at batch sizes 50,000 / 100 / 1 (one BLAS thread); source 002 §6's
powers of 2: the ``mlp`` study's MLP (done right: logits, Adam 1e-3) trained for a fixed number of samples at
batch 2^k and its neighbours 2^k ± 1 (arm ``batch-2^k``: the three sizes in one process, their chunks
interleaved), in CPU seconds per 1,000 samples; source 001's saving: ``paddle.save(model.state_dict())``
against the whole network (``paddle.jit.save`` with an ``InputSpec``), seconds per save to fresh files in a
temporary folder and the bytes written. Writes ``reports/bench/timing.json``; ``studies.claim_rules_timing``
decides the ledger's timing rows from it.

    python -m paddle_mnist bench timing --repeats 5
"""
from __future__ import annotations

import dataclasses
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from paddle_mnist.bench.measure import BENCH_DIR, REPO, machine, stats
from paddle_mnist.perf.numpy_pin import numpy_pin_env
from paddle_mnist.records import write_json
# deferred: paddle, numpy (loaded in the child process that measures one arm, after its thread settings)

STEPS = 200  # training steps per Paddle measurement (an epoch-slice of 500 steps), after WARMUP steps
WARMUP = 20
CHUNKS = 5  # each measurement's steps run as this many timed chunks; per step: the best chunk's
# the practice study's softmax regression: steps per measurement at STEPS (batch: 2 of 50,000 examples;
# mini-batch: one epoch; stochastic: a quarter epoch, as the study runs it), scaled with ``steps``
GD_STEPS = {"gd-batch": 2, "gd-mini-batch": 500, "gd-stochastic": 12500}
GD_SIZES = {"gd-batch": 0, "gd-mini-batch": 100, "gd-stochastic": 1}
# arm -> (study, variant) for the Paddle arms
PADDLE_ARMS = {"dropout-0": ("dropout", "dropout_0"), "dropout-0.2": ("dropout", "dropout_0.2"),
               "dropout-0.5": ("dropout", "dropout_0.5"), "course-0": ("course", "double_softmax"),
               "course-0.5": ("course", "dropout_fc1")}
# source 002 §6: arm -> (2^k − 1, 2^k, 2^k + 1), trained on BATCH_SAMPLES samples each per measurement at STEPS
BATCH_ARMS = {f"batch-{p}": (p - 1, p, p + 1) for p in (64, 128, 256)}
BATCH_SAMPLES = 12_800
# source 001: saving the parameters only vs the whole network; saves per measurement at STEPS (after a first one)
SAVE_ARMS = {"save-params": "paddle.save(model.state_dict(), path)",
             "save-whole": "paddle.jit.save(model, prefix, input_spec=[InputSpec([None, 784], 'float32')])"}
SAVES = 20
ARMS = (*PADDLE_ARMS, *GD_STEPS, *BATCH_ARMS, *SAVE_ARMS)
# comparison -> (the arm the claim says is slower, the arm it says is faster); ratio = slower / faster CPU s
COMPARISONS = {"dropout p=0 / p=0.2": ("dropout-0", "dropout-0.2"),
               "dropout p=0 / p=0.5": ("dropout-0", "dropout-0.5"),
               "course p=0 / p=0.5": ("course-0", "course-0.5"),
               "stochastic / mini-batch": ("gd-stochastic", "gd-mini-batch"),
               "batch / mini-batch": ("gd-batch", "gd-mini-batch"),
               "save whole / parameters": ("save-whole", "save-params", "save")}  # per save, not per epoch
# the figures ``summarise`` takes the rounds' median of, where an arm's measurement has them
FIGURES = ("cpu_s_per_epoch", "wall_s_per_epoch", "cpu_s_per_step", "cpu_s_per_save", "wall_s_per_save", "bytes",
           "first_cpu_s", "first_wall_s")


def schedule(arms, repeats: int) -> list[tuple[int, str]]:
    """``(round, arm)`` in run order: every round measures each arm once, the order rotated by one each round
    (A B C, B C A, C A B, ...), so no arm always runs first or after the same neighbour."""
    arms = list(arms)
    return [(r, arms[(r + i) % len(arms)]) for r in range(repeats) for i in range(len(arms))]


def per_round_ratios(rounds: list[dict], a: str, b: str, key: str = "cpu_s_per_epoch") -> dict:
    """``a``'s figure over ``b``'s in each round (a list of ``{arm: measurement}``): median, min, max, values."""
    return stats(r[a][key] / r[b][key] for r in rounds)


def _paddle_measure(arm: str, steps: int) -> dict:
    from paddle_mnist.engine.fit import setup
    from paddle_mnist.studies.registry import get_experiment

    study, variant = PADDLE_ARMS[arm]
    exp = get_experiment(study)
    run = setup(dataclasses.replace(exp.base, **dict(exp.variants)[variant]), threads=1)
    return {**timed_chunks(_warm_chunk(run, steps), steps), "steps_per_epoch": run.steps_per_epoch}


def _warm_chunk(run, steps: int):
    """After WARMUP training steps of ``run`` (an ``engine.fit.Run``): ``chunk(n)`` trains n more steps, cycling
    over the first ``WARMUP + steps`` full batches of its epoch (the studies' own ``train_epoch``)."""
    from paddle_mnist.engine.loop import train_epoch

    size = run.config.batch_size
    full = (b for b in run.batches() if len(b[1]) == size)
    batches = itertools.cycle(list(itertools.islice(full, WARMUP + steps)))
    kw = dict(to_tensor=run.kit.to_tensor, release_grads=run.kit.release_grads)

    def chunk(n):
        for _ in train_epoch(run.model, itertools.islice(batches, n), run.loss, run.opt, **kw):
            pass

    chunk(WARMUP)
    return chunk


def _batch_measure(arm: str, samples: int) -> dict:
    """Source 002 §6: the ``mlp`` study's MLP at batch 2^k − 1, 2^k, 2^k + 1, ``samples`` samples each, the three
    sizes' chunks interleaved in this one process; CPU and wall seconds per 1,000 samples (the best chunk's)."""
    from paddle_mnist.engine.fit import setup
    from paddle_mnist.studies.registry import get_experiment

    sizes = BATCH_ARMS[arm]
    chunks, steps = {}, {}
    for size in sizes:
        run = setup(dataclasses.replace(get_experiment("mlp").base, batch_size=size), threads=1)
        steps[size] = -(-samples // size)
        chunks[size] = _warm_chunk(run, steps[size])
    timed = interleaved_chunks(chunks, steps)
    return {"power": sizes[1], "sizes": {str(n): {**t, "samples": t["steps"] * n,
                                                  "cpu_s_per_1000": t["cpu_s_per_step"] * 1000 / n,
                                                  "wall_s_per_1000": t["wall_s_per_step"] * 1000 / n}
                                         for n, t in timed.items()}}


def _save_measure(arm: str, saves: int) -> dict:
    """Source 001: one save of the ``mlp`` study's MLP (untimed, its first: the whole network's includes the
    conversion to a static program), then ``saves`` more, each to fresh files in a temporary folder; CPU and wall
    seconds per save (the best chunk's) and the bytes one save writes."""
    import paddle

    from paddle_mnist.engine.nets import build_model
    from paddle_mnist.studies.registry import get_experiment

    paddle.base.core.set_num_threads(1)
    cfg = get_experiment("mlp").base
    model = build_model(cfg.model, **cfg.model_kwargs())
    spec = [paddle.static.InputSpec([None, 784], "float32", "x")]
    with tempfile.TemporaryDirectory(prefix="paddle_mnist_save_") as tmp:
        count = itertools.count()

        def save_one() -> int:
            folder = Path(tmp, str(next(count)))
            folder.mkdir()
            if arm == "save-params":
                paddle.save(model.state_dict(), str(folder / "model.pdparams"))
            else:
                paddle.jit.save(model, str(folder / "model"), input_spec=spec)
            return sum(p.stat().st_size for p in folder.iterdir())

        cpu0, wall0 = time.process_time(), time.perf_counter()
        size = save_one()
        first = {"first_cpu_s": time.process_time() - cpu0, "first_wall_s": time.perf_counter() - wall0}
        out = timed_chunks(lambda k: [save_one() for _ in range(k)], saves)
    return {**out, **first, "bytes": size, "cpu_s_per_save": out["cpu_s_per_step"],
            "wall_s_per_save": out["wall_s_per_step"]}


def _gd_measure(arm: str, steps: int) -> dict:
    import numpy as np

    from paddle_mnist.datafile.store import read_arrays
    from paddle_mnist.scratch.practice import SoftmaxRegression, batch_indices
    from paddle_mnist.studies.practice import FULL

    x, y = (np.asarray(a) for a in read_arrays(None)["train"])
    n = len(y)
    bs = GD_SIZES[arm] or n
    model, batches = SoftmaxRegression(seed=0), batch_indices(n, bs, np.random.default_rng(0))
    lr = FULL["gd"]["lr"]

    def chunk(steps):
        for _ in range(steps):
            if bs == n:
                model.step(x, y, lr)
            else:
                idx = next(batches)
                model.step(x[idx], y[idx], lr)

    chunk(1)  # warm-up
    return {**timed_chunks(chunk, steps), "steps_per_epoch": n // bs}


def timed_chunks(chunk, steps: int, chunks: int = CHUNKS) -> dict:
    """``chunk(k)`` runs k steps; ``steps`` run as up to ``chunks`` equal chunks, each timed in CPU and wall
    seconds. Per step: the least disturbed chunk's (the best of the chunks, as ``timeit`` takes the best
    repetition), and the total over all steps."""
    return interleaved_chunks({"": chunk}, {"": steps}, chunks)[""]


def interleaved_chunks(chunks: dict, steps: dict, n: int = CHUNKS) -> dict:
    """``timed_chunks`` of several arms in one process (``chunks[a](k)`` runs k of arm a's steps, ``steps[a]``
    in all): chunk i of every arm runs before chunk i + 1 of any, the arms' order rotated chunk by chunk."""
    names = list(chunks)
    k = {a: max(1, s // min(n, s)) for a, s in steps.items()}
    reps = {a: max(1, steps[a] // k[a]) for a in names}
    cpu, wall = ({a: [] for a in names} for _ in range(2))
    for i in range(max(reps.values())):
        for a in names[i % len(names):] + names[:i % len(names)]:
            if i < reps[a]:
                cpu0, wall0 = time.process_time(), time.perf_counter()
                chunks[a](k[a])
                cpu[a].append(time.process_time() - cpu0)
                wall[a].append(time.perf_counter() - wall0)
    return {a: {"cpu_s": sum(cpu[a]), "wall_s": sum(wall[a]), "steps": k[a] * len(cpu[a]), "chunk_steps": k[a],
                "cpu_s_per_step": min(cpu[a]) / k[a], "wall_s_per_step": min(wall[a]) / k[a]} for a in names}


def measure(arm: str, steps: int) -> dict:
    """One arm's timed steps in this process: CPU and wall seconds (the total, and per step and per epoch from the
    best chunk)."""
    if arm in BATCH_ARMS or arm in SAVE_ARMS:
        return (_batch_measure if arm in BATCH_ARMS else _save_measure)(arm, steps)
    out = (_gd_measure if arm in GD_STEPS else _paddle_measure)(arm, steps)
    for k in ("cpu_s", "wall_s"):
        out[f"{k}_per_epoch"] = out[f"{k}_per_step"] * out["steps_per_epoch"]
    return out


def arm_steps(arm: str, steps: int) -> int:
    """The steps (``batch-*``: samples per batch size; ``save-*``: saves) of ``arm`` at ``steps`` Paddle steps."""
    per = GD_STEPS.get(arm) or (BATCH_SAMPLES if arm in BATCH_ARMS else SAVES if arm in SAVE_ARMS else None)
    return steps if per is None else max(1, round(per * steps / STEPS))


def line(arm: str, m: dict) -> str:
    """One measurement as the benchmark prints it."""
    if "sizes" in m:
        return ", ".join(f"batch {n}: {s['cpu_s_per_1000']:.4f} CPU s ({s['wall_s_per_1000']:.4f} wall s)"
                         for n, s in m["sizes"].items()) + " per 1,000 samples"
    if "bytes" in m:
        return (f"{1000 * m['cpu_s_per_save']:.2f} CPU ms/save, {1000 * m['wall_s_per_save']:.2f} wall ms/save, "
                f"{m['bytes']:,} bytes (first save {1000 * m['first_cpu_s']:.1f} CPU ms)")
    return f"{m['cpu_s_per_epoch']:.3f} CPU s/epoch, {m['wall_s_per_epoch']:.3f} wall s/epoch"


def run_child(arm: str, steps: int) -> dict:
    """``measure(arm, steps)`` in a fresh Python process (numpy arms with the numpy study's pinned BLAS)."""
    env = dict(os.environ)
    if arm in GD_STEPS:
        for k, v in numpy_pin_env().items():
            env.pop(k, None) if v is None else env.__setitem__(k, v)
    proc = subprocess.run([sys.executable, "-m", "paddle_mnist.bench.timing", arm, str(arm_steps(arm, steps))],
                          capture_output=True, text=True, cwd=REPO, env=env, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def summarise(rounds: list[dict], arms) -> dict:
    """Per arm: median/min/max of its ``FIGURES``; per comparison: per-round ratios (CPU and wall seconds per
    epoch, or per save); per ``batch-*`` arm: ``batch_summary``."""
    out = {"arms": {a: {k: stats(r[a][k] for r in rounds) for k in FIGURES if k in rounds[0][a]} for a in arms
                    if a not in BATCH_ARMS}, "ratios": {}}
    for name, (a, b, *per) in COMPARISONS.items():
        per = per[0] if per else "epoch"
        if a in arms and b in arms:
            out["ratios"][name] = {"slower": a, "faster": b, "per": per,
                                   "cpu": per_round_ratios(rounds, a, b, f"cpu_s_per_{per}"),
                                   "wall": per_round_ratios(rounds, a, b, f"wall_s_per_{per}")}
    if any(a in BATCH_ARMS for a in arms):
        out["batch_sizes"] = {a: batch_summary([r[a] for r in rounds]) for a in arms if a in BATCH_ARMS}
    return out


def batch_summary(ms: list[dict]) -> dict:
    """One ``batch-2^k`` arm over the rounds: per size the medians of CPU and wall seconds per 1,000 samples; per
    neighbour the per-round ratios neighbour / 2^k (above 1: the power of 2 is faster per sample)."""
    p = str(ms[0]["power"])
    per = ("cpu_s_per_1000", "wall_s_per_1000")
    sizes = {n: {k: stats(m["sizes"][n][k] for m in ms) for k in per} for n in ms[0]["sizes"]}
    ratios = {n: {k.split("_")[0]: stats(m["sizes"][n][k] / m["sizes"][p][k] for m in ms) for k in per}
              for n in sizes if n != p}
    return {"power": int(p), "sizes": sizes, "ratios": ratios}


def bench_timing(repeats: int = 5, steps: int = STEPS, arms=ARMS, out_dir=BENCH_DIR, runner=run_child,
                 show=print) -> Path:
    """Measure ``arms`` in ``repeats`` alternated rounds, one fresh process at a time; write timing.json."""
    rounds = [dict() for _ in range(repeats)]
    order = schedule(arms, repeats)
    for r, arm in order:
        rounds[r][arm] = runner(arm, steps)
        show(f"round {r + 1}/{repeats} {arm}: {line(arm, rounds[r][arm])}")
    res = {"command": "python -m paddle_mnist bench timing" + (f" --repeats {repeats}" if repeats != 5 else ""),
           "machine": machine(), "method": "one fresh process per measurement, nothing beside it; arms rotated "
           "round by round; CPU (time.process_time) and wall seconds of the timed steps only, per step the best of "
           f"{CHUNKS} chunks (batch-* arms: the three sizes' chunks interleaved in one process); medians of the "
           "rounds, ratios per round", "repeats": repeats, "steps": {a: arm_steps(a, steps) for a in arms},
           "warmup_steps": WARMUP, "order": [a for _, a in order], "rounds": rounds, **summarise(rounds, arms)}
    out = Path(out_dir) / "timing.json"
    write_json(out, res)
    return out


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1], int(sys.argv[2]))))
