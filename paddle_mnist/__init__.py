"""paddle_mnist: the MNIST coursework reproduced in PaddlePaddle 3.

Importing the package applies the CPU settings of ``_env`` (before Paddle is
imported) and nothing else.

    python -m paddle_mnist --help
"""
import warnings

from paddle_mnist.perf.env import apply_cpu_settings

# Paddle warns about a missing ccache (used only to build C++ extensions) on every import.
warnings.filterwarnings("ignore", message="No ccache found")

__version__ = "0.1.0"
CPU_SETTINGS = apply_cpu_settings()
