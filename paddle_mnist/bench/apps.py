"""The course's last steps, measured: export parity, demo latency per drawing, 1 vs 2 training processes,
and predict's accuracy on handwriting with each preprocessing step on and off.

``bench apps`` writes ``reports/bench/apps.json``:

* ``export``: per headline model, the largest |logit| difference between the
  exported inference model (``paddle.inference``) and the dygraph model on all
  10,000 ``eval`` images, and both accuracies;
* ``demo``: the server-side time of one drawing (preprocessing plus both models),
  median of ``repeats`` requests per round through the Flask app's test client;
* ``distributed``: seconds of one epoch of the MLP (batch 100, full ``train``)
  in one process and in two data-parallel processes (``train --nproc 2``).

``bench predict`` writes ``reports/bench/predict.json``: the accuracy of both headline models
(``reports/models/{mlp,softmax}``) on the 200 images of ``data/handwriting/`` (see its README: simulated
handwriting, scanned and photographed at low resolution, both polarities) with every preprocessing
step as ``predict`` runs it (``auto``: only where the image needs it), each step off in turn, and the
lighting flattened always (``on``, as before it was made conditional); per capture kind too.

    python -m paddle_mnist bench apps
    python -m paddle_mnist bench predict
"""
from __future__ import annotations

import csv
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
from paddle_mnist.bench.measure import BENCH_DIR, machine, stats
from paddle_mnist.records import write_json
from paddle_mnist.apps.export import InferenceModel
from paddle_mnist.datafile.store import read_arrays
from paddle_mnist.engine.checkpoint import load_model
from paddle_mnist.apps.demo import create_app, load_models
from paddle_mnist.apps.predict import Steps, preprocess_image
from paddle_mnist.errors import PaddleMnistError
from paddle_mnist.apps.model_arg import open_model, resolve_model
# deferred: paddle, PIL (in the benchmark that times them)


def export_parity() -> dict:
    """Exported vs dygraph logits of both headline models on every ``eval`` image."""
    import paddle

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


HANDWRITING = REPO / "data" / "handwriting"
BASE_ARM = "predict (every step auto)"
PREPROCESSING_ARMS = {  # arm -> the Steps fields that differ from predict's own (all "auto")
    BASE_ARM: {},
    "flatten_lighting off": {"flatten_lighting": "off"},
    "flatten_lighting always on": {"flatten_lighting": "on"},
    "paper_noise off": {"paper_noise": "off"},
    "stretch_ink off": {"stretch_ink": "off"},
}


def _handwriting(folder: Path) -> list[dict]:
    with open(folder / "labels.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def _arms(files, labels, groups, models) -> dict:
    """Per preprocessing arm: each model's accuracy on ``files`` overall and per group (``groups[i]``)."""
    labels, groups = np.asarray(labels), np.asarray(groups)
    arms = {}
    for arm, changed in PREPROCESSING_ARMS.items():
        steps, x, read = Steps(**changed), [], []
        for path in files:
            try:
                x.append(preprocess_image(path, steps))
                read.append(True)
            except PaddleMnistError:  # no digit found: counted as wrong
                x.append(np.zeros(784, dtype=np.float32))
                read.append(False)
        read = np.array(read)
        arms[arm] = {"steps": vars(steps), "unreadable": int((~read).sum())}
        for name, model in models.items():
            right = (model.probabilities(np.stack(x)).argmax(axis=1) == labels) & read
            arms[arm][name] = {"accuracy": float(right.mean()), "correct": int(right.sum()),
                               "by_capture": {str(g): float(right[groups == g].mean()) for g in sorted(set(groups))}}
    return arms


def predict_accuracy(folder=HANDWRITING, mnist_pngs: int = 500) -> dict:
    """Accuracy of both headline models, per preprocessing arm, on ``folder``'s handwriting (overall and per
    capture kind) and, as a control, on the first ``mnist_pngs`` official ``eval`` images saved as PNG."""
    from PIL import Image

    folder = Path(folder)
    rows = _handwriting(folder)
    models = {name: open_model(resolve_model(name), "cpu") for name in ("mlp", "softmax")}
    res = {"images": len(rows), "set": "data/handwriting",
           "captures": {k: sum(r["capture"] == k for r in rows) for k in sorted({r["capture"] for r in rows})},
           "arms": _arms([folder / r["file"] for r in rows], [int(r["label"]) for r in rows],
                         [r["capture"] for r in rows], models)}
    x, y = (np.asarray(a) for a in read_arrays()["eval"])
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i in range(mnist_pngs):
            files.append(Path(tmp) / f"eval{i}.png")
            Image.fromarray(np.round(x[i].reshape(28, 28) * 255).astype(np.uint8)).save(files[-1])
        res["mnist_eval_png"] = {"images": mnist_pngs, "arms": _arms(files, y[:mnist_pngs], ["png"] * mnist_pngs,
                                                                      models)}
    return res


def _gains(arms: dict) -> dict:
    """Per arm but predict's own: predict's accuracy minus the arm's, per model (>= 0: the step does not hurt)."""
    base = arms[BASE_ARM]
    return {arm: {m: round(base[m]["accuracy"] - a[m]["accuracy"], 6) for m in ("mlp", "softmax")}
            for arm, a in arms.items() if arm != BASE_ARM}


def bench_predict(out_dir=BENCH_DIR) -> Path:
    """``reports/bench/predict.json``: ``predict_accuracy`` plus what each step gains (``step_gain``, on the
    handwriting and on the MNIST control) and ``no_step_lowers_accuracy``: every gain >= 0."""
    res = {"command": "python -m paddle_mnist bench predict", "machine": machine(), **predict_accuracy()}
    res["step_gain"] = _gains(res["arms"])
    res["mnist_eval_png"]["step_gain"] = _gains(res["mnist_eval_png"]["arms"])
    res["no_step_lowers_accuracy"] = all(g >= 0 for gains in (res["step_gain"], res["mnist_eval_png"]["step_gain"])
                                         for arm in gains.values() for g in arm.values())
    path = Path(out_dir) / "predict.json"
    write_json(path, res)
    return path
