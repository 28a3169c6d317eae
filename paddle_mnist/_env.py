"""CPU settings that must be in place before Paddle is imported (applied by the package's ``__init__``).

On AMD processors the Paddle CPU wheel's MKL 2019 takes a slow non-AVX2 path
unless ``MKL_DEBUG_CPU_TYPE=5`` is set (Paddle issue #75760); on Intel that flag
can cost AVX-512 speed, so it is set only for AMD. A variable the user has set
is never overridden; ``PADDLE_MNIST_TUNED=0`` turns every setting off.

    PADDLE_MNIST_TUNED=0 python -m paddle_mnist bench train
"""
from __future__ import annotations

import os


def cpu_vendor(cpuinfo: str | None = None) -> str:
    """``'amd'``, ``'intel'`` or ``'other'`` from ``/proc/cpuinfo`` (or the text given)."""
    if cpuinfo is None:
        try:
            with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
                cpuinfo = fh.read(4096)
        except OSError:
            return "other"
    if "AuthenticAMD" in cpuinfo:
        return "amd"
    if "GenuineIntel" in cpuinfo:
        return "intel"
    return "other"


def tuned_enabled(environ=os.environ) -> bool:
    return environ.get("PADDLE_MNIST_TUNED", "1").strip().lower() not in ("0", "false", "no", "off")


def cpu_settings(vendor: str, environ=os.environ) -> dict[str, str]:
    """The environment variables to add (never ones the user already set)."""
    if not tuned_enabled(environ):
        return {}
    wanted = {"MKL_DEBUG_CPU_TYPE": "5"} if vendor == "amd" else {}
    return {k: v for k, v in wanted.items() if k not in environ}


def apply_cpu_settings() -> dict[str, str]:
    added = cpu_settings(cpu_vendor())
    os.environ.update(added)
    return added
