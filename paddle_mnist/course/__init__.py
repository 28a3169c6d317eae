"""The course's solution as one plain Paddle script, ``mnist.py`` (data, nets, train, test, main).

    python -m paddle_mnist.course --model mlp --epochs 10
"""
