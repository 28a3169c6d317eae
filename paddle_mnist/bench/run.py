"""Benchmarks that print and record figures in ``reports/bench/*.json`` (never timed tests).

Each figure is the median of several repetitions with its min and max; every
comparison is a ratio measured in the same run. Memory and cold-start figures
are taken in fresh subprocesses. This module holds the data-loading benchmark
and ``run_bench``, which dispatches to ``bench.train`` for training and
evaluation; the shared measurements are in ``bench.measure``.

    python -m paddle_mnist bench data
"""
from __future__ import annotations

import gzip
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from paddle_mnist.records import write_json
from paddle_mnist.paths import shown
from paddle_mnist.bench.measure import BENCH_DIR, REPO, machine, stats
from paddle_mnist.engine.batches import load_data
from paddle_mnist.datafile.store import default_path
from paddle_mnist.bench.train import bench_eval, bench_train
from paddle_mnist.bench.apps import bench_apps, bench_predict
from paddle_mnist.bench.timing import bench_timing


def assignment_load_data(mode="train", batch_size=100, datafile="data/mnist.json.gz"):
    """The course's loader with its typos fixed: re-parses the JSON every call, converts sample by sample."""
    data = json.load(gzip.open(datafile))
    train_set, val_set, eval_set = data
    imgs, labels = {"train": train_set, "valid": val_set, "eval": eval_set}[mode]
    index_list = list(range(len(imgs)))

    def data_generator():
        if mode == "train":
            random.shuffle(index_list)
        imgs_list, labels_list = [], []
        for i in index_list:
            imgs_list.append(np.array(imgs[i]).astype("float32"))
            labels_list.append(np.array(labels[i]).astype("float32"))
            if len(imgs_list) == batch_size:
                yield np.array(imgs_list), np.array(labels_list)
                imgs_list, labels_list = [], []
        if len(imgs_list) > 0:
            yield np.array(imgs_list), np.array(labels_list)

    return data_generator


_PROBE = """
import json, sys, time
from paddle_mnist.bench.measure import peak_rss_mb
t0 = time.perf_counter()
{body}
out['seconds'] = time.perf_counter() - t0
out['peak_rss_mb'] = peak_rss_mb()
print(json.dumps(out))
"""


def _probe(body: str, env: dict | None = None) -> dict:
    code = _PROBE.format(body=body)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, **(env or {})}, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _epoch_seconds(gen) -> float:
    t0 = time.perf_counter()
    for _ in gen():
        pass
    return time.perf_counter() - t0


def warm_first_batch_fresh(path, repeats: int = 7) -> dict:
    """Seconds from ``load_data('train', 100)`` to its first batch in fresh processes, cache warm (numpy and
    the package imported first, as in any command): the cost every command and worker pays."""
    body = ("import numpy.random\nfrom paddle_mnist.engine.batches import load_data\nt0 = time.perf_counter()\n"
            f"next(load_data('train', 100, path={path!r})())\nout = {{'first': time.perf_counter() - t0}}")
    _probe(body)  # makes sure the cache is warm
    return stats(_probe(body)["first"] for _ in range(repeats))


def bench_data(path=None, repeats: int = 5, assignment_repeats: int = 3, out_dir=BENCH_DIR) -> Path:
    """Assignment-style loader vs ours: load call, one epoch of batches, peak memory; writes data.json."""
    path = str(Path(path) if path else default_path())
    res = {"command": "python -m paddle_mnist bench data", "machine": machine(), "data_file": shown(path)}
    # ours, cold: a fresh cache folder per repetition, fresh process
    cold = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as cache:
            cold.append(_probe(f"from paddle_mnist.engine.batches import load_data\nout={{}}\n"
                               f"load_data('train', 100, path={path!r})", {"PADDLE_MNIST_CACHE": cache}))
    res["ours_cold_load_s"] = stats(c["seconds"] for c in cold)
    res["ours_cold_peak_rss_mb"] = stats(c["peak_rss_mb"] for c in cold)
    # ours, warm: in this process, cache present
    load_data("train", 100, path=path)
    warm = []
    for _ in range(max(repeats, 10)):
        t0 = time.perf_counter()
        gen = load_data("train", 100, path=path)
        warm.append(time.perf_counter() - t0)
    res["ours_warm_load_s"] = stats(warm)
    res["ours_warm_first_batch_fresh_process_s"] = warm_first_batch_fresh(path, max(repeats, 7))
    res["ours_epoch_s"] = stats(_epoch_seconds(gen) for _ in range(repeats))
    probe = _probe(f"from paddle_mnist.engine.batches import load_data\nout={{}}\ng = load_data('train', 100, path={path!r})\n"
                   "for _ in g(): pass")
    res["ours_warm_peak_rss_mb"] = probe["peak_rss_mb"]
    # the assignment's loader, same file, same machine, same run
    loads = [_probe(f"from paddle_mnist.bench.run import assignment_load_data\nout={{}}\n"
                    f"assignment_load_data('train', 100, {path!r})") for _ in range(assignment_repeats)]
    res["assignment_load_s"] = stats(p["seconds"] for p in loads)
    res["assignment_peak_rss_mb"] = stats(p["peak_rss_mb"] for p in loads)
    agen = assignment_load_data("train", 100, path)
    res["assignment_epoch_s"] = stats(_epoch_seconds(agen) for _ in range(assignment_repeats))
    del agen
    res["ratios"] = {
        "warm_load_speedup": res["assignment_load_s"]["median"] / res["ours_warm_load_s"]["median"],
        "cold_load_speedup": res["assignment_load_s"]["median"] / res["ours_cold_load_s"]["median"],
        "epoch_speedup": res["assignment_epoch_s"]["median"] / res["ours_epoch_s"]["median"],
    }
    res["targets"] = {
        "warm_load_under_0.1s": res["ours_warm_load_s"]["median"] < 0.1,
        "warm_first_batch_fresh_process_under_0.02s": res["ours_warm_first_batch_fresh_process_s"]["median"] < 0.02,
        "warm_load_100x_faster": res["ratios"]["warm_load_speedup"] >= 100,
        "cold_load_under_5s": res["ours_cold_load_s"]["median"] < 5,
        "warm_peak_rss_under_500mb": res["ours_warm_peak_rss_mb"] < 500,
        "epoch_20x_faster": res["ratios"]["epoch_speedup"] >= 20,
    }
    out = Path(out_dir) / "data.json"
    write_json(out, res)
    return out


def run_bench(what: str = "all", repeats: int = 5) -> list[Path]:
    """``bench data``, ``train``, ``eval``, ``apps``, ``predict``, ``timing`` (the ledger's timing claims:
    ``bench.timing``) or all six; the files written (train/eval: ``bench.train``)."""
    paths = []
    if what in ("data", "all"):
        paths.append(bench_data(repeats=repeats))
    if what in ("train", "eval", "all"):
        if what in ("train", "all"):
            paths.append(bench_train(repeats=repeats))
        if what in ("eval", "all"):
            paths.append(bench_eval(repeats=repeats))
    if what in ("apps", "all"):
        paths.append(bench_apps(rounds=max(1, min(repeats, 3))))
    if what in ("predict", "all"):
        paths.append(bench_predict())
    if what in ("timing", "all"):
        paths.append(bench_timing(repeats=repeats))
    return paths
