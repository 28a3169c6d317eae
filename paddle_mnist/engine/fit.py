"""The one training engine: ``fit(config, run_dir)`` and ``evaluate(model, ...)``.

Every epoch: train over ``load_data('train')``, evaluate ``valid``, append a row to
``metrics.csv``, keep ``best.pdparams`` by valid accuracy and an atomic resume
checkpoint (model, optimizer, RNG states, history). At the end the best weights
score ``eval`` once (unless ``score_eval=False``: runs that only inform a choice).
A NaN/inf loss stops the run as ``diverged``.

    python -m paddle_mnist train softmax --epochs 5
"""
from __future__ import annotations

import math
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

from paddle_mnist.engine.checkpoint import load_state, save_state
from paddle_mnist.engine.config import TrainConfig
from paddle_mnist.datafile.store import load_data, read_arrays
from paddle_mnist.errors import PaddleMnistError
from paddle_mnist.engine.records import read_json, write_csv, write_json

METRIC_COLUMNS = ["epoch", "train_loss", "train_acc", "valid_loss", "valid_acc", "lr", "seconds"]
HISTORY_KEYS = ["epoch", "train_loss", "train_acc", "valid_loss", "valid_acc", "lr", "seconds"]
CHECKPOINT = "checkpoint.pdckpt"


def seed_everything(seed: int) -> None:
    import paddle

    random.seed(seed)
    np.random.seed(seed)
    paddle.seed(seed)


def as_tensor(a, share: bool = True):
    """A numpy batch as a Paddle tensor on the current device; on the CPU it shares the batch's memory.

    On the CPU a freshly gathered batch (C-contiguous, writable) is wrapped as it is
    through DLPack, without a copy (the tensor keeps the array alive); anything else
    (a read-only memory map, a strided view) and every batch bound for a GPU
    (``share=False``, see ``on_cpu``) is copied by ``paddle.to_tensor`` onto the current device.
    """
    import paddle

    a = np.asarray(a)
    if share and a.flags.c_contiguous and a.flags.writeable and a.dtype in (np.float32, np.int64) and a.size:
        return paddle.from_dlpack(a)
    return paddle.to_tensor(np.ascontiguousarray(a))


def on_cpu(device: str) -> bool:
    """Whether batches for ``device`` (``'cpu'``, ``'gpu:0'``, as ``paddle.get_device()`` names it) may share memory."""
    return device == "cpu"


def evaluate(model, x, y, loss, batch_size: int = 10000) -> tuple[float, float, np.ndarray]:
    """Mean loss, accuracy and predictions over ``(x, y)``, under ``no_grad`` in eval mode.

    ``x`` and ``y`` may be numpy arrays or Paddle tensors; tensors that fit in one
    batch are used as they are (no copy): ``fit`` keeps ``valid`` that way.
    """
    import paddle

    n = int(y.shape[0])
    cpu = on_cpu(paddle.get_device())
    was_training = model.training
    model.eval()
    total, preds = 0.0, []
    with paddle.no_grad():
        for start in range(0, n, batch_size):
            xb, yb = (x, y) if n <= batch_size else (x[start:start + batch_size], y[start:start + batch_size])
            if not isinstance(xb, paddle.Tensor):
                xb = as_tensor(xb, cpu)
            if not isinstance(yb, paddle.Tensor):
                yb = as_tensor(yb, cpu)
            out = model(xb)
            total += float(loss.fn(out, yb)) * int(yb.shape[0])
            preds.append(loss.predict(out))
    if was_training:
        model.train()
    if not preds:
        return 0.0, 0.0, np.zeros(0, dtype=np.int64)
    pred = (preds[0] if len(preds) == 1 else paddle.concat(preds)).numpy()
    labels = y.numpy() if isinstance(y, paddle.Tensor) else np.asarray(y)
    return total / n, float((pred == labels).mean()), pred


