"""FLOP counts of the benchmark's nets and the FLOP limit: how fast numpy runs exactly those matrix products.

``gemm_flops``/``forward_flops`` count the matrix-product FLOPs of an epoch,
``batch_sizes`` splits an epoch into batches, ``worker_gemm`` (run in a fresh
process by ``bench.workers``) times numpy's float32 GEMMs on one thread.

    python -m paddle_mnist bench train
"""
from __future__ import annotations

import time

import numpy as np

SIZES = {"mlp": (784, 200, 200, 10), "softmax": (784, 10)}


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
