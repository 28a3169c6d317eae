"""The timing benchmark of the claims ledger: each "faster" comparison measured like a benchmark.

One process at a time: every measurement is a fresh subprocess (``measure`` in the child) and nothing else is
started beside it; the arms are alternated (each round measures every arm once, the order rotated round by
round); the child times only its training steps, in CPU seconds (``time.process_time``) next to wall seconds,
in 5 chunks of which the least disturbed gives the per-step figure (``timeit``'s best of); each figure is the median of the rounds, and each comparison the median of the per-round ratios with their
min and max. Arms: the dropout study's and source 000's (``course``) MLP, 784-200-200-10, batch 100, through
``engine.fit.setup`` and ``engine.loop.train_epoch`` (the studies' own code, one MKL thread), and the
``practice`` study's numpy softmax regression at batch sizes 50,000 / 100 / 1 (one BLAS thread). Writes
``reports/bench/timing.json``; ``studies.claim_rules_timing`` decides the ledger's timing rows from it.

    python -m paddle_mnist bench timing --repeats 5
"""
from __future__ import annotations

import dataclasses
import itertools
import json
import os
import subprocess
import sys
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
ARMS = (*PADDLE_ARMS, *GD_STEPS)
# comparison -> (the arm the claim says is slower, the arm it says is faster); ratio = slower / faster CPU s
COMPARISONS = {"dropout p=0 / p=0.2": ("dropout-0", "dropout-0.2"),
               "dropout p=0 / p=0.5": ("dropout-0", "dropout-0.5"),
               "course p=0 / p=0.5": ("course-0", "course-0.5"),
               "stochastic / mini-batch": ("gd-stochastic", "gd-mini-batch"),
               "batch / mini-batch": ("gd-batch", "gd-mini-batch")}


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
    from paddle_mnist.engine.loop import train_epoch
    from paddle_mnist.studies.registry import get_experiment

    study, variant = PADDLE_ARMS[arm]
    exp = get_experiment(study)
    cfg = dataclasses.replace(exp.base, **dict(exp.variants)[variant])
    run = setup(cfg, threads=1)
    batches = itertools.cycle(list(itertools.islice(run.batches(), WARMUP + steps)))
    kw = dict(to_tensor=run.kit.to_tensor, release_grads=run.kit.release_grads)
    for _ in train_epoch(run.model, itertools.islice(batches, WARMUP), run.loss, run.opt, **kw):
        pass

    def chunk(n):
        for _ in train_epoch(run.model, itertools.islice(batches, n), run.loss, run.opt, **kw):
            pass

    return {**timed_chunks(chunk, steps), "steps_per_epoch": run.steps_per_epoch}


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
    k = max(1, steps // min(chunks, steps))
    cpu, wall = [], []
    for _ in range(max(1, steps // k)):
        cpu0, wall0 = time.process_time(), time.perf_counter()
        chunk(k)
        cpu.append(time.process_time() - cpu0)
        wall.append(time.perf_counter() - wall0)
    return {"cpu_s": sum(cpu), "wall_s": sum(wall), "steps": k * len(cpu), "chunk_steps": k,
            "cpu_s_per_step": min(cpu) / k, "wall_s_per_step": min(wall) / k}


def measure(arm: str, steps: int) -> dict:
    """One arm's timed steps in this process: CPU and wall seconds (the total, and per step and per epoch from the
    best chunk)."""
    out = (_gd_measure if arm in GD_STEPS else _paddle_measure)(arm, steps)
    for k in ("cpu_s", "wall_s"):
        out[f"{k}_per_epoch"] = out[f"{k}_per_step"] * out["steps_per_epoch"]
    return out


def arm_steps(arm: str, steps: int) -> int:
    return max(1, round(GD_STEPS[arm] * steps / STEPS)) if arm in GD_STEPS else steps


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
    """Per arm: median/min/max of CPU and wall seconds per epoch; per comparison: per-round ratios."""
    out = {"arms": {a: {k: stats(r[a][k] for r in rounds) for k in ("cpu_s_per_epoch", "wall_s_per_epoch",
                                                                      "cpu_s_per_step")} for a in arms},
           "ratios": {}}
    for name, (a, b) in COMPARISONS.items():
        if a in arms and b in arms:
            out["ratios"][name] = {"slower": a, "faster": b, "cpu": per_round_ratios(rounds, a, b),
                                   "wall": per_round_ratios(rounds, a, b, "wall_s_per_epoch")}
    return out


def bench_timing(repeats: int = 5, steps: int = STEPS, arms=ARMS, out_dir=BENCH_DIR, runner=run_child,
                 show=print) -> Path:
    """Measure ``arms`` in ``repeats`` alternated rounds, one fresh process at a time; write timing.json."""
    rounds = [dict() for _ in range(repeats)]
    order = schedule(arms, repeats)
    for r, arm in order:
        rounds[r][arm] = runner(arm, steps)
        show(f"round {r + 1}/{repeats} {arm}: {rounds[r][arm]['cpu_s_per_epoch']:.3f} CPU s/epoch, "
             f"{rounds[r][arm]['wall_s_per_epoch']:.3f} wall s/epoch")
    res = {"command": "python -m paddle_mnist bench timing" + (f" --repeats {repeats}" if repeats != 5 else ""),
           "machine": machine(), "method": "one fresh process per measurement, nothing beside it; arms rotated "
           "round by round; CPU (time.process_time) and wall seconds of the timed steps only, per step the best of "
           f"{CHUNKS} chunks; medians of the rounds, ratios per round", "repeats": repeats, "steps": {a: arm_steps(a, steps) for a in arms},
           "warmup_steps": WARMUP, "order": [a for _, a in order], "rounds": rounds, **summarise(rounds, arms)}
    out = Path(out_dir) / "timing.json"
    write_json(out, res)
    return out


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1], int(sys.argv[2]))))
