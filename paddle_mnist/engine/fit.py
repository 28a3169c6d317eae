"""The one training engine: ``fit(config, run_dir)``, a short composition of named steps.

Every epoch: ``engine.loop.train_epoch`` over ``load_data('train')``, evaluate
``valid``, append a row to ``metrics.csv``, keep ``best.pdparams`` by valid accuracy
and an atomic resume checkpoint (model, optimizer, RNG states, history). At the
end the best weights score ``eval`` once (unless ``score_eval=False``: runs that
only inform a choice). A NaN/inf loss stops the run as ``diverged``. The speed
measures come from one seam, ``perf.tuned.step_kit``.

    python -m paddle_mnist train softmax --epochs 5
"""
from __future__ import annotations

import math
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from paddle_mnist.datafile.store import read_arrays
from paddle_mnist.engine import distributed
from paddle_mnist.engine.checkpoint import (CHECKPOINT, KEYS_STRUCTURED, load_state, optimizer_state_in, save_state,
                                            optimizer_state_out)
from paddle_mnist.engine.resume import resume_state
from paddle_mnist.engine.config import TrainConfig
from paddle_mnist.engine.epoch_line import EpochLine
from paddle_mnist.records import run_lock, write_csv, write_json
from paddle_mnist.errors import PaddleMnistError
from paddle_mnist.engine.batches import load_data
from paddle_mnist.engine.losses import get_loss
from paddle_mnist.engine.device import set_device
from paddle_mnist.engine.optimizers import build_optimizer
from paddle_mnist.perf.env import train_threads
from paddle_mnist.perf.tuned import step_kit
from paddle_mnist.engine.vdl import RunLogger
from paddle_mnist.engine.safe_load import plain_to_rng_state
# deferred: paddle (loaded on first use, so importing this module stays light)

METRIC_COLUMNS = ["epoch", "train_loss", "train_acc", "valid_loss", "valid_acc", "lr", "seconds"]
HISTORY_KEYS = METRIC_COLUMNS


def seed_everything(seed: int) -> None:
    """One seed fixes ``random``, numpy and Paddle."""
    import paddle

    random.seed(seed)
    np.random.seed(seed)
    paddle.seed(seed)


@dataclass
class Run:
    """Everything one run trains with (built by ``setup``)."""

    config: TrainConfig
    device: str
    threads: int | None
    model: object
    loss: object
    opt: object
    kit: object  # perf.tuned.StepKit
    arrays: dict
    valid: tuple  # valid images and labels as tensors, converted once
    batches: object  # a generator function of training batches
    steps_per_epoch: int
    name: str = ""  # experiment/run, for the progress bar
    value_of: object = None  # how a batch loss becomes a number (averaged over processes when data-parallel)


@dataclass
class Progress:
    """What a run has done so far: the per-epoch history and the running record (saved in checkpoints)."""

    history: dict = field(default_factory=lambda: {k: [] for k in HISTORY_KEYS})
    record: dict = field(default_factory=lambda: {
        "status": "running", "step": 0, "best_valid_acc": None, "best_epoch": None, "diverged_step": None,
        "last_finite_loss": None, "iter_loss": [], "iter_step": []})
    epoch: int = 0


def setup(config: TrainConfig, threads: int | None) -> Run:
    """Device, threads, seed, then model, loss, optimizer and data, in that order (the seed fixes the weights)."""
    import paddle

    from paddle_mnist.engine.nets import build_model

    device = set_device(config.device)
    threads = train_threads() if threads == 0 else threads
    if threads:
        paddle.base.core.set_num_threads(threads)  # MKL_CBWR=AUTO,STRICT: same numbers on any count
    seed_everything(config.seed)
    kit = step_kit(device)
    loss = kit.loss(get_loss(config.loss))
    model = build_model(config.model, **config.model_kwargs())
    opt = build_optimizer(config.optimizer, model.parameters(), config, kit)
    arrays = read_arrays(config.data_path or None)
    if config.train_subset > len(arrays["train"][1]):
        raise PaddleMnistError(f"train_subset {config.train_subset} is more than the {len(arrays['train'][1])} "
                               "training images of the data file (--quick uses 5000); train without --quick")
    vx, vy = _subset(arrays["valid"], config.valid_subset)
    valid = (paddle.to_tensor(np.ascontiguousarray(vx)), paddle.to_tensor(np.asarray(vy)))
    train_n = config.train_subset or len(arrays["train"][1])
    if config.train_subset:
        batches = _subset_generator(arrays["train"], config.train_subset, config.batch_size)
    else:
        batches = load_data("train", config.batch_size, path=config.data_path or None)
    value_of = paddle.Tensor.item
    if distributed.world_size() > 1:  # data-parallel: a share of every batch, gradients averaged
        model, batches, value_of = distributed.wrap(model), distributed.shard(batches, config.batch_size), \
            distributed.mean_value
    return Run(config, device, threads, model, loss, opt, kit, arrays, valid, batches,
               math.ceil(train_n / config.batch_size), value_of=value_of)


