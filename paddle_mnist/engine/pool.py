"""The one process pool: ``parallel_map(fn, jobs, workers)`` in spawned processes, one BLAS thread each.

Used by ``jobs.run_stage`` (Paddle runs) and the numpy studies alike; the numpy
studies give their workers a pinned environment (``env=``, ``perf.numpy_pin``).
Workers die with their parent: on Linux each asks the kernel for SIGKILL when
its parent dies (``prctl(PR_SET_PDEATHSIG)``, ``die_with_parent``), so even a
SIGKILL of the parent leaves no worker training; on Ctrl-C the pool is shut
down (pending jobs cancelled).

    python -m paddle_mnist train dropout --workers 2
"""
from __future__ import annotations

import contextlib
import os
import signal
import sys
import ctypes
import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from paddle_mnist.perf.numpy_pin import openblas_libraries

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int | None = None) -> None:
    """Linux: have the kernel SIGKILL this process when its parent dies (a worker initializer, a child's
    ``preexec_fn``); if the parent ``parent_pid`` is already gone, exit now. Elsewhere: nothing."""
    if not sys.platform.startswith("linux"):
        return

    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        return
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(1)  # the parent died before the request took effect


SINGLE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@contextlib.contextmanager
def child_env(values: dict):
    """``os.environ`` updated with ``values`` (``None``: removed) inside the block, for processes started there."""
    saved = {k: os.environ.get(k) for k in values}
    try:
        for k, v in values.items():
            _set_env(k, v)
        yield
    finally:
        for k, v in saved.items():
            _set_env(k, v)


def _set_env(key: str, value) -> None:
    if value is None:
        os.environ.pop(key, None)
    else:
        os.environ[key] = value


def single_thread_env():
    """One BLAS/OpenMP thread in processes started inside this block (two numpy workers on two cores)."""
    return child_env(SINGLE_THREAD)


# (set, get) function names of the OpenBLAS builds numpy ships or links against
_OPENBLAS_CALLS = (("scipy_openblas_set_num_threads64_", "scipy_openblas_get_num_threads64_"),
                   ("scipy_openblas_set_num_threads", "scipy_openblas_get_num_threads"),
                   ("openblas_set_num_threads64_", "openblas_get_num_threads64_"),
                   ("openblas_set_num_threads", "openblas_get_num_threads"))


def _openblas_handles() -> list:
    """``(set_num_threads, get_num_threads)`` of every OpenBLAS library loaded in this process (Linux)."""

    handles = []
    for path in openblas_libraries():
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for set_name, get_name in _OPENBLAS_CALLS:
            if hasattr(lib, set_name) and hasattr(lib, get_name):
                handles.append((getattr(lib, set_name), getattr(lib, get_name)))
                break
    return handles


@contextlib.contextmanager
def blas_threads(n: int = 1):
    """Run numpy's OpenBLAS with ``n`` threads inside the block (restored after); yields the libraries found.

    On a busy machine OpenBLAS's spinning threads collapse: 300 Adam steps of the
    784-300-300-10 net took 25 s with two threads and 1.4 s with one while
    other processes held the cores.
    """
    handles = _openblas_handles()
    saved = [get() for _, get in handles]
    for set_threads, _ in handles:
        set_threads(n)
    try:
        yield len(handles)
    finally:
        for (set_threads, _), k in zip(handles, saved):
            set_threads(k)


def parallel_map(fn, jobs: list, workers: int = 1, on_done=None, env: dict | None = None) -> list:
    """``[fn(job) for job in jobs]``, in ``workers`` spawned processes when ``workers > 1`` (order kept).

    ``on_done(result)`` is called as each result arrives (in order), e.g. for progress.

    Either way numpy's BLAS runs one thread per process: here through
    ``blas_threads(1)``, in the workers through ``OMP_NUM_THREADS=1``.
    ``env`` (e.g. ``perf.numpy_pin.numpy_pin_env()``) is what the workers start with
    (``None`` values removed); with it the jobs always run in spawned processes, even
    one worker, since such settings only act before numpy is imported.
    """
    if not jobs:
        return []
    if env is None and (workers <= 1 or len(jobs) <= 1):
        with blas_threads(1):
            return [_done(fn(job), on_done) for job in jobs]

    n = max(1, min(workers, len(jobs)))
    with child_env({**SINGLE_THREAD, **(env or {})}), \
            ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn"),
                                initializer=die_with_parent, initargs=(os.getpid(),)) as pool:
        try:
            return [_done(r, on_done) for r in pool.map(fn, jobs)]
        except KeyboardInterrupt:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


def _done(result, on_done):
    if on_done is not None:
        on_done(result)
    return result
