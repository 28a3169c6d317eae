"""The VisualDL dashboard against a real server on 127.0.0.1, after real ``--quick`` trainings.

One temporary runs folder holds three runs: ``train mlp --quick`` through the CLI,
``softmax --quick`` with weight histograms on (``--quick`` turns them off), and a
``paddle.Model.fit`` run over ``MnistJson`` with ``paddle.callbacks.VisualDL``
writing into the same ``vdl/`` tree. Every JSON answer must carry ``status == 0``
(VisualDL reports errors as HTTP 200 with ``status`` -1).
"""
from __future__ import annotations

import io
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import default_sigint

from paddle_mnist.apps.dashboard import (api, base_url, dashboard_command, dashboard_url, free_port, port_free,
                                    start_dashboard, wait_until_live)
from paddle_mnist.engine.vdl import hparam_keys
from paddle_mnist.errors import PaddleMnistError

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
OUR_SCALARS = {"train/loss", "train/epoch_loss", "train/acc", "train/lr", "valid/loss", "valid/acc", "test/acc"}
FIT_RUN = "vdl/model-fit/mlp"
FIT_TRAIN, FIT_VALID = 1000, 500


def _model_fit(log_dir: Path) -> dict:
    """One epoch of ``paddle.Model.fit`` on MnistJson subsets, logging with ``paddle.callbacks.VisualDL``."""
    import paddle

    from paddle_mnist.datafile.dataset import MnistJson
    from paddle_mnist.engine.nets import build_model

    paddle.seed(0)
    np.random.seed(0)
    train = paddle.io.Subset(MnistJson("train"), list(range(FIT_TRAIN)))
    valid = paddle.io.Subset(MnistJson("valid"), list(range(FIT_VALID)))
    net = build_model("mlp")
    model = paddle.Model(net, inputs=[paddle.static.InputSpec([None, 784], "float32", "image")],
                         labels=[paddle.static.InputSpec([None, 1], "int64", "label")])
    model.prepare(paddle.optimizer.Adam(learning_rate=1e-3, parameters=net.parameters()),
                  paddle.nn.CrossEntropyLoss(), paddle.metric.Accuracy())
    with warnings.catch_warnings():  # paddle.Model's own to_tensor(tensor) copy warning
        warnings.filterwarnings("ignore", message="To copy construct from a tensor")
        model.fit(train, valid, epochs=1, batch_size=50, verbose=0,
                  callbacks=[paddle.callbacks.VisualDL(log_dir=str(log_dir))])
        return model.evaluate(valid, batch_size=250, verbose=0)


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory):
    runs = tmp_path_factory.mktemp("dash") / "runs"
    done = subprocess.run([sys.executable, "-m", "paddle_mnist", "train", "mlp", "--quick", "--runs-dir", str(runs)],
                          cwd=REPO, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    code = ("import sys; from paddle_mnist.studies import run_experiment; "
            "run_experiment('softmax', quick=True, overrides={'histograms': True}, runs_dir=sys.argv[1])")
    done = subprocess.run([sys.executable, "-c", code, str(runs)], cwd=REPO, capture_output=True, text=True,
                          timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    fit_eval = _model_fit(runs / FIT_RUN)
    (runs / "model_fit_eval.json").write_text(json.dumps({k: float(np.ravel(v)[0]) for k, v in fit_eval.items()}))
    return runs


SERVER_LOG = {}  # the running server's log file


@pytest.fixture(scope="module")
def server(runs_dir, tmp_path_factory):
    port = free_port(HOST)
    log_path = SERVER_LOG["path"] = tmp_path_factory.mktemp("dash_log") / "visualdl.log"
    with open(log_path, "w") as log:
        proc = start_dashboard(runs_dir, HOST, port, log=log)
        try:
            wait_until_live(proc, HOST, port, timeout=60)
            yield base_url(HOST, port)
        finally:
            proc.terminate()
            proc.wait(timeout=20)


def _runs(runs_dir: Path, name: str) -> dict:
    """``{VisualDL run name: run record}`` of experiment ``name``'s quick results."""
    record = json.loads((runs_dir / "quick" / "results" / f"{name}.json").read_text())
    runs = {f"quick-{name}/{r['name']}": r for r in record["runs"]}  # shown under its run name
    assert runs and all(r["status"] == "ok" for r in runs.values())
    return runs


@pytest.fixture(scope="module")
def names(runs_dir):
    """The VisualDL run names: the first mlp and softmax runs, every run, and the Model.fit run."""
    mlp, softmax = _runs(runs_dir, "mlp"), _runs(runs_dir, "softmax")
    return {"mlp": next(iter(mlp)), "softmax": next(iter(softmax)), "all": {*mlp, *softmax, FIT_RUN},
            "records": {**mlp, **softmax}}


# ------------------------------------------------------------------ command line, no server
def test_command_uses_relative_logdir_english_and_no_telemetry(tmp_path):
    argv, cwd = dashboard_command(tmp_path / "runs", "127.0.0.1", 8123)
    assert argv[:2] == [sys.executable, str(REPO / "paddle_mnist" / "apps" / "vdl_server.py")]
    logdir = argv[argv.index("--logdir") + 1]
    assert logdir == "vdl" and not os.path.isabs(logdir)
    assert cwd == tmp_path / "runs"
    assert argv[argv.index("--language") + 1] == "en"
    assert argv[argv.index("--port") + 1] == "8123" and argv[argv.index("--host") + 1] == "127.0.0.1"
    assert "--disable-telemetry" in argv
    assert dashboard_url("0.0.0.0", 8040) == "http://127.0.0.1:8040/app/scalar"
    assert base_url("::1", 9) == "http://[::1]:9"


def test_busy_port_is_a_clear_error(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind((HOST, 0))
        s.listen()
        port = s.getsockname()[1]
        assert not port_free(HOST, port)
        with pytest.raises(PaddleMnistError, match=f"port {port} .* in use"):
            start_dashboard(tmp_path, HOST, port)


# ------------------------------------------------------------------ paddle.Model.fit
def test_model_fit_with_mnistjson_and_visualdl_callback(runs_dir):
    logs = list((runs_dir / FIT_RUN).glob("vdlrecords.*.log"))
    assert len(logs) == 1 and logs[0].stat().st_size > 0
    ev = json.loads((runs_dir / "model_fit_eval.json").read_text())
    assert np.isfinite(ev["loss"])
    assert ev["acc"] > 0.5, ev  # one epoch on 1,000 images: far above the 10% of chance


# ------------------------------------------------------------------ the API of a real server
def test_runs_and_tags(server, names):
    MLP_RUN, SOFTMAX_RUN = names["mlp"], names["softmax"]
    assert set(api(server, "runs")) == names["all"]
    components = set(api(server, "components"))
    assert {"scalar", "image", "histogram", "hyper_parameters", "text"} <= components
    scalar = api(server, "scalar/tags")
    tags = dict(zip(scalar["runs"], map(set, scalar["tags"])))
    assert OUR_SCALARS <= tags[MLP_RUN] and OUR_SCALARS <= tags[SOFTMAX_RUN]
    assert {"train/loss", "train/acc", "eval/loss", "eval/acc"} <= tags[FIT_RUN]  # paddle.callbacks.VisualDL's
    images = api(server, "image/tags")
    assert {"test/confusion_matrix", "test/misclassified"} <= set(dict(zip(images["runs"], images["tags"]))[MLP_RUN])
    texts = api(server, "text/tags")
    assert "test/misclassified_labels" in dict(zip(texts["runs"], texts["tags"]))[MLP_RUN]


def test_valid_acc_series_matches_the_results_file(server, names):
    for run, record in names["records"].items():
        series = api(server, "scalar/list", run=run, tag="valid/acc")
        assert series, f"empty valid/acc series for {run}"
        history = record["history"]
        assert [int(p[1]) for p in series] == history["epoch"]
        np.testing.assert_allclose([p[2] for p in series], history["valid_acc"], rtol=1e-6)
    fit = api(server, "scalar/list", run=FIT_RUN, tag="train/loss")
    assert len(fit) == FIT_TRAIN // 50 and all(np.isfinite(p[2]) for p in fit)  # one point per batch


def test_hparams(server, names):
    MLP_RUN, SOFTMAX_RUN = names["mlp"], names["softmax"]
    rows = {r["name"]: r for r in api(server, "hparams/list")}
    assert {MLP_RUN, SOFTMAX_RUN} <= set(rows)
    # every run logs the same keys (every setting but the plumbing), so runs of different commands compare
    keys = hparam_keys()
    assert list(rows[MLP_RUN]["hparams"]) == keys == list(rows[SOFTMAX_RUN]["hparams"])
    assert {"model", "optimizer", "lr", "hidden", "epochs", "batch_size", "seed"} <= set(keys)
    assert not {"device", "log_every", "histograms", "data_path"} & set(keys)
    soft, mlp = rows[SOFTMAX_RUN]["hparams"], rows[MLP_RUN]["hparams"]
    assert (soft["model"], soft["optimizer"], soft["lr"], soft["hidden"]) == ("softmax", "sgd", pytest.approx(0.1), "-")
    assert (mlp["model"], mlp["hidden"], mlp["epochs"]) == ("mlp", "200x200", 2)
    assert list(rows[MLP_RUN]["metrics"])[0] == "valid/acc"
    assert all(v is not None for r in rows.values() for v in r["metrics"].values())  # no missing metric
    assert all(v == round(v, 4) for r in rows.values() for v in r["metrics"].values())  # 4 decimals, no float32 tail
    last = names["records"][MLP_RUN]["history"]["valid_acc"][-1]
    assert rows[MLP_RUN]["metrics"]["valid/acc"] == pytest.approx(last, abs=5e-5)
    assert "Trial ID" in api(server, "hparams/data", type="csv").decode() and MLP_RUN in \
        api(server, "hparams/data", type="csv").decode()
    indicators = api(server, "hparams/indicators")
    assert [h["name"] for h in indicators["hparams"]] == keys
    assert [m["name"] for m in indicators["metrics"]][0] == "valid/acc"
    assert api(server, "hparams/metric", run=MLP_RUN, metric="valid/acc")
    for _ in range(2):  # VisualDL logs "Missing data of metrics!" for every metric a run lacks
        api(server, "hparams/list")
        api(server, "hparams/indicators")
    assert "Missing data" not in SERVER_LOG["path"].read_text()


def test_pr_curves_per_class(server, names):
    MLP_RUN = names["mlp"]
    tags = api(server, "pr-curve/tags")
    per_run = dict(zip(tags["runs"], tags["tags"]))
    assert {f"test/pr_digit_{d}" for d in range(10)} <= set(per_run[MLP_RUN])
    curve = api(server, "pr-curve/list", run=MLP_RUN, tag="test/pr_digit_3")
    assert curve and len(curve[0][2]) > 1  # one step: [time, step, [[precision, recall, ...] per threshold]]


def test_images_are_served_as_png(server, names):
    MLP_RUN = names["mlp"]
    from PIL import Image

    for tag, size in (("test/confusion_matrix", (640, 560)), ("test/misclassified", None)):
        steps = api(server, "image/list", run=MLP_RUN, tag=tag)
        assert steps, f"no {tag} image"
        png = api(server, "image/image", run=MLP_RUN, tag=tag, index=0)
        assert png[:8] == b"\x89PNG\r\n\x1a\n", f"{tag}: not a PNG ({len(png)} bytes)"
        img = Image.open(io.BytesIO(png))
        assert img.size[0] >= 28 and (size is None or img.size == size)
        assert len(np.unique(np.asarray(img.convert("L")))) > 5  # a picture, not a flat fill
    text = api(server, "text/text", run=MLP_RUN, tag="test/misclassified_labels", index=0).decode()
    assert "->" in text


def test_figures_carry_labels():
    """The confusion matrix writes its counts and axis names; each misclassified digit has its caption."""
    from paddle_mnist.engine.vdl import confusion_image, digit_grid

    cm = np.diag(np.full(10, 90)) + 1
    plain = confusion_image(np.diag(np.full(10, 90)) + 1)
    assert plain.shape == (560, 640, 3) and plain.dtype == np.uint8
    other = confusion_image(cm * 2)
    assert (plain != other).any()  # the counts (text) differ; the shading is the same
    digits = np.zeros((3, 784), dtype=np.float32)
    with_captions = digit_grid(digits, ["true 1 -> 7", "true 2 -> 3", "true 4 -> 9"])
    without = digit_grid(digits)
    assert with_captions.shape == without.shape and (with_captions != without).any()


def test_histograms(server, names):
    SOFTMAX_RUN = names["softmax"]
    hist = api(server, "histogram/tags")
    tags = dict(zip(hist["runs"], hist["tags"]))
    assert "weights/fc1.weight" in tags[SOFTMAX_RUN]
    series = api(server, "histogram/list", run=SOFTMAX_RUN, tag="weights/fc1.weight")
    assert [int(s[1]) for s in series] == names["records"][SOFTMAX_RUN]["history"]["epoch"]  # one per epoch
    for _, _, buckets in series:
        assert sum(b[2] for b in buckets) == 784 * 10  # every weight of Linear(784, 10) counted once


def test_errors_are_detected_by_status(server):
    with pytest.raises(PaddleMnistError, match="status -1"):
        api(server, "scalar/list")  # VisualDL answers HTTP 200 with status -1
    with pytest.raises(PaddleMnistError, match="status 1"):
        api(server, "no-such-route")


def test_page_answers_without_accept_language(server):
    req = urllib.request.Request(f"{server}/app/scalar")
    assert "Accept-language" not in req.headers
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(req, timeout=30) as resp:
        assert resp.status == 200
        assert b"<html" in resp.read().lower()


# ------------------------------------------------------------------ a browser
def test_chromium_screenshot_of_scalar_page(server, names, tmp_path):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium not installed (apt-get install -y chromium); .ci/run installs it")
    from PIL import Image

    shot = tmp_path / "scalar.png"
    argv = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-proxy-server",
            f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,900", "--hide-scrollbars",
            "--virtual-time-budget=15000", f"--screenshot={shot}", "--dump-dom", dashboard_url("127.0.0.1",
                                                                                               _port(server))]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    # the Scalars page's groups (the part of a tag before "/", each with its chart count), sorted and the first
    # one opened: loss and accuracy only (Model.fit's eval/, our test/, train/, valid/), no top-level lr group
    text = re.sub(r"(<[^>]+>)+", "|", dom)
    groups = re.findall(r"\|([a-z]+)\|(\d+)(?=\|)", text.split("|En", 1)[1].split("Ignore outliers", 1)[0])
    assert groups == [("eval", "2"), ("test", "1"), ("train", "4"), ("valid", "2")], groups
    for run in names["all"]:
        assert run in dom, f"{run} not in the rendered page"
    assert "<canvas" in dom  # a chart was drawn
    img = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    assert img.shape == (900, 1280, 3)
    assert len(np.unique(img.reshape(-1, 3), axis=0)) > 100, "screenshot is (nearly) one colour"
    background = img[-1, -1]
    assert (np.abs(img - background).sum(axis=-1) > 30).mean() > 0.05, "screenshot is blank"
    bar = img[:50]  # VisualDL's blue navigation bar
    assert ((bar[..., 2] > 180) & (bar[..., 0] < 100)).mean() > 0.5


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


# ------------------------------------------------------------------ the CLI end to end
def test_cli_dashboard_prints_url_and_stops_on_ctrl_c(runs_dir, names):
    port = free_port(HOST)
    proc = subprocess.Popen([sys.executable, "-m", "paddle_mnist", "dashboard", "--runs-dir", str(runs_dir),
                             "--host", HOST, "--port", str(port)], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, preexec_fn=default_sigint)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        assert ready, "no URL printed within 60 s"
        line = proc.stdout.readline()
        assert f"http://{HOST}:{port}/app/scalar" in line, line
        assert set(api(base_url(HOST, port), "runs")) == names["all"]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
        deadline = time.monotonic() + 10
        while not port_free(HOST, port) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert port_free(HOST, port), "VisualDL still listening after the CLI stopped"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