def restore(run: Run, state: dict, where) -> Progress:
    """Model, optimizer (renamed to this process's parameters), history, record and RNG states."""
    run.model.set_state_dict(state["model"])
    run.opt.set_state_dict(optimizer_state_in(state["optimizer"], run.model,
                                              state.get("optimizer_keys") == KEYS_STRUCTURED, where))
    _set_rng_state(state["rng"])
    return Progress(state["history"], state["record"], state["epoch"])


def train_one_epoch(run: Run, p: Progress, epoch: int, logger, show) -> dict | None:
    """``engine.loop.train_epoch`` with the step budget, logging and divergence check; the epoch's row or None."""
    from paddle_mnist.engine.loop import accuracy, evaluate, train_epoch

    cfg, record = run.config, p.record
    t0 = time.perf_counter()
    bar = EpochLine(run.steps_per_epoch, run.name or "run", epoch, cfg.epochs, show)
    loss_sum, seen, interval, outs, labels = 0.0, 0, [], [], []
    for value, out, yb in train_epoch(run.model, run.batches(), run.loss, run.opt, to_tensor=run.kit.to_tensor,
                                      release_grads=run.kit.release_grads, value_of=run.value_of):
        if not math.isfinite(value):
            record.update(status="diverged", diverged_step=record["step"] + 1)
            break
        record["step"] += 1
        record["last_finite_loss"] = value
        interval.append(value)
        loss_sum += value * len(yb)
        outs.append(out)  # train accuracy is counted once per epoch: no per-step ops
        labels.append(yb)
        seen += len(yb)
        bar.update(value)
        if record["step"] % cfg.log_every == 0 or record["step"] == 1:
            mean = sum(interval) / len(interval)  # the mean since the last point
            record["iter_step"].append(record["step"])
            record["iter_loss"].append(mean)
            logger.scalar("train/loss", mean, record["step"])
            interval = []
        if cfg.max_steps and record["step"] >= cfg.max_steps:
            break
    if record["status"] == "diverged":
        bar.close()
        return None
    correct = accuracy(run.loss, outs, labels)
    valid_loss, valid_acc, _ = evaluate(run.model, *run.valid, run.loss, to_tensor=run.kit.to_tensor)
    row = {"epoch": epoch, "train_loss": loss_sum / max(seen, 1), "train_acc": correct / max(seen, 1),
           "valid_loss": valid_loss, "valid_acc": valid_acc, "lr": float(run.opt.get_lr()),
           "seconds": time.perf_counter() - t0}
    bar.close(row)
    return row


def end_epoch(run: Run, p: Progress, row: dict, run_dir: Path, logger) -> None:
    """History, learning-rate schedule, best weights, metrics.csv and the resume checkpoint."""
    import paddle

    for k in HISTORY_KEYS:
        p.history[k].append(row[k])
    p.epoch = row["epoch"]
    scheduler = run.opt._learning_rate  # Paddle keeps an LRScheduler here (no public accessor)
    if isinstance(scheduler, paddle.optimizer.lr.LRScheduler):
        scheduler.step()
    if p.record["best_valid_acc"] is None or row["valid_acc"] > p.record["best_valid_acc"]:
        p.record.update(best_valid_acc=row["valid_acc"], best_epoch=row["epoch"])
        save_state(run.model.state_dict(), run_dir / "best.pdparams")
    logger.epoch(row, p.record["step"], run.model)
    write_csv(run_dir / "metrics.csv", METRIC_COLUMNS, _rows(p.history))
    save_state({"model": run.model.state_dict(), "epoch": row["epoch"],
                "optimizer": optimizer_state_out(run.opt.state_dict(), run.model),
                "optimizer_keys": KEYS_STRUCTURED, "config": run.config.to_dict(),
                "history": p.history, "record": p.record, "rng": _rng_state()}, run_dir / CHECKPOINT)


def finish(run: Run, p: Progress, run_dir: Path, logger) -> dict:
    """Score ``eval`` once with the best weights (if asked), close the logs, write ``summary.json``."""
    from paddle_mnist.engine.nets import count_parameters
    from paddle_mnist.engine.loop import evaluate

    record, cfg = p.record, run.config
    if record["status"] == "running":
        record["status"] = "ok"
    test_loss = test_acc = None
    if cfg.score_eval and (run_dir / "best.pdparams").is_file():
        run.model.set_state_dict(load_state(run_dir / "best.pdparams"))
        ex, ey = run.arrays["eval"]
        test_loss, test_acc, pred = evaluate(run.model, ex, ey, run.loss, to_tensor=run.kit.to_tensor)
        logger.final(ex, ey, pred, test_acc, record["step"])
    logger.close()
    result = {
        "status": record["status"], "config": cfg.to_dict(), "seed": cfg.seed, "device": run.device,
        "threads": run.threads, "parameters": count_parameters(run.model), "history": p.history,
        "iterations": {"step": record["iter_step"], "train_loss": record["iter_loss"]},
        "steps": record["step"], "steps_per_epoch": run.steps_per_epoch,
        "best_valid_acc": record["best_valid_acc"], "best_epoch": record["best_epoch"],
        "test_acc": test_acc, "test_loss": test_loss, "eval_scored": test_acc is not None,
        "diverged_step": record["diverged_step"], "last_finite_loss": record["last_finite_loss"],
        "checkpoint": str(run_dir / "best.pdparams") if record["best_epoch"] is not None else None,
        "seconds": float(sum(p.history["seconds"])),
    }
    for key in ("epochs_extended_from", "extended_from_run"):
        if record.get(key):
            result[key] = record[key]
    write_json(run_dir / "summary.json", result)
    return result


