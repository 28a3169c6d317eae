"""paddle_mnist: the MNIST coursework reproduced in PaddlePaddle 3.

The course's solution is one plain script, ``paddle_mnist/course/mnist.py``
(``python -m paddle_mnist.course --model mlp --epochs 10``). The engine's building
blocks it is checked against are importable from here (Paddle is imported only
when one of these names is first used):

    from paddle_mnist import load_data, SoftmaxNet, MLP, train_epoch, evaluate

Importing the package applies the CPU settings of ``perf.env`` (before Paddle is
imported) and nothing else. The layout: ``course`` (the plain script),
``datafile``, ``engine``, ``studies``, ``report``, ``plots``, ``scratch`` (numpy
from scratch), ``perf`` and ``apps``; see docs/ARCHITECTURE.md.

    python -m paddle_mnist --help
"""
import warnings

from paddle_mnist.perf.env import apply_cpu_settings
# deferred: numpy, paddle (`import paddle_mnist` loads neither: the course's blocks on first use)

# Paddle warns about a missing ccache (used only to build C++ extensions) on every import.
warnings.filterwarnings("ignore", message="No ccache found")

__version__ = "0.1.0"
CPU_SETTINGS = apply_cpu_settings()

__all__ = ["MLP", "SoftmaxNet", "evaluate", "load_data", "train_epoch"]


def __getattr__(name):
    """The engine's building blocks, imported on first use (so ``import paddle_mnist`` does not import Paddle)."""
    if name == "load_data":
        from paddle_mnist.engine.batches import load_data

        return load_data
    if name in ("SoftmaxNet", "MLP"):
        from paddle_mnist.engine import nets

        return getattr(nets, name)
    if name in ("train_epoch", "evaluate"):
        from paddle_mnist.engine import loop

        return getattr(loop, name)
    raise AttributeError(f"module 'paddle_mnist' has no attribute {name!r}")
