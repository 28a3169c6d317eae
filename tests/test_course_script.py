"""The plain script ``paddle_mnist/course/mnist.py``: plain, runnable, and giving the engine's numbers.

The engine (``engine.fit``) trains the same nets through the speed seam (``perf.tuned``) and computes each
``Linear`` as one ``addmm``; the plain script uses ``nn.Linear`` (``matmul`` then ``add``) and Paddle's
per-parameter Adam, where the engine runs the fused multi-tensor kernel. So the two agree to rounding, not to
the bit: from the same seed they start from bit-identical weights and see the same batches in the same order,
and after the steps below the largest weight difference measured was 4.5e-8 (softmax, SGD, 100 steps) and
1.8e-6 (MLP, Adam, 100 steps; Adam turns rounding-sized gradients into lr-sized steps), while the weights
themselves are ~0.1. The tests allow 1e-6 and 2e-5, and the two nets must predict the same digit for at least
99.8% of the 10,000 valid images.
"""
from __future__ import annotations

import ast
import dataclasses
import itertools
import runpy
import sys

import numpy as np
import paddle
import pytest

from paddle_mnist.course import mnist
from paddle_mnist.engine.checkpoint import load_state
from paddle_mnist.engine.config import TrainConfig
from paddle_mnist.engine.fit import fit
from paddle_mnist.engine.nets import build_model, count_parameters

SCRIPT = mnist.__file__
NETS = {"softmax": (mnist.SoftmaxNet, 7_850, TrainConfig(model="softmax", optimizer="sgd", lr=0.1)),
        "mlp": (mnist.MLP, 199_210, TrainConfig(model="mlp", optimizer="adam", lr=1e-3))}
TOLERANCE = {"softmax": 1e-6, "mlp": 2e-5}  # largest |plain - engine| weight after STEPS (see the docstring)
STEPS = 100


def _plain(name: str, steps: int, seed: int = 0):
    """``steps`` steps of the plain script's ``train`` from ``seed``, as its ``main`` seeds and builds them."""
    paddle.seed(seed)
    np.random.seed(seed)
    batches = mnist.load_data("train", 100)
    model = NETS[name][0]()
    initial = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    opt = mnist.make_optimizer(name, model, mnist.REFERENCE[name][0])
    mnist.train(model, opt, itertools.islice(batches(), steps))
    return model, initial


def _predictions(model):
    x, _ = next(mnist.load_data("valid", 10_000)())
    model.eval()
    with paddle.no_grad():
        return paddle.argmax(model(paddle.to_tensor(x)), axis=-1).numpy()


