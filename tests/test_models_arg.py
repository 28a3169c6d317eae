"""One model argument for predict, evaluate, export and demo (``apps.model_arg``), ``--device``, and a demo of
one user-trained model in headless Chromium.

A tiny run folder is trained once (one epoch on the synthetic ``tiny`` data, in process); every command takes
it, its ``best.pdparams``, a name and (where it runs one) an exported folder.

    python -m pytest -q tests/test_models_arg.py
"""
from __future__ import annotations

import base64
import io
import json

import numpy as np
import pytest
from conftest import REPO, make_splits, write_course_file
from PIL import Image

from paddle_mnist.apps.cli import build_parser, main
from paddle_mnist.apps.model_arg import resolve_model
from paddle_mnist.errors import PaddleMnistError

MODELS = REPO / "reports" / "models"


@pytest.fixture(autouse=True, scope="module")
def _layer_names_as_found():
    """Paddle numbers the layers it traces process-wide (``/Linear_3/`` in a program after three traces), so an
    export here would change the bytes a later test_export compares with the committed exports: restore it."""
    import copy

    from paddle.base import framework

    saved = copy.deepcopy(framework._name_struct)  # the counters live in the tree: keep a copy
    yield
    framework._name_struct = saved


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A finished run folder of a user-trained MLP (runs/mlp/tiny-seed0), made in ~1 s."""
    from paddle_mnist.engine.config import TrainConfig
    from paddle_mnist.engine.fit import fit

    root = tmp_path_factory.mktemp("user")
    data = write_course_file(root / "tiny.json.gz", make_splits())
    cfg = TrainConfig(model="mlp", hidden=(16,), epochs=1, batch_size=8, lr=0.01, data_path=str(data),
                      device="cpu")
    run = root / "runs" / "mlp" / "tiny-seed0"
    fit(cfg, run, experiment="mlp", progress=False)
    return run


@pytest.fixture(scope="module")
def digit_png(tmp_path_factory):
    from paddle_mnist.datafile.store import read_arrays

    x, _ = read_arrays()["eval"]
    path = tmp_path_factory.mktemp("img") / "seven.png"
    Image.fromarray(np.round(np.asarray(x[0]).reshape(28, 28) * 255).astype(np.uint8)).save(path)
    return path


# ---------------------------------------------------------------- the resolver
@pytest.mark.parametrize("given, kind, path, name", [
    ("mlp", "file", MODELS / "mlp.pdparams", "mlp"),
    ("softmax", "file", MODELS / "softmax.pdparams", "softmax"),
    (None, "file", MODELS / "mlp.pdparams", "mlp"),
    ("reports/models/softmax.pdparams", "file", MODELS / "softmax.pdparams", "softmax"),
    ("reports/models/softmax.json", "file", MODELS / "softmax.pdparams", "softmax"),
    ("reports/models/inference/mlp", "export", MODELS / "inference" / "mlp", "mlp"),
])
def test_every_kind_of_model_argument_resolves(given, kind, path, name, monkeypatch):
    monkeypatch.chdir(REPO)
    ref = resolve_model(given)
    assert (ref.kind, ref.path.resolve(), ref.name) == (kind, path.resolve(), name)


@pytest.mark.parametrize("engine, path", [("inference", MODELS / "inference" / "mlp"), (None, MODELS / "mlp.pdparams")])
def test_a_name_follows_the_engine(engine, path):
    assert resolve_model("mlp", engine=engine).path == path


def test_a_run_folder_and_its_weights_resolve_to_the_same_model(run_dir):
    for given in (run_dir, run_dir / "best.pdparams"):
        ref = resolve_model(given)
        assert ref.kind == "file" and ref.path == run_dir / "best.pdparams"
    assert resolve_model(run_dir).name == "mlp-tiny-seed0"


@pytest.mark.parametrize("case, message", [
    ("name", "no such file or folder, nor a model name (names: mlp, softmax"),
    ("empty", "--model is empty"),
    ("plain_folder", "not a model folder"),
    ("unfinished_run", "a run folder without best.pdparams"),
    ("export_to_export", "is already an exported model"),
    ("export_on_dygraph", "run it with --engine inference"),
    ("file_on_inference", "python -m paddle_mnist export --model reports/models/mlp.pdparams --out runs/export/mlp"),
])
def test_a_bad_model_argument_is_one_line(case, message, tmp_path, monkeypatch):
    monkeypatch.chdir(REPO)
    (tmp_path / "unfinished").mkdir()
    (tmp_path / "unfinished" / "config.json").write_text("{}")
    call = {"name": lambda: resolve_model("nosuchmodel"), "empty": lambda: resolve_model(" "),
            "plain_folder": lambda: resolve_model(tmp_path),
            "unfinished_run": lambda: resolve_model(tmp_path / "unfinished"),
            "export_to_export": lambda: resolve_model("reports/models/inference/mlp", exports=False),
            "export_on_dygraph": lambda: resolve_model("reports/models/inference/mlp", engine="dygraph"),
            "file_on_inference": lambda: resolve_model("reports/models/mlp.pdparams", engine="inference")}[case]
    with pytest.raises(PaddleMnistError) as info:
        call()
    assert message in str(info.value) and "\n" not in str(info.value)


# ---------------------------------------------------------------- every command takes a run folder
def test_export_takes_a_run_folder_and_a_name(run_dir, tmp_path, capsys):
    assert main(["export", "--model", str(run_dir), "--out", str(tmp_path / "run"), "--device", "cpu"]) == 0
    meta = json.loads((tmp_path / "run" / "inference.meta.json").read_text())
    assert meta["source"]["info"]["model"] == "mlp" and meta["source"]["info"]["model_kwargs"]["hidden"] == [16]
    assert meta["source"]["sidecar"].endswith("tiny-seed0/config.json")
    assert main(["export", "--model", "softmax", "--out", str(tmp_path / "sm")]) == 0
    assert (tmp_path / "sm" / "inference.pdiparams").is_file()
    assert f"export -> {tmp_path / 'run'}" in capsys.readouterr().out


def test_predict_and_evaluate_take_a_run_folder_its_export_and_a_device(run_dir, digit_png, tmp_path, capsys):
    from paddle_mnist.apps.evaluate import evaluate_model
    from paddle_mnist.apps.export import export_model
    from paddle_mnist.apps.predict import predict_images

    export_model(run_dir, tmp_path / "exp")
    dy, inf = predict_images([digit_png], run_dir), predict_images([digit_png], tmp_path / "exp")
    np.testing.assert_allclose(dy[0]["probabilities"], inf[0]["probabilities"], atol=1e-6)
    assert main(["predict", str(digit_png), "--model", str(run_dir), "--device", "cpu"]) == 0
    assert capsys.readouterr().out.startswith(f"{digit_png}: {dy[0]['digit']} ")
    summary = json.loads((run_dir / "summary.json").read_text())
    tiny = run_dir.parent.parent.parent / "tiny.json.gz"
    for model in (run_dir, tmp_path / "exp"):
        res = evaluate_model(model, "eval", data_path=tiny, device="cpu")
        assert res["accuracy"] == pytest.approx(summary["test_acc"], abs=1e-6)


@pytest.mark.parametrize("command", ["predict", "evaluate", "export", "demo"])
def test_every_model_command_takes_device(command, run_dir, digit_png):
    args = {"predict": ["predict", str(digit_png), "--model"], "evaluate": ["evaluate"],
            "export": ["export", "--model"], "demo": ["demo", "--model"]}[command]
    parsed = build_parser().parse_args([*args, str(run_dir), "--device", "cpu"])
    assert parsed.device == "cpu"
    assert build_parser().parse_args([*args, str(run_dir)]).device == "auto"


@pytest.mark.parametrize("command", ["predict", "evaluate"])
def test_a_gpu_asked_of_a_cpu_build_is_one_line(command, run_dir, digit_png, capsys):
    import paddle

    if paddle.device.is_compiled_with_cuda():
        pytest.skip("this Paddle has CUDA: --device gpu is served, not refused")
    args = ["predict", str(digit_png), "--model"] if command == "predict" else ["evaluate"]
    assert main([*args, str(run_dir), "--device", "gpu"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: --device gpu needs the GPU build of Paddle; this one is CPU-only (see README: installing "
                   "the GPU build)"]


def test_an_exported_model_asked_for_a_gpu_is_refused():
    from paddle_mnist.apps.model_arg import use_device

    with pytest.raises(PaddleMnistError, match="exported models .* run on the CPU"):
        use_device("gpu", resolve_model(MODELS / "inference" / "mlp"))


def test_demo_takes_one_or_more_models(run_dir):
    from paddle_mnist.apps.demo import load_models

    assert build_parser().parse_args(["demo", "--model", "a", "--model", "b"]).model == ["a", "b"]
    one = load_models([run_dir])
    assert list(one) == ["mlp-tiny-seed0"] and one["mlp-tiny-seed0"].title == "MLP 784-16-10"
    two = load_models([run_dir, "softmax", run_dir])
    assert list(two) == ["mlp-tiny-seed0", "softmax", "mlp-tiny-seed0-2"]
    assert list(load_models()) == ["mlp", "softmax"]  # the committed exports


# ---------------------------------------------------------------- the demo of one user-trained model in Chromium
@pytest.fixture
def one_model_page(run_dir, tmp_path):
    from test_demo import demo_page, serving

    from paddle_mnist.apps.demo import load_models

    with serving(load_models([run_dir], device="cpu")) as url, \
            demo_page(url, tmp_path / "profile", panel="mlp-tiny-seed0") as browser:
        yield browser


def _shown(page, before: int) -> dict:
    page.wait_for(f"document.body.dataset.status === 'idle' && Number(document.body.dataset.responses) > {before}")
    return page.js("""({panels: document.querySelectorAll('.model').length,
        title: document.querySelector('.model h2').textContent,
        digit: document.getElementById('pred-mlp-tiny-seed0').textContent,
        error: message.classList.contains('error'), message: message.textContent})""")


def test_demo_of_one_user_trained_model_in_chromium(one_model_page, run_dir, digit_png, tmp_path):
    from test_demo import DIGITS, _draw

    from paddle_mnist.apps.predict import predict_images

    page = one_model_page
    before = int(page.js("Number(document.body.dataset.responses)"))
    node = page.call("Runtime.evaluate", expression="document.getElementById('file')")["result"]["objectId"]
    page.call("DOM.setFileInputFiles", files=[str(digit_png)], objectId=node)
    shown = _shown(page, before)
    assert not shown["error"], shown["message"]
    assert shown["panels"] == 1 and shown["title"] == "MLP 784-16-10"
    assert shown["digit"] == str(predict_images([digit_png], run_dir)[0]["digit"])
    page.js("document.getElementById('clear').click()")
    before = int(page.js("Number(document.body.dataset.responses)"))
    _draw(page, DIGITS["7"])
    shown = _shown(page, before)
    drawn = tmp_path / "drawn.png"
    drawn.write_bytes(base64.b64decode(page.js("pad.toDataURL('image/png')").split(",", 1)[1]))
    assert shown["panels"] == 1 and shown["digit"] == str(predict_images([drawn], run_dir)[0]["digit"])
    assert Image.open(io.BytesIO(drawn.read_bytes())).size == (280, 280)
