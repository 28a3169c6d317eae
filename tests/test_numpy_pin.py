"""The numpy study's numbers do not move: the same bits on 1 or 2 BLAS threads, other kernels, no AVX2 loops.

    python -m pytest tests/test_numpy_pin.py -q -p no:cacheprovider
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import REPO

from paddle_mnist.engine import pool
from paddle_mnist.perf import numpy_pin

# Two of the numpy study's jobs (an optimizer run and the assignment net's chosen point, --quick settings) through
# the study's own runner and pinned environment; prints their records and what each worker ran.
PINNED = """
import json, sys
from paddle_mnist.engine.pool import parallel_map
from paddle_mnist.perf.numpy_pin import numpy_pin_env
from paddle_mnist.studies import numpy_assignment as A, numpy_nets as N
label, name, lr, init = N.OPTIMIZER_RUNS[0]
jobs = [{"kind": "optimizer", "label": label, "optimizer": name, "lr": lr, "init": init, "seed": 1,
         "settings": N.PROPER_QUICK, "data_path": None},
        A.rerun_jobs({"lr": 0.1, "hidden": 50, "epochs": 1}, A.ASSIGNMENT_QUICK, [1], None)[0]]
print(json.dumps(parallel_map(N.run_numpy_job, jobs, int(sys.argv[1]), env=numpy_pin_env())))
"""
# The same net's forward and backward in this process, unpinned: what the environment alone does to the bits.
RAW = """
import hashlib, numpy as np
from paddle_mnist.datafile.store import read_arrays
from paddle_mnist.scratch.net import NumpyMLP
x, y = (np.asarray(a)[:1000] for a in read_arrays()["train"])
net = NumpyMLP((784, 300, 300, 10), dtype=np.float32, seed=0)
loss, grads = net.loss_and_grads(x[:100], y[:100])
out = [net.forward(x)] + [grads[k] for k in sorted(grads)]
print(hashlib.sha256(b"".join(a.tobytes() for a in out)).hexdigest())
"""
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
# "another machine": two BLAS threads, OpenBLAS's Sandybridge (AVX) kernels, numpy without its AVX2 loops
OTHER = {"OPENBLAS_NUM_THREADS": "2", "OMP_NUM_THREADS": "2", "OPENBLAS_CORETYPE": "Sandybridge",
         "NPY_DISABLE_CPU_FEATURES": "X86_V3"}
NEEDS_AVX2 = pytest.mark.skipif(not {"avx2", "fma"} <= (numpy_pin.cpu_flags() or set()),
                                reason="the pin (Haswell kernels, AVX2 loops) applies to x86-64 CPUs with AVX2 and FMA")


def _python(code: str, env: dict, *args) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in (*OTHER, "NPY_ENABLE_CPU_FEATURES", "MKL_NUM_THREADS")}
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=REPO, env={**clean, **env},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


@NEEDS_AVX2
def test_pinned_jobs_give_the_same_bits_on_one_and_two_threads_and_other_kernels():
    one = json.loads(_python(PINNED, ONE_THREAD, "1"))
    other = json.loads(_python(PINNED, OTHER, "2"))
    for rec in one + other:
        run = rec.pop("runtime")
        assert run["openblas"]["core"] == "Haswell" and run["openblas"]["threads"] == 1
        assert "X86_V3" in run["simd_active"] and not any(f.startswith("AVX512") for f in run["simd_active"])
        assert rec["status"] == "ok" and rec.pop("seconds") > 0 and rec.pop("cpu_seconds") > 0  # clocks differ
    adam, chosen = one
    assert adam["history"]["train_loss"] and adam["test_acc"] > 0.8 and chosen["eval_acc"] is not None
    assert [r["weights_digest"] for r in one] == [r["weights_digest"] for r in other]
    assert one == other  # accuracies, losses, curves and weights digests, bit for bit

    # the teeth: each of those differences alone moves the unpinned numbers
    base = _python(RAW, ONE_THREAD)
    for change in ({"OPENBLAS_NUM_THREADS": "2", "OMP_NUM_THREADS": "2"}, {"OPENBLAS_CORETYPE": "Sandybridge"},
                   {"NPY_DISABLE_CPU_FEATURES": "X86_V3"}):
        if "OMP_NUM_THREADS" in change and (os.cpu_count() or 1) < 2:
            continue  # OpenBLAS runs no more threads than cores
        assert _python(RAW, {**ONE_THREAD, **change}) != base, change


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