@pytest.mark.parametrize("name", sorted(NETS))
def test_parameter_counts_and_names_match_the_engine(name):
    cls, count, cfg = NETS[name]
    plain, engine = cls(), build_model(cfg.model, **cfg.model_kwargs())
    assert count_parameters(plain) == count_parameters(engine) == count  # 7,850 and 199,210
    assert {k: v.shape for k, v in plain.state_dict().items()} == {k: v.shape for k, v in engine.state_dict().items()}
    assert [k for k in plain.state_dict() if k.endswith(".weight")] == [
        f"fc{i}.weight" for i in range(1, len(plain.state_dict()) // 2 + 1)]


@pytest.mark.parametrize("name", sorted(NETS))
def test_plain_script_and_engine_train_to_the_same_weights(name, tmp_path):
    plain, initial = _plain(name, STEPS)
    cfg = dataclasses.replace(NETS[name][2], epochs=1, max_steps=STEPS, valid_subset=100, histograms=False,
                              score_eval=False, device="cpu")
    record = fit(cfg, tmp_path / name, progress=False)
    assert record["steps"] == STEPS
    engine_w = load_state(tmp_path / name / "best.pdparams")
    paddle.seed(0)
    engine = build_model(cfg.model, **cfg.model_kwargs())
    assert all(np.array_equal(v.numpy(), initial[k]) for k, v in engine.state_dict().items()), "different start"
    engine.set_state_dict(engine_w)
    plain_w = {k: v.numpy() for k, v in plain.state_dict().items()}
    assert plain_w.keys() == engine_w.keys()
    worst = max(float(np.abs(plain_w[k] - np.asarray(engine_w[k])).max()) for k in plain_w)
    moved = min(float(np.abs(plain_w[k] - initial[k]).max()) for k in plain_w)
    assert worst <= TOLERANCE[name], f"{name}: plain and engine weights differ by {worst:.3g}"
    assert moved > 100 * TOLERANCE[name], "the nets did not train: the comparison would be vacuous"
    agree = float((_predictions(plain) == _predictions(engine)).mean())
    assert agree >= 0.998, f"{name}: plain and engine predict the same digit on only {agree:.2%} of valid"


def test_the_script_is_plain():
    """At most 200 lines, importing only the standard library, paddle, numpy and the data-file reader."""
    source = open(SCRIPT, encoding="utf-8").read()
    assert len(source.splitlines()) <= 200
    tree = ast.parse(source)
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert imported == {"argparse", "itertools", "numpy", "paddle", "paddle.nn", "paddle.nn.functional",
                        "paddle_mnist.datafile.store"}
    assert {c.name for c in tree.body if isinstance(c, ast.ClassDef)} == {"SoftmaxNet", "MLP"}
    sizes = {f.name: f.end_lineno - f.lineno + 1 for f in tree.body if isinstance(f, ast.FunctionDef)}
    assert sizes["train"] <= 15 and sizes["test"] <= 15, sizes


def test_main_runs_as_a_module_and_refuses_bad_settings(monkeypatch, capsys):
    """``python -m paddle_mnist.course`` (run in-process): three steps of two epochs, then a refused setting."""
    monkeypatch.setattr(sys, "argv", ["mnist", "--model", "softmax", "--epochs", "2", "--max-steps", "3"])
    runpy.run_module("paddle_mnist.course", run_name="__main__")
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "softmax: 7,850 parameters, SGD lr 0.1 (constant), 2 epochs, batch size 100, seed 0"
    assert [line.split(":")[0] for line in out[1:]] == ["epoch 1", "epoch 2", "test (eval split, 10,000 images)"]
    accuracy = float(out[-1].rsplit(" ", 1)[1].rstrip("%"))
    assert 20 < accuracy < 90, out[-1]  # 6 steps of SGD: trained, and no more than 6 steps
    assert mnist.parse_args([]).lr_schedule == "cosine" and mnist.parse_args([]).epochs == 10
    with pytest.raises(SystemExit):
        mnist.main(["--epochs", "0"])
    assert capsys.readouterr().err.splitlines()[-1].endswith("error: --epochs must be positive, got 0")


@pytest.mark.filterwarnings("ignore:To copy construct from a tensor")  # raised inside paddle.Model's loop
@pytest.mark.parametrize("name", sorted(NETS))
def test_paddle_model_fit_lands_where_the_loop_does(name):
    """``paddle.Model(net).prepare(opt, loss, Accuracy()).fit`` against the script's ``train``, 100 steps each from
    the same seed: valid accuracy within 1.5 points (measured at 150 steps over seeds 0-2: at most 0.34 points
    apart; from seed 0 the two give the same accuracy)."""
    from paddle_mnist.datafile.dataset import MnistJson

    loop, _ = _plain(name, 100)
    _, loop_acc = mnist.test(loop, mnist.load_data("valid", 1000)())
    paddle.seed(0)
    np.random.seed(0)
    net = NETS[name][0]()
    model = paddle.Model(net)
    model.prepare(mnist.make_optimizer(name, net, mnist.REFERENCE[name][0]), paddle.nn.CrossEntropyLoss(),
                  paddle.metric.Accuracy())
    model.fit(MnistJson("train"), batch_size=100, epochs=1, num_iters=100, verbose=0)
    hapi_acc = float(model.evaluate(MnistJson("valid"), batch_size=1000, verbose=0)["acc"])
    assert loop_acc > 0.8, loop_acc  # both trained, not just initialised
    assert abs(hapi_acc - loop_acc) <= 0.015, (hapi_acc, loop_acc)
