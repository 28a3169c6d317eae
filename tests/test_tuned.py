"""The speed seam (``perf.tuned``) gives the same bits as the engine's untuned loop.

The plain step is ``engine.loop.train_epoch`` with ``paddle.to_tensor``,
``F.cross_entropy``, ``paddle.optimizer.Adam`` and zero-filled gradients; the tuned
step uses DLPack batches, the lean cross entropy, ``lean_adam.Adam`` and released
gradients. Both train on real images; every weight must be equal to the bit.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import paddle
import pytest
from conftest import REAL_DATA

from paddle_mnist.engine.batches import load_data
from paddle_mnist.engine.losses import get_loss
from paddle_mnist.engine.nets import build_model
from paddle_mnist.engine.loop import evaluate, train_epoch
from paddle_mnist.engine import fit as engine
from paddle_mnist.engine.checkpoint import load_state
from paddle_mnist.engine.config import TrainConfig
from paddle_mnist.engine.optimizers import build_optimizer
from paddle_mnist.perf import lean_adam, tuned


def _one_epoch(cfg: TrainConfig, tuned_on: bool, monkeypatch, n_batches: int = 30):
    monkeypatch.setenv("PADDLE_MNIST_TUNED", "1" if tuned_on else "0")
    kit = tuned.step_kit("cpu")
    assert kit.tuned is tuned_on
    paddle.seed(cfg.seed)
    loss = kit.loss(get_loss(cfg.loss))
    model = build_model(cfg.model, **cfg.model_kwargs())
    opt = build_optimizer(cfg.optimizer, model.parameters(), cfg)
    assert (type(opt).__module__ == "paddle_mnist.perf.lean_adam") == (tuned_on and cfg.optimizer == "adam")
    batches = list(load_data("train", cfg.batch_size, path=REAL_DATA, seed=cfg.seed)())[:n_batches]
    losses = [v for v, _, _ in train_epoch(model, iter(batches), loss, opt, to_tensor=kit.to_tensor,
                                           release_grads=kit.release_grads)]
    vx, vy = next(load_data("valid", 1000, path=REAL_DATA)())
    _, acc, pred = evaluate(model, vx, vy, loss, to_tensor=kit.to_tensor)
    return losses, {k: v.numpy() for k, v in model.state_dict().items()}, pred


@pytest.mark.parametrize("cfg", [
    TrainConfig(model="mlp", optimizer="adam", lr=1e-3, dropout=0.2, seed=3),
    TrainConfig(model="mlp", optimizer="adam", lr=1e-3, lr_schedule="cosine", seed=1),
    TrainConfig(model="softmax", optimizer="sgd", lr=0.1, seed=0),
    TrainConfig(model="mlp", optimizer="momentum", lr=0.01, seed=2),
], ids=["mlp-adam-dropout", "mlp-adam-cosine", "softmax-sgd", "mlp-momentum"])
def test_plain_and_tuned_steps_give_the_same_bits(cfg, monkeypatch):
    plain_losses, plain_w, plain_pred = _one_epoch(cfg, False, monkeypatch)
    fast_losses, fast_w, fast_pred = _one_epoch(cfg, True, monkeypatch)
    assert plain_losses == fast_losses
    assert plain_w.keys() == fast_w.keys()
    for k in plain_w:
        assert np.array_equal(plain_w[k], fast_w[k]), k
    assert np.array_equal(plain_pred, fast_pred)


def test_the_tuned_pieces_are_really_different_code(monkeypatch):
    """The test above is not vacuous: tuned and plain differ in every piece they swap."""
    monkeypatch.setenv("PADDLE_MNIST_TUNED", "1")
    kit = tuned.step_kit("cpu")
    assert kit.release_grads and kit.loss(get_loss("cross_entropy")).fn is tuned.lean_cross_entropy
    batch = np.ones((2, 3), np.float32)
    shared = kit.to_tensor(batch)
    batch[0, 0] = 7.0
    assert shared.numpy()[0, 0] == 7.0  # zero-copy
    assert kit.adam is lean_adam.Adam  # the kit names the Adam the engine builds
    monkeypatch.setenv("PADDLE_MNIST_TUNED", "0")
    plain = tuned.step_kit("cpu")
    assert not plain.release_grads and plain.loss(get_loss("cross_entropy")).fn is get_loss("cross_entropy").fn
    assert plain.adam.func is paddle.optimizer.Adam and plain.adam.keywords == {"use_multi_tensor": True}
    params = build_model("softmax").parameters()
    assert type(build_optimizer("adam", params, TrainConfig(), kit)) is lean_adam.Adam  # the kit's, not the env's


def test_engine_fit_plain_and_tuned_identical(tmp_path, monkeypatch):
    """The whole engine (checkpoints, schedule, eval) with the seam off and on: identical records and weights."""
    cfg = TrainConfig(model="mlp", hidden=(64, 32), optimizer="adam", lr_schedule="cosine", dropout=0.1, epochs=2,
                      train_subset=2000, valid_subset=500, histograms=False, data_path=str(REAL_DATA),
                      device="cpu")
    out = {}
    for flag in ("0", "1"):
        monkeypatch.setenv("PADDLE_MNIST_TUNED", flag)
        res = engine.fit(cfg, tmp_path / flag, progress=False, threads=1)
        out[flag] = (dataclasses.replace(cfg), res, load_state(tmp_path / flag / "best.pdparams"))
    (_, a, wa), (_, b, wb) = out["0"], out["1"]
    strip = lambda r: {k: v for k, v in r["history"].items() if k != "seconds"}  # noqa: E731
    assert strip(a) == strip(b) and a["test_acc"] == b["test_acc"] and a["iterations"] == b["iterations"]
    assert all(np.array_equal(wa[k], wb[k]) for k in wa)
