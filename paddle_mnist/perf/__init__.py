"""The speed seam, below the engine: ``env`` (CPU settings before Paddle loads), ``tuned`` (the step pieces that
give the same bits faster), ``lean_adam``, ``numpy_pin`` (the numpy workers' pinned environment).

    PADDLE_MNIST_TUNED=0 python -m paddle_mnist train softmax --epochs 1
"""
