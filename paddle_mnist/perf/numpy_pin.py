"""Pinned numpy numerics: the environment that makes the numpy studies give the same bits on any x86-64 with AVX2.

``MKL_CBWR`` pins Paddle's MKL (``perf.env``); numpy's bundled OpenBLAS and its own
SIMD loops need their own pin, and it only works when set before numpy is imported,
so the numpy studies run their jobs in processes started with it
(``engine.pool.parallel_map(..., env=numpy_pin_env())``):

* ``OPENBLAS_NUM_THREADS=1`` (and ``OMP_NUM_THREADS``, ``MKL_NUM_THREADS``): OpenBLAS
  splits a matrix product differently on 1 and 2 threads, and the bits differ;
* ``OPENBLAS_CORETYPE=Haswell``: DYNAMIC_ARCH OpenBLAS picks its kernels by CPU
  (SkylakeX on AVX-512, Zen, ...); the AVX2 Haswell kernels run on every x86-64 with
  AVX2 and FMA. Set only where the CPU has both (elsewhere forcing it would crash);
* ``NPY_DISABLE_CPU_FEATURES``: the dispatched features above X86_V3 (AVX-512) that
  this numpy build has, so exp, log and reductions take the AVX2 loops everywhere.
  Only features the build dispatches are named (numpy rejects others); disabling one
  the machine lacks is allowed. ``NPY_ENABLE_CPU_FEATURES`` is removed (numpy refuses both).

``pinned_runtime()`` reads back what a process really runs (OpenBLAS core and threads
through ctypes, numpy's active SIMD features), so a record can show the pin took effect.

    python -c "from paddle_mnist.perf.numpy_pin import numpy_pin_env, pinned_runtime; print(numpy_pin_env(), pinned_runtime())"
"""
from __future__ import annotations

import os
import ctypes
# deferred: numpy (its SIMD pin must be set before numpy loads; read here only to report it)

CORETYPE = "Haswell"
THREADS = "1"
_ABOVE_AVX2 = ("X86_V4", "AVX512")  # prefixes of numpy's dispatch targets beyond X86_V3 (numpy >= 2)


def cpu_flags(cpuinfo: str | None = None) -> set[str] | None:
    """The ``flags`` of the first CPU in ``/proc/cpuinfo`` (or the text given); ``None`` when unknown."""
    if cpuinfo is None:
        try:
            with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
                cpuinfo = fh.read(1 << 16)
        except OSError:
            return None
    line = next((ln for ln in cpuinfo.splitlines() if ln.split(":", 1)[0].strip() == "flags"), None)
    return set(line.split(":", 1)[1].split()) if line else None


def numpy_dispatch() -> list[str]:
    """The SIMD targets this numpy build dispatches at run time (``[]`` where it cannot tell)."""
    try:
        from numpy._core import _multiarray_umath as umath
    except ImportError:  # pragma: no cover - numpy < 2
        return []
    return list(getattr(umath, "__cpu_dispatch__", []))


def numpy_pin_env(cpuinfo: str | None = None, dispatch: list[str] | None = None) -> dict[str, str | None]:
    """The variables a numpy worker process starts with (``None``: removed from its environment)."""
    env: dict[str, str | None] = {"OPENBLAS_NUM_THREADS": THREADS, "OMP_NUM_THREADS": THREADS,
                                  "MKL_NUM_THREADS": THREADS}
    flags = cpu_flags(cpuinfo)
    if flags is not None and {"avx2", "fma"} <= flags:
        env["OPENBLAS_CORETYPE"] = CORETYPE
    above = [f for f in (numpy_dispatch() if dispatch is None else dispatch) if f.startswith(_ABOVE_AVX2)]
    if above:
        env["NPY_DISABLE_CPU_FEATURES"] = " ".join(above)
        env["NPY_ENABLE_CPU_FEATURES"] = None
    return env


def shown_env(env: dict[str, str | None]) -> dict[str, str]:
    """The variables that are set (what a record states)."""
    return {k: v for k, v in sorted(env.items()) if v is not None}


# (corename, config, get_num_threads) function names of the OpenBLAS builds numpy ships or links against
_OPENBLAS_NAMES = tuple((f"{p}_get_corename{s}", f"{p}_get_config{s}", f"{p}_get_num_threads{s}")
                        for p in ("scipy_openblas", "openblas") for s in ("64_", ""))


def openblas_libraries() -> list[str]:
    """Paths of the OpenBLAS libraries loaded in this process, numpy's own first (Linux; ``[]`` elsewhere)."""
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as fh:
            paths = sorted({line.split()[-1] for line in fh if "openblas" in line.lower()
                            and line.split()[-1].startswith("/")})
    except OSError:
        return []
    return sorted(paths, key=lambda p: "numpy" not in p)


def openblas_info(path: str) -> dict | None:
    """``{library, core, threads, config}`` of one loaded OpenBLAS, through ctypes; ``None`` if it is not one."""
    try:
        lib = ctypes.CDLL(path)
    except OSError:
        return None
    for core, config, threads in _OPENBLAS_NAMES:
        if all(hasattr(lib, n) for n in (core, config, threads)):
            getattr(lib, core).restype = getattr(lib, config).restype = ctypes.c_char_p
            return {"library": os.path.basename(path), "core": getattr(lib, core)().decode(),
                    "threads": int(getattr(lib, threads)()), "config": getattr(lib, config)().decode().strip()}
    return None


def pinned_runtime() -> dict:
    """What this process runs: numpy's OpenBLAS (core, threads) and numpy's active dispatched SIMD features."""
    import numpy as np

    try:
        from numpy._core import _multiarray_umath as umath

        features = getattr(umath, "__cpu_features__", {})
    except ImportError:  # pragma: no cover - numpy < 2
        features = {}
    dispatch = numpy_dispatch()
    blas = next((i for i in map(openblas_info, openblas_libraries()) if i), None)
    return {"numpy": np.__version__, "openblas": blas,
            "simd_active": [f for f in dispatch if features.get(f)],
            "simd_off": [f for f in dispatch if not features.get(f)]}
