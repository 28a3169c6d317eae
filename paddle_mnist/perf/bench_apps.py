"""The course's last steps, measured: export parity, demo latency per drawing, 1 vs 2 training processes.

Writes ``reports/bench/apps.json``:

* ``export``: per headline model, the largest |logit| difference between the
  exported inference model (``paddle.inference``) and the dygraph model on all
  10,000 ``eval`` images, and both accuracies;
* ``demo``: the server-side time of one drawing (preprocessing plus both models),
  median of ``repeats`` requests per round through the Flask app's test client;
* ``distributed``: seconds of one epoch of the MLP (batch 100, full ``train``)
  in one process and in two data-parallel processes (``train --nproc 2``).

    python -m paddle_mnist bench apps
"""
from __future__ import annotations

import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from paddle_mnist.paths import MODELS, REPO
from paddle_mnist.perf.measure import BENCH_DIR, machine, stats
from paddle_mnist.records import write_json


def export_parity() -> dict:
    """Exported vs dygraph logits of both headline models on every ``eval`` image."""
    import paddle

    from paddle_mnist.apps.export import InferenceModel
    from paddle_mnist.datafile.store import read_arrays
    from paddle_mnist.engine.checkpoint import load_model

    x, y = (np.asarray(a) for a in read_arrays()["eval"])
    out = {}
    for name in ("mlp", "softmax"):
        model = load_model(MODELS / f"{name}.pdparams")
        with paddle.no_grad():
            dy = model(paddle.to_tensor(np.ascontiguousarray(x))).numpy()
        inf = InferenceModel(MODELS / "inference" / name).logits(x)
        out[name] = {"images": int(len(y)), "max_abs_logit_diff": float(np.abs(dy - inf).max()),
                     "dygraph_acc": float((dy.argmax(1) == y).mean()),
                     "inference_acc": float((inf.argmax(1) == y).mean())}
    return out


def demo_latency(repeats: int = 20, rounds: int = 3) -> dict:
    """Server-side milliseconds per drawing (``server_ms`` of ``/api/predict``), median of ``repeats`` a round."""
    from PIL import Image, ImageDraw

    from paddle_mnist.apps.demo import create_app, load_models

    img = Image.new("RGB", (280, 280), "white")
    ImageDraw.Draw(img).line([(100, 60), (240, 60), (160, 250)], fill="black", width=18)  # a drawn 7
    buf = io.BytesIO()
    img.save(buf, "PNG")
    client = create_app(load_models()).test_client()
    medians = []
    for _ in range(rounds):
        times = []
        for _ in range(repeats):
            res = client.post("/api/predict", data=buf.getvalue(), content_type="image/png")
            times.append(res.get_json()["server_ms"])
        medians.append(statistics.median(times))
    return {"requests_per_round": repeats, "server_ms_median_per_round": medians, "server_ms": stats(medians)}


def distributed_epoch(rounds: int = 3) -> dict:
    """Seconds of one MLP epoch (batch 100) in one process and in two (``train --nproc``), ``rounds`` each."""
    out = {}
    for nproc in (1, 2):
        secs = []
        for _ in range(rounds):
            with tempfile.TemporaryDirectory() as tmp:
                cmd = [sys.executable, "-m", "paddle_mnist", "train", "mlp", "--seeds", "0", "--epochs", "1",
                       "--runs-dir", tmp, "--results-dir", os.path.join(tmp, "results"), "--device", "cpu"]
                if nproc > 1:
                    cmd += ["--nproc", str(nproc)]
                subprocess.run(cmd, cwd=REPO, check=True, capture_output=True, timeout=900)
                run = next(d for d in (Path(tmp) / "mlp").iterdir()  # named after --epochs 1 (engine.overrides)
                           if d.name.startswith("adam-") and not d.name.startswith("adam-cosine"))
                summary = json.loads((run / "summary.json").read_text())
                secs.append(summary["history"]["seconds"][0])
        out[f"{nproc}_process"] = {"epoch_seconds": secs, **stats(secs)}
    out["speedup"] = out["1_process"]["median"] / out["2_process"]["median"]
    return out


def bench_apps(repeats: int = 20, rounds: int = 3, out_dir=BENCH_DIR) -> Path:
    res = {"command": "python -m paddle_mnist bench apps", "machine": machine(), "export": export_parity(),
           "demo": demo_latency(repeats, rounds), "distributed": distributed_epoch(rounds)}
    path = Path(out_dir) / "apps.json"
    write_json(path, res)
    return path
