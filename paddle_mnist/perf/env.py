"""CPU settings that must be in place before Paddle is imported (applied by the package's ``__init__``).

On AMD processors the Paddle CPU wheel's MKL 2019 takes a slow non-AVX2 path
unless ``MKL_DEBUG_CPU_TYPE=5`` is set (Paddle issue #75760); on Intel that flag
can cost AVX-512 speed, so it is set only for AMD. ``MKL_CBWR=AUTO,STRICT``
(every vendor) makes MKL's matrix products give the same bits whatever the
number of threads, so that a run on two threads and the same run in one of two
single-threaded worker processes end with identical numbers. A variable the
user has set is never overridden; ``PADDLE_MNIST_TUNED=0`` turns every setting
off. ``train_threads`` picks the MKL thread count of a training process.

    PADDLE_MNIST_TUNED=0 python -m paddle_mnist bench train
"""
from __future__ import annotations

import os
import ctypes

from paddle_mnist.errors import PaddleMnistError


def _cpuinfo() -> str:
    """The first processor's lines of ``/proc/cpuinfo`` ('' where it cannot be read)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            return fh.read(8192)
    except OSError:
        return ""


def cpu_vendor(cpuinfo: str | None = None) -> str:
    """``'amd'``, ``'intel'`` or ``'other'`` from ``/proc/cpuinfo`` (or the text given)."""
    cpuinfo = _cpuinfo() if cpuinfo is None else cpuinfo
    if "AuthenticAMD" in cpuinfo:
        return "amd"
    if "GenuineIntel" in cpuinfo:
        return "intel"
    return "other"


def cpu_model(cpuinfo: str | None = None) -> str:
    """The processor's name (``model name`` of ``/proc/cpuinfo``, or the text given), ``'unknown'`` without one."""
    cpuinfo = _cpuinfo() if cpuinfo is None else cpuinfo
    return next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")),
                "unknown")


def tuned_enabled(environ=os.environ) -> bool:
    return environ.get("PADDLE_MNIST_TUNED", "1").strip().lower() not in ("0", "false", "no", "off")


def cpu_settings(vendor: str, environ=os.environ) -> dict[str, str]:
    """The environment variables to add (never ones the user already set)."""
    if not tuned_enabled(environ):
        return {}
    wanted = {"MKL_CBWR": "AUTO,STRICT"}
    if vendor == "amd":
        wanted["MKL_DEBUG_CPU_TYPE"] = "5"
    return {k: v for k, v in wanted.items() if k not in environ}


ADDED: dict[str, str] = {}  # what ``apply_cpu_settings`` added to this process's environment


def apply_cpu_settings() -> dict[str, str]:
    added = cpu_settings(cpu_vendor())
    os.environ.update(added)
    ADDED.update(added)
    return added


MAX_TRAIN_THREADS = 2  # only 2 cores were measured (reports/bench/train.json: engine vs engine_1thread)


def train_threads(workers: int = 1, cpu_count: int | None = None, environ=os.environ) -> int | None:
    """MKL threads for each of ``workers`` training processes; ``None`` leaves Paddle's choice (one).

    ``PADDLE_MNIST_THREADS=N`` decides; a user's own ``MKL_NUM_THREADS`` or
    ``PADDLE_MNIST_TUNED=0`` leaves Paddle alone; otherwise the cores are shared
    among the workers, at most ``MAX_TRAIN_THREADS`` each.
    """
    chosen = environ.get("PADDLE_MNIST_THREADS", "").strip()
    if chosen:
        if not chosen.isdigit() or int(chosen) < 1:
            raise PaddleMnistError(f"PADDLE_MNIST_THREADS={chosen!r}: expected a positive integer")
        return int(chosen)
    if not tuned_enabled(environ) or environ.get("MKL_NUM_THREADS"):
        return None
    cores = cpu_count if cpu_count is not None else (os.cpu_count() or 1)
    return max(1, min(MAX_TRAIN_THREADS, cores // max(1, workers)))


_MALLOC_TUNED = False


def keep_freed_memory() -> bool:
    """Ask glibc to keep freed heap memory (no trim, no mmap below 32 MB); ``False`` where unavailable.

    Every numpy step allocates and frees a few MB of temporaries (``Adam`` ~10
    arrays the size of ``fc1.weight``); by default glibc gives that memory back
    to the OS at once and page-faults it in again on the next step, which made
    ``Adam.step`` 3.4x slower (2.9 ms instead of 0.85 ms per step here).
    """
    global _MALLOC_TUNED
    if _MALLOC_TUNED:
        return True
    try:
        libc = ctypes.CDLL("libc.so.6")
        # M_TRIM_THRESHOLD = -1, M_MMAP_THRESHOLD = -3 (malloc.h)
        _MALLOC_TUNED = bool(libc.mallopt(-1, 256 * 1024 * 1024)) and bool(libc.mallopt(-3, 32 * 1024 * 1024))
    except (OSError, AttributeError):
        _MALLOC_TUNED = False
    return _MALLOC_TUNED