class _Progress:
    """A tqdm bar per epoch on a terminal; silent otherwise."""

    def __init__(self, total: int, desc: str, enabled: bool):
        self.bar = None
        if enabled:
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=desc, leave=False, dynamic_ncols=True, mininterval=0.5)

    def update(self, loss: float) -> None:
        if self.bar is not None:
            self.bar.update(1)
            if self.bar.n % 20 == 0:
                self.bar.set_postfix(loss=f"{loss:.4f}", refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _rng_state():
    import paddle

    return {"random": random.getstate(), "numpy": np.random.get_state(), "paddle": paddle.get_rng_state()}


def _set_rng_state(state) -> None:
    import paddle

    random.setstate(state["random"])
    np.random.set_state(state["numpy"])
    paddle.set_rng_state(state["paddle"])


def _subset(arrays, n):
    x, y = arrays
    return (x[:n], y[:n]) if n else (x, y)


def fit(config: TrainConfig, run_dir, *, experiment: str = "", vdl_dir=None, command: list[str] | None = None,
        resume: bool = False, progress: bool | None = None, threads: int | None = 0) -> dict:
    """Train ``config`` into ``run_dir``; return the run record (also written as ``summary.json``).

    ``threads``: MKL threads of this process; 0 picks ``_env.train_threads()`` (all
    cores up to two, as for a lone run), ``None`` leaves Paddle's setting.
    """
    import paddle

    from paddle_mnist.perf.env import train_threads
    from paddle_mnist.engine.device import set_device
    from paddle_mnist.course.losses import get_loss
    from paddle_mnist.course.nets import build_model, count_parameters
    from paddle_mnist.engine.optimizers import build_optimizer
    from paddle_mnist.engine.vdl import RunLogger

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    ckpt_path = run_dir / CHECKPOINT
    summary_path = run_dir / "summary.json"
    if resume and summary_path.is_file():
        done = read_json(summary_path)
        if done.get("status") in ("ok", "diverged"):
            return done
    write_json(run_dir / "config.json", {"experiment": experiment, "config": config.to_dict(),
                                         "command": command if command is not None else sys.argv})
    device = set_device(config.device)
    cpu = on_cpu(device)  # batches share memory with numpy on the CPU; a GPU gets copies
    threads = train_threads() if threads == 0 else threads
    if threads:
        paddle.base.core.set_num_threads(threads)  # MKL_CBWR=AUTO,STRICT: same numbers on any count
    seed_everything(config.seed)
    loss = get_loss(config.loss)
    model = build_model(config.model, **config.model_kwargs())
    opt = build_optimizer(config.optimizer, model.parameters(), config)
    arrays = read_arrays(config.data_path or None)
    valid_x, valid_y = _subset(arrays["valid"], config.valid_subset)
    # ``valid`` is scored every epoch: convert it to tensors once, not once per epoch
    valid_t = (paddle.to_tensor(np.ascontiguousarray(valid_x)), paddle.to_tensor(np.asarray(valid_y)))
    train_n = config.train_subset or len(arrays["train"][1])
    gen = load_data("train", config.batch_size, path=config.data_path or None)
    if config.train_subset:
        gen = _subset_generator(arrays["train"], config.train_subset, config.batch_size)

    history = {k: [] for k in HISTORY_KEYS}
    record = {"status": "running", "step": 0, "best_valid_acc": None, "best_epoch": None,
              "diverged_step": None, "last_finite_loss": None, "iter_loss": [], "iter_step": []}
    start_epoch = 1
    if resume and ckpt_path.is_file():
        state = load_state(ckpt_path)
        model.set_state_dict(state["model"])
        opt.set_state_dict(state["optimizer"])
        history, record = state["history"], state["record"]
        _set_rng_state(state["rng"])
        start_epoch = state["epoch"] + 1
    logger = RunLogger(vdl_dir, config, enabled=vdl_dir is not None, resume_step=record["step"])
    if start_epoch > 1:
        logger.replay(history, record["iter_step"], record["iter_loss"])
    show = sys.stderr.isatty() if progress is None else progress
    steps_per_epoch = math.ceil(train_n / config.batch_size)
    budget = config.max_steps or None
    stop_reason = None
    try:
        for epoch in range(start_epoch, config.epochs + 1):
            if budget is not None and record["step"] >= budget:
                break
            t0 = time.perf_counter()
            model.train()
            bar = _Progress(steps_per_epoch, f"{experiment or 'run'} epoch {epoch}/{config.epochs}", show)
            loss_sum, seen, interval, outs, labels = 0.0, 0, [], [], []
            for xb, yb in gen():
                x_t, y_t = as_tensor(xb, cpu), as_tensor(yb, cpu)
                out = model(x_t)
                batch_loss = loss.fn(out, y_t)
                value = batch_loss.item()
                if not math.isfinite(value):
                    record.update(status="diverged", diverged_step=record["step"] + 1)
                    stop_reason = "diverged"
                    break
                batch_loss.backward()
                opt.step()
                opt.clear_grad(set_to_zero=False)  # the next backward writes fresh gradients: no zero-fill, no add
                record["step"] += 1
                record["last_finite_loss"] = value
                interval.append(value)
                loss_sum += value * len(yb)
                outs.append(out.detach())  # train accuracy is counted once per epoch: no per-step ops
                labels.append(yb)
                seen += len(yb)
                bar.update(value)
                if record["step"] % config.log_every == 0 or record["step"] == 1:
                    mean = sum(interval) / len(interval)  # the mean since the last point
                    record["iter_step"].append(record["step"])
                    record["iter_loss"].append(mean)
                    logger.scalar("train/loss", mean, record["step"])
                    interval = []
                if budget is not None and record["step"] >= budget:
                    break
            bar.close()
            if stop_reason:
                break
            correct = int((loss.predict(paddle.concat(outs)).numpy() == np.concatenate(labels)).sum()) if outs else 0
            outs = labels = None
            valid_loss, valid_acc, _ = evaluate(model, *valid_t, loss)
            seconds = time.perf_counter() - t0
            row = {"epoch": epoch, "train_loss": loss_sum / max(seen, 1), "train_acc": correct / max(seen, 1),
                   "valid_loss": valid_loss, "valid_acc": valid_acc, "lr": float(opt.get_lr()),
                   "seconds": seconds}
            for k in HISTORY_KEYS:
                history[k].append(row[k])
            if isinstance(opt._learning_rate, paddle.optimizer.lr.LRScheduler):
                opt._learning_rate.step()
            if record["best_valid_acc"] is None or valid_acc > record["best_valid_acc"]:
                record.update(best_valid_acc=valid_acc, best_epoch=epoch)
                save_state(model.state_dict(), run_dir / "best.pdparams")
            logger.epoch(row, record["step"], model)
            write_csv(run_dir / "metrics.csv", METRIC_COLUMNS, _rows(history))
            save_state({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": epoch,
                                 "history": history, "record": record, "rng": _rng_state()}, ckpt_path)
    except KeyboardInterrupt:
        logger.close()
        raise
    if record["status"] == "running":
        record["status"] = "ok"
    test_loss = test_acc = None
    if config.score_eval and (run_dir / "best.pdparams").is_file():
        model.set_state_dict(load_state(run_dir / "best.pdparams", "weights file"))
        ex, ey = arrays["eval"]
        test_loss, test_acc, pred = evaluate(model, ex, ey, loss)
        logger.final(ex, ey, pred, test_acc, record["step"])
    logger.close()
    result = {
        "status": record["status"], "config": config.to_dict(), "seed": config.seed, "device": device,
        "threads": threads,
        "parameters": count_parameters(model), "history": history,
        "iterations": {"step": record["iter_step"], "train_loss": record["iter_loss"]},
        "steps": record["step"], "steps_per_epoch": steps_per_epoch,
        "best_valid_acc": record["best_valid_acc"], "best_epoch": record["best_epoch"],
        "test_acc": test_acc, "test_loss": test_loss, "eval_scored": test_acc is not None,
        "diverged_step": record["diverged_step"], "last_finite_loss": record["last_finite_loss"],
        "checkpoint": str(run_dir / "best.pdparams") if record["best_epoch"] is not None else None,
        "seconds": float(sum(history["seconds"])),
    }
    write_json(summary_path, result)
    return result


def _rows(history: dict) -> list[dict]:
    return [{k: history[k][i] for k in HISTORY_KEYS} for i in range(len(history["epoch"]))]


def _subset_generator(train, n: int, batch_size: int):
    """Like ``load_data('train')`` over the first ``n`` training images (``--quick``)."""
    x, y = train[0][:n], train[1][:n]

    def data_generator():
        order = np.random.permutation(n)
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            yield x[idx], y[idx]

    return data_generator
