"""CPU settings applied before Paddle is imported, and the device selection logic."""
from __future__ import annotations

import pytest

from paddle_mnist import _env
from paddle_mnist.device import choose_device
from paddle_mnist.errors import PaddleMnistError


def test_vendor_detection():
    assert _env.cpu_vendor("vendor_id\t: AuthenticAMD\n") == "amd"
    assert _env.cpu_vendor("vendor_id\t: GenuineIntel\n") == "intel"
    assert _env.cpu_vendor("CPU implementer : 0x41\n") == "other"


def test_mkl_flag_only_for_amd_and_never_overrides_the_user():
    assert _env.cpu_settings("amd", {}) == {"MKL_DEBUG_CPU_TYPE": "5"}
    assert _env.cpu_settings("intel", {}) == {}
    assert _env.cpu_settings("amd", {"MKL_DEBUG_CPU_TYPE": "4"}) == {}
    assert _env.cpu_settings("amd", {"PADDLE_MNIST_TUNED": "0"}) == {}


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
