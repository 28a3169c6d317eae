"""Device selection: ``auto`` picks a GPU when Paddle has CUDA and one is visible.

    python -m paddle_mnist train mlp --device cpu
"""
from __future__ import annotations

from paddle_mnist.errors import PaddleMnistError
# deferred: paddle (loaded on first use, so importing this module stays light)


def choose_device(requested: str, compiled_with_cuda: bool, gpu_count: int) -> str:
    """Pure selection logic: ``'cpu'`` or ``'gpu:N'``; a GPU asked of a CPU build is an error."""
    if requested == "cpu":
        return "cpu"
    if requested == "auto":
        return "gpu:0" if compiled_with_cuda and gpu_count > 0 else "cpu"
    if requested == "gpu" or requested.startswith("gpu:"):
        if not compiled_with_cuda:
            raise PaddleMnistError("--device gpu needs the GPU build of Paddle; this one is CPU-only "
                                   "(see README: installing the GPU build)")
        index = 0 if requested == "gpu" else requested.split(":", 1)[1]
        if not str(index).isdigit():
            raise PaddleMnistError(f"bad device {requested!r}; use auto, cpu, gpu or gpu:N")
        if int(index) >= gpu_count:
            raise PaddleMnistError(f"--device {requested}: only {gpu_count} GPU(s) visible")
        return f"gpu:{int(index)}"
    raise PaddleMnistError(f"unknown device {requested!r}; use auto, cpu, gpu or gpu:N")


def set_device(requested: str) -> str:
    import paddle

    cuda = paddle.device.is_compiled_with_cuda()
    count = paddle.device.cuda.device_count() if cuda else 0
    device = choose_device(requested, cuda, count)
    paddle.device.set_device(device)
    return device