def train_epochs(run: Run, p: Progress, run_dir: Path, logger, show) -> None:
    """The epochs still to do: train, then record; stop at the step budget or a divergence."""
    cfg = run.config
    try:
        for epoch in range(p.epoch + 1, cfg.epochs + 1):
            if cfg.max_steps and p.record["step"] >= cfg.max_steps:
                break
            row = train_one_epoch(run, p, epoch, logger, show)
            if row is None:
                break
            end_epoch(run, p, row, run_dir, logger)
    except KeyboardInterrupt:
        logger.close()
        raise


def fit(config: TrainConfig, run_dir, *, experiment: str = "", vdl_dir=None, command: list[str] | None = None,
        resume: bool = False, progress: bool | None = None, threads: int | None = 0, hparams=None) -> dict:
    """Train ``config`` into ``run_dir``; return the run record (also written as ``summary.json``).

    ``threads``: MKL threads of this process; 0 picks ``perf.env.train_threads()``
    (all cores up to two, as for a lone run), ``None`` leaves Paddle's setting. ``hparams``: the config keys the
    dashboard shows as hyperparameters (default ``engine.vdl.hparam_keys()``, the same for every run).
    """
    run_dir = Path(run_dir)
    if not distributed.is_main():  # data-parallel: process 0 writes the records, the others a scratch copy
        return _fit_elsewhere(config, run_dir, resume=resume, threads=threads)
    with run_lock(run_dir):  # one process per run folder
        state, done = resume_state(config, run_dir) if resume else (None, None)
        if done is not None:
            return done
        write_json(run_dir / "config.json", {"experiment": experiment, "config": config.to_dict(),
                                             "command": command if command is not None else sys.argv})
        run = setup(config, threads)
        return _train(run, run_dir, state, experiment, vdl_dir, progress, hparams)


def _train(run: Run, run_dir: Path, state, experiment, vdl_dir, progress, hparams) -> dict:
    """The epochs from the start or from ``state``, logged to ``vdl_dir``, then ``finish``."""
    run.name = f"{experiment}/{run_dir.name}" if experiment else run_dir.name
    p = restore(run, state, run_dir / CHECKPOINT) if state is not None else Progress()
    if state is not None and state.get("extended_from"):
        p.record.setdefault("epochs_extended_from", state["extended_from"])
        if state.get("extended_from_run"):
            p.record["extended_from_run"] = state["extended_from_run"]
    logger = RunLogger(vdl_dir, run.config, enabled=vdl_dir is not None, resume_step=p.record["step"],
                       hparams=hparams)
    if p.epoch:
        logger.replay(p.history, p.record["iter_step"], p.record["iter_loss"])
    show = ("bar" if sys.stderr.isatty() else "lines") if progress is None else progress
    train_epochs(run, p, run_dir, logger, show)
    return finish(run, p, run_dir, logger)


def _fit_elsewhere(config, run_dir: Path, *, resume: bool, threads) -> dict:
    """A data-parallel process other than 0: the same decision and steps, its files in a scratch folder."""
    state, done = resume_state(config, run_dir) if resume else (None, None)  # as process 0 decides
    if done is not None:
        return done
    with distributed.scratch() as scratch:  # removed after; a killed run's is removed by the next start
        run = setup(config, threads)
        p = restore(run, state, run_dir / CHECKPOINT) if state is not None else Progress()
        logger = RunLogger(None, config, enabled=False, resume_step=p.record["step"])
        train_epochs(run, p, scratch, logger, False)
        return finish(run, p, scratch, logger)


def _rng_state():
    import paddle

    return {"random": random.getstate(), "numpy": np.random.get_state(), "paddle": paddle.get_rng_state()}


def _set_rng_state(state) -> None:
    import paddle

    random.setstate(_tuples(state["random"]))
    np.random.set_state(tuple(state["numpy"]))
    paddle.set_rng_state(plain_to_rng_state(state["paddle"]))


def _tuples(x):
    """``random.getstate()`` as saved (lists, after a round trip) back to nested tuples."""
    return tuple(_tuples(v) for v in x) if isinstance(x, (list, tuple)) else x


def _subset(arrays, n):
    x, y = arrays
    return (x[:n], y[:n]) if n else (x, y)


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
