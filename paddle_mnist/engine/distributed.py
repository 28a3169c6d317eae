"""Data-parallel training on ``paddle.distributed``: ``train EXPERIMENT --nproc N``.

``launch`` re-runs the same ``train`` command under ``python -m paddle.distributed.launch
--nproc_per_node N`` (gloo on the CPU, NCCL on GPUs). In each process ``engine.fit``
wraps the model in ``paddle.DataParallel`` (gradients are averaged over the
processes after ``backward``), gives every process its equal share of each global
batch of ``load_data('train')``, and averages the logged loss; process 0 alone
writes the run's records, checkpoints and VisualDL logs (the others write into a
scratch folder that is removed). ``--resume`` reads the same checkpoint in every process.

    python -m paddle_mnist train mlp --seeds 0 --nproc 2
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from paddle_mnist.errors import PaddleMnistError

_READY = {"init": False}


def world_size() -> int:
    """How many training processes share each batch (1 outside ``paddle.distributed.launch``)."""
    return int(os.environ.get("PADDLE_TRAINERS_NUM", "1") or 1)


def rank() -> int:
    return int(os.environ.get("PADDLE_TRAINER_ID", "0") or 0)


def is_main() -> bool:
    """Whether this process writes records (process 0, or the only one)."""
    return rank() == 0


def die_with_parent() -> None:
    """In a launched process: be killed when the launcher dies (Linux ``PR_SET_PDEATHSIG``), so no orphan trains on."""
    import ctypes
    import signal

    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, int(signal.SIGKILL))  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the launcher died before the call
        os._exit(1)


def wrap(model):
    """``paddle.DataParallel(model)`` after joining the process group (once per process)."""
    import paddle
    import paddle.distributed as dist

    if not _READY["init"]:
        die_with_parent()
        dist.init_parallel_env()
        _READY["init"] = True
    return paddle.DataParallel(model)


def shard(batches, batch_size: int):
    """This process's equal, contiguous share of every global batch of the generator function ``batches``."""
    world, me = world_size(), rank()
    if batch_size % world:
        raise PaddleMnistError(f"batch size {batch_size} does not split into {world} equal shares; "
                               f"choose a multiple of --nproc")

    def data_generator():
        for x, y in batches():
            k = len(y) // world
            if k * world != len(y):  # a short last batch: the same rule, on what divides evenly
                cut = k * world
                x, y = x[:cut], y[:cut]
            if k:
                yield np.ascontiguousarray(x[me * k:(me + 1) * k]), np.ascontiguousarray(y[me * k:(me + 1) * k])

    return data_generator


def mean_value(batch_loss) -> float:
    """The batch loss averaged over the processes (each holds the mean of its share)."""
    import paddle.distributed as dist

    total = batch_loss.detach().clone()
    dist.all_reduce(total)
    return total.item() / world_size()


def launch(train_args: list[str], nproc: int, log_dir: Path, device: str = "auto") -> int:
    """Run ``python -m paddle_mnist train <train_args>`` in ``nproc`` processes; return the exit code."""
    from paddle_mnist.paths import REPO

    if nproc < 2:
        raise PaddleMnistError("--nproc needs at least 2 processes (1 is a plain run)")
    env = dict(os.environ)
    gpu = device.startswith("gpu") or (device == "auto" and _cuda())
    if not gpu:
        env.setdefault("PADDLE_DISTRI_BACKEND", "gloo")  # the CPU backend
    package_root = str(REPO)  # the folder that holds the paddle_mnist package
    env["PYTHONPATH"] = os.pathsep.join([package_root] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    env.setdefault("PADDLE_MNIST_THREADS", "1")  # the cores are shared out among the processes
    main = str(REPO / "paddle_mnist" / "__main__.py")
    cmd = [sys.executable, "-m", "paddle.distributed.launch", "--nproc_per_node", str(nproc),
           "--log_dir", str(log_dir), main, "train", *train_args]
    Path(log_dir).mkdir(parents=True, exist_ok=True)
    return subprocess.call(cmd, env=env, preexec_fn=die_with_parent)  # the launcher dies with this command


def _cuda() -> bool:
    import paddle

    return paddle.device.is_compiled_with_cuda() and paddle.device.cuda.device_count() > 0
