"""The benchmarks, above the engine and the apps: ``run`` (data; dispatches ``bench train``/``eval``/``apps``),
``train`` (writes train/eval.json), ``workers`` and ``profile`` (the subprocess workers), ``apps``, ``measure``,
``flops``. They write ``reports/bench/``.

    python -m paddle_mnist bench data
"""
