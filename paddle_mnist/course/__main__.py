"""``python -m paddle_mnist.course``: run the plain script ``course/mnist.py`` (a bad data file is one line).

    python -m paddle_mnist.course --model softmax --epochs 10
"""
import sys

from paddle_mnist.course.mnist import main
from paddle_mnist.errors import PaddleMnistError

if __name__ == "__main__":
    try:
        main()
    except PaddleMnistError as e:
        sys.exit(f"error: {e}")
