"""paddle_mnist: the MNIST coursework reproduced in PaddlePaddle 3.

The course's solution is the public face (Paddle is imported only when one of
these names is first used):

    from paddle_mnist import load_data, SoftmaxNet, MLP, train_epoch, evaluate

Importing the package applies the CPU settings of ``perf.env`` (before Paddle is
imported) and nothing else. The layout: ``course`` (the readable solution),
``datafile``, ``engine``, ``studies``, ``report``, ``plots``, ``scratch`` (numpy
from scratch), ``perf`` and ``apps``; see docs/ARCHITECTURE.md.

    python -m paddle_mnist --help
"""
import warnings

from paddle_mnist.perf.env import apply_cpu_settings

# Paddle warns about a missing ccache (used only to build C++ extensions) on every import.
warnings.filterwarnings("ignore", message="No ccache found")

__version__ = "0.1.0"
CPU_SETTINGS = apply_cpu_settings()

__all__ = ["MLP", "SoftmaxNet", "evaluate", "load_data", "train_epoch"]


def __getattr__(name):
    """The course's names, imported on first use (so ``import paddle_mnist`` does not import Paddle)."""
    if name == "load_data":
        from paddle_mnist.course.data import load_data

        return load_data
    if name in ("SoftmaxNet", "MLP"):
        from paddle_mnist.course import nets

        return getattr(nets, name)
    if name in ("train_epoch", "evaluate"):
        from paddle_mnist.course import train

        return getattr(train, name)
    raise AttributeError(f"module 'paddle_mnist' has no attribute {name!r}")
