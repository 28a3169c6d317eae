"""``paddle_mnist.apps.export``: exported inference models against the dygraph models, on the real eval split.

Both committed headline models (``reports/models/{mlp,softmax}.pdparams``) are
exported afresh into a temporary folder and must give the dygraph model's logits
(max abs diff <= 1e-5) and the same accuracy on all 10,000 real ``eval`` images;
the committed exports in ``reports/models/inference/`` must be what the export
writes today. ``predict --engine inference`` must answer like the dygraph engine.

    python -m pytest -q tests/test_export.py
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from paddle_mnist.errors import PaddleMnistError
from paddle_mnist.apps.export import HEADLINE_ROOT, InferenceModel, export_model, read_meta
from paddle_mnist.apps.predict import load_model, predict_images

REPO = Path(__file__).resolve().parent.parent
HEADLINES = ("mlp", "softmax")
FILES = {"inference.json", "inference.pdiparams", "inference.meta.json"}


@pytest.fixture(scope="module")
def eval_split():
    from paddle_mnist.datafile.store import read_arrays

    x, y = read_arrays()["eval"]
    return np.asarray(x, dtype=np.float32), np.asarray(y)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    root = tmp_path_factory.mktemp("export")
    return {name: export_model(REPO / "reports" / "models" / f"{name}.pdparams", root / name).parent
            for name in HEADLINES}


def _dygraph_logits(name: str, x: np.ndarray) -> np.ndarray:
    import paddle

    with paddle.no_grad():
        return load_model(REPO / "reports" / "models" / f"{name}.pdparams")(paddle.to_tensor(x)).numpy()


@pytest.mark.parametrize("name", HEADLINES)
def test_exported_logits_match_dygraph_on_all_eval_images(name, exported, eval_split):
    x, y = eval_split
    assert x.shape == (10000, 784)
    out = InferenceModel(exported[name]).logits(x)
    ref = _dygraph_logits(name, x)
    assert out.shape == ref.shape == (10000, 10)
    diff = float(np.abs(out - ref).max())
    print(f"{name}: max abs logit diff {diff:.3g}")  # measured: 0 for both (same CPU kernels)
    assert diff <= 1e-5
    acc, ref_acc = float((out.argmax(1) == y).mean()), float((ref.argmax(1) == y).mean())
    assert acc == ref_acc
    assert acc == read_meta(exported[name])["source"]["info"]["test_acc"]  # the sidecar's recorded figure


@pytest.mark.parametrize("name", HEADLINES)
def test_export_files_and_meta(name, exported):
    folder = exported[name]
    assert {p.name for p in folder.iterdir()} == FILES  # no temporary leftovers
    meta = read_meta(folder)
    assert meta["input"] == {"name": "x", "shape": [None, 784], "dtype": "float32"}
    assert meta["classes"] == list(range(10)) and meta["output"]["kind"] == "logits"
    assert "white digit" in meta["preprocessing"]["polarity"] and "784" in meta["preprocessing"]["layout"]
    assert meta["source"]["model"] == f"reports/models/{name}.pdparams"  # repository-relative
    assert meta["source"]["info"] == json.loads((REPO / "reports" / "models" / f"{name}.json").read_text())


@pytest.mark.parametrize("name", HEADLINES)
def test_committed_exports_are_current(name, exported):
    """reports/models/inference/<name>/ holds what export_model writes today, byte for byte."""
    committed = HEADLINE_ROOT / name
    assert {p.name for p in committed.iterdir()} == FILES
    for fname in FILES:
        assert (committed / fname).read_bytes() == (exported[name] / fname).read_bytes(), fname
    meta_text = (committed / "inference.meta.json").read_text()
    assert str(REPO) not in meta_text  # no absolute paths of this machine


def test_logits_rejects_wrong_shape(exported):
    with pytest.raises(PaddleMnistError, match=r"\[N, 784\]"):
        InferenceModel(exported["softmax"]).logits(np.zeros((2, 28, 28), np.float32))


def test_not_an_export_folder_is_a_clear_error(tmp_path):
    with pytest.raises(PaddleMnistError, match="not found"):
        InferenceModel(tmp_path / "missing")
    with pytest.raises(PaddleMnistError, match="not an exported model folder"):
        InferenceModel(tmp_path)


# ---------------------------------------------------------------- predict --engine inference
@pytest.fixture(scope="module")
def eval_pngs(eval_split, tmp_path_factory):
    x, y = eval_split
    folder = tmp_path_factory.mktemp("pngs")
    paths = []
    for i in range(6):
        path = folder / f"eval{i}-label{int(y[i])}.png"
        Image.fromarray(np.round(x[i].reshape(28, 28) * 255).astype(np.uint8)).save(path)
        paths.append(path)
    return paths, y[:6]


def test_predict_inference_engine_matches_dygraph(eval_pngs, exported):
    paths, labels = eval_pngs
    for name in HEADLINES:
        dy = predict_images(paths, REPO / "reports" / "models" / f"{name}.pdparams")
        inf = predict_images(paths, exported[name], engine="inference")
        assert [r["digit"] for r in inf] == [r["digit"] for r in dy]
        np.testing.assert_allclose([r["probabilities"] for r in inf], [r["probabilities"] for r in dy],
                                   atol=1e-6)
    assert [r["digit"] for r in inf] == list(labels)  # these six are easy: both models get them right


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "paddle_mnist", *map(str, args)], cwd=REPO, capture_output=True,
                          text=True, timeout=120)


def _error_lines(res) -> list[str]:
    """stderr without the environment's ccache warning (printed by ``import paddle``)."""
    lines = [line for line in res.stderr.strip().splitlines() if line.strip()]
    return [line for line in lines if "ccache" not in line and "warnings.warn" not in line]


def test_cli_predict_engines_agree(eval_pngs):
    paths, _ = eval_pngs
    dy, inf = _cli("predict", *paths), _cli("predict", "--engine", "inference", *paths)
    assert dy.returncode == 0 and inf.returncode == 0, (dy.stderr[-500:], inf.stderr[-500:])
    assert inf.stdout == dy.stdout and len(inf.stdout.splitlines()) == len(paths)


def test_cli_export_writes_folder(tmp_path):
    res = _cli("export", "--model", "reports/models/softmax.pdparams", "--out", tmp_path / "sm")
    assert res.returncode == 0, res.stderr[-500:]
    assert {p.name for p in (tmp_path / "sm").iterdir()} == FILES
    assert str(tmp_path / "sm") in res.stdout


@pytest.mark.parametrize("args, message", [
    (("export", "--model", "no/such.pdparams"), "model file not found"),
    (("export", "--model", "reports/models/softmax.pdparams", "--out", "README.md"), "not a folder"),
    (("predict", "--engine", "inference", "README.md"), "README.md: not an image"),
    (("export", "--model", "reports/models/softmax.pdparams", "--out", "README.md/sub"), "is a file"),
])
def test_cli_bad_input_is_one_line(args, message):
    res = _cli(*args)
    lines = _error_lines(res)
    assert res.returncode != 0 and len(lines) == 1 and lines[0].startswith("error: "), res.stderr[-800:]
    assert message in lines[0]
    assert "Traceback" not in res.stderr


def test_cli_inference_engine_wants_an_export_folder(eval_pngs):
    paths, _ = eval_pngs
    res = _cli("predict", "--engine", "inference", "--model", "reports/models/mlp.pdparams", paths[0])
    lines = _error_lines(res)
    assert res.returncode != 0 and len(lines) == 1, res.stderr
    assert "python -m paddle_mnist export --model reports/models/mlp.pdparams --out runs/export/mlp" in lines[0]
