"""``python -m paddle_mnist``: the command line (see ``cli.py``).

    python -m paddle_mnist --help
"""
import sys

from paddle_mnist.apps.cli import main

if __name__ == "__main__":
    sys.exit(main())
