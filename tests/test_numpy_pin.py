"""The pinned numpy environment: what it sets on which CPU, and the pool that starts processes with it.

    python -m pytest tests/test_numpy_pin.py -q -p no:cacheprovider
"""
from __future__ import annotations

import os

from paddle_mnist.engine import pool
from paddle_mnist.perf import numpy_pin

def test_the_pin_follows_the_cpu_and_the_numpy_build():
    avx2 = "processor : 0\nflags\t\t: fpu sse2 avx avx2 fma\n"
    old = "processor : 0\nflags\t\t: fpu sse2 avx\n"
    dispatch = ["X86_V3", "X86_V4", "AVX512_ICL", "AVX512_SPR"]
    env = numpy_pin.numpy_pin_env(avx2, dispatch)
    assert env["OPENBLAS_CORETYPE"] == "Haswell" and env["OPENBLAS_NUM_THREADS"] == "1"
    assert env["NPY_DISABLE_CPU_FEATURES"] == "X86_V4 AVX512_ICL AVX512_SPR" and env["NPY_ENABLE_CPU_FEATURES"] is None
    assert "OPENBLAS_CORETYPE" not in numpy_pin.numpy_pin_env(old, dispatch)  # Haswell kernels would not run
    assert "NPY_DISABLE_CPU_FEATURES" not in numpy_pin.numpy_pin_env(avx2, ["X86_V3"])  # nothing above AVX2
    assert numpy_pin.cpu_flags("no flags here") is None
    assert numpy_pin.shown_env(env) == {k: v for k, v in env.items() if v is not None}


def test_parallel_map_with_env_always_starts_a_process():
    names = ["PADDLE_MNIST_PIN_PROBE", "OPENBLAS_NUM_THREADS"]
    os.environ["PADDLE_MNIST_PIN_PROBE"] = "parent"
    try:
        got = pool.parallel_map(os.getenv, names, workers=1, env={"PADDLE_MNIST_PIN_PROBE": None})
        pids = pool.parallel_map(_pid, [0], workers=1, env={})
    finally:
        os.environ.pop("PADDLE_MNIST_PIN_PROBE")
    assert got == [None, "1"] and pids != [os.getpid()]
    assert pool.parallel_map(_pid, [0], workers=1) == [os.getpid()]  # without env: in this process
    assert pool.parallel_map(_pid, [], workers=1, env={}) == []


def _pid(_):
    return os.getpid()
