"""CPU settings applied before Paddle is imported, and the device selection logic."""
from __future__ import annotations

import pytest

from paddle_mnist.perf import env as _env
from paddle_mnist.engine.device import choose_device
from paddle_mnist.errors import PaddleMnistError


def test_vendor_detection():
    assert _env.cpu_vendor("vendor_id\t: AuthenticAMD\n") == "amd"
    assert _env.cpu_vendor("vendor_id\t: GenuineIntel\n") == "intel"
    assert _env.cpu_vendor("CPU implementer : 0x41\n") == "other"


def test_mkl_flag_only_for_amd_and_never_overrides_the_user():
    assert _env.cpu_settings("amd", {}) == {"MKL_DEBUG_CPU_TYPE": "5", "MKL_CBWR": "AUTO,STRICT"}
    assert _env.cpu_settings("intel", {}) == {"MKL_CBWR": "AUTO,STRICT"}
    assert _env.cpu_settings("amd", {"MKL_DEBUG_CPU_TYPE": "4", "MKL_CBWR": "AVX2"}) == {}
    assert _env.cpu_settings("amd", {"PADDLE_MNIST_TUNED": "0"}) == {}


@pytest.mark.parametrize("workers,cores,environ,expected", [
    (1, 2, {}, 2), (2, 2, {}, 1), (4, 2, {}, 1), (1, 1, {}, 1), (1, 16, {}, _env.MAX_TRAIN_THREADS),
    (2, 16, {}, _env.MAX_TRAIN_THREADS), (1, 2, {"PADDLE_MNIST_THREADS": "3"}, 3),
    (2, 2, {"PADDLE_MNIST_THREADS": "1"}, 1), (1, 2, {"MKL_NUM_THREADS": "1"}, None),
    (1, 2, {"PADDLE_MNIST_TUNED": "0"}, None),
])
def test_train_threads_share_the_cores(workers, cores, environ, expected):
    assert _env.train_threads(workers, cores, environ) == expected


@pytest.mark.parametrize("value", ["0", "two", "-1"])
def test_bad_thread_count_is_a_clear_error(value):
    with pytest.raises(PaddleMnistError, match="PADDLE_MNIST_THREADS"):
        _env.train_threads(1, 2, {"PADDLE_MNIST_THREADS": value})


@pytest.mark.parametrize("requested,cuda,count,expected", [
    ("auto", False, 0, "cpu"), ("auto", True, 0, "cpu"), ("auto", True, 2, "gpu:0"),
    ("cpu", True, 2, "cpu"), ("gpu", True, 1, "gpu:0"), ("gpu:1", True, 2, "gpu:1"),
])
def test_choose_device(requested, cuda, count, expected):
    assert choose_device(requested, cuda, count) == expected


@pytest.mark.parametrize("requested,cuda,count,match", [
    ("gpu", False, 0, "CPU-only"), ("gpu:3", True, 2, "only 2 GPU"), ("tpu", True, 1, "unknown device"),
    ("gpu:x", True, 1, "bad device"),
])
def test_choose_device_errors(requested, cuda, count, match):
    with pytest.raises(PaddleMnistError, match=match):
        choose_device(requested, cuda, count)
