"""What every benchmark measures the same way: statistics of repeated timings, the machine, memory, MKL.

``stats`` (median, min, max of repetitions), ``machine`` (CPU, cores, versions),
``peak_rss_mb`` (this process's own peak memory), ``mkl_info`` (the MKL that
Paddle loads) and ``train_arrays`` (the training split for a benchmark worker),
shared by ``bench.run`` (data), ``bench.train`` and its workers.

    python -m paddle_mnist bench data
"""
from __future__ import annotations

import os
import platform
import statistics
from pathlib import Path
import resource
import ctypes

import numpy as np

from paddle_mnist.paths import BENCH as BENCH_DIR, REPO  # noqa: F401  (the benchmarks' defaults, defined once)
from paddle_mnist.datafile.store import read_arrays
from paddle_mnist.perf.env import cpu_model
# deferred: paddle (in the worker process that measures it)


def stats(values) -> dict:
    values = [float(v) for v in values]
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values),
            "values": values}


def machine() -> dict:
    info = {"cpu": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__,
            "platform": platform.platform(),
            "env": {k: os.environ.get(k) for k in ("MKL_DEBUG_CPU_TYPE", "OMP_NUM_THREADS", "PADDLE_MNIST_TUNED")}}
    try:
        import paddle

        info["paddle"] = paddle.__version__
        info["paddle_cuda"] = paddle.device.is_compiled_with_cuda()
    except ImportError:  # pragma: no cover - paddle is a hard dependency
        pass
    return info


def peak_rss_mb() -> float:
    """This process's peak resident set size (``VmHWM``).

    Not ``ru_maxrss``: Linux carries that high-water mark over from the parent
    across ``fork`` and ``exec``, so a child of a large benchmark process would
    report its parent's peak.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def mkl_info() -> dict:
    """The MKL that Paddle's CPU wheel loads (version string, max threads), where it can be asked."""
    import paddle

    info = {"paddle_with_mkl": str(getattr(paddle.version, "with_mkl", "?")), "library": None, "version": None,
            "max_threads": None}
    lib_path = Path(paddle.__file__).parent / "libs" / "libmklml_intel.so"
    if not lib_path.is_file():
        return info
    try:
        lib = ctypes.CDLL(str(lib_path))
        buf = ctypes.create_string_buffer(256)
        lib.MKL_Get_Version_String(buf, 256)
        info.update(library=lib_path.name, version=buf.value.decode(errors="replace"),
                    max_threads=int(lib.MKL_Get_Max_Threads()))
    except (OSError, AttributeError):
        pass
    return info


def train_arrays(data_path):
    x, y = read_arrays(data_path or None)["train"]
    return x, np.asarray(y)
