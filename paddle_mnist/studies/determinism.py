"""The determinism check: one quick configuration trained twice with one seed, on two threads and on one.

``MKL_CBWR=AUTO,STRICT`` (``perf.env``) must make the two runs agree to the bit;
the record goes to ``reports/results/determinism.json``.

    python -m paddle_mnist reproduce --quick
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import shutil
from pathlib import Path

import numpy as np

from paddle_mnist.engine.checkpoint import load_state
from paddle_mnist.engine.experiment import Settings
from paddle_mnist.records import write_json
from paddle_mnist.paths import RESULTS
from paddle_mnist.studies.registry import get_experiment
from paddle_mnist.engine.fit import fit


def check_determinism(runs_dir="runs", results_dir=None, experiment: str = "mlp", seed: int = 0) -> dict:
    """Train the same quick configuration twice with one seed; record whether metrics and weights match.

    The first run uses the engine's default thread count (two on two cores), the
    second one thread, as a parallel worker does: ``MKL_CBWR=AUTO,STRICT`` must
    make them agree to the bit.
    """
    exp = get_experiment(experiment)
    cfg = dataclasses.replace(Settings.resolve(exp, (seed,), quick=True).config(exp, exp.variants[0][1]), seed=seed)
    results = []
    for i, threads in ((1, 0), (2, 1)):
        run_dir = Path(runs_dir) / "determinism" / f"run{i}"
        shutil.rmtree(run_dir, ignore_errors=True)
        results.append((fit(cfg, run_dir, experiment="determinism", progress=False, threads=threads), run_dir))
    (a, da), (b, db) = results
    wa, wb = load_state(da / "best.pdparams"), load_state(db / "best.pdparams")
    diff = max(float(np.abs(np.asarray(wa[k]) - np.asarray(wb[k])).max()) for k in wa)
    record = {"experiment": experiment, "seed": seed, "device": a["device"], "epochs": len(a["history"]["epoch"]),
              "steps": a["steps"], "valid_acc": [a["best_valid_acc"], b["best_valid_acc"]],
              "test_acc": [a["test_acc"], b["test_acc"]], "max_weight_diff": diff,
              "threads": [a.get("threads"), b.get("threads")],
              "identical": _metrics(a) == _metrics(b) and diff == 0.0,
              "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
    write_json(Path(results_dir or RESULTS) / "determinism.json", record)
    return record


def _metrics(run: dict) -> dict:
    """Everything a run measured except wall-clock time."""
    return {"history": {k: v for k, v in run["history"].items() if k != "seconds"},
            "iterations": run["iterations"], "test_acc": run["test_acc"], "test_loss": run["test_loss"]}
