"""Score any model on a split: accuracy, loss, per-class accuracy and the confusion matrix.

The model is a model file (``X.pdparams`` + ``X.json``, e.g. ``reports/models/mlp.pdparams``),
a run folder (``runs/mlp/adam-seed0``: its ``best.pdparams``, described by its
``config.json``) or that ``best.pdparams``. The loss is the cross-entropy of the
model's class probabilities (softmax of the logits), whatever loss it was trained with.

    python -m paddle_mnist evaluate runs/mlp/adam-seed0 --split valid
"""
from __future__ import annotations

import numpy as np

SPLITS = ("valid", "eval")


def evaluate_model(model_path, split: str = "valid", data_path=None) -> dict:
    """``{"model", "split", "n", "accuracy", "loss", "per_class": [10], "confusion": [[10]x10]}``."""
    import paddle
    import paddle.nn.functional as F

    from paddle_mnist.datafile.store import read_arrays
    from paddle_mnist.engine.checkpoint import load_model, model_paths
    from paddle_mnist.engine.vdl import confusion_matrix
    from paddle_mnist.errors import PaddleMnistError

    if split not in SPLITS:
        raise PaddleMnistError(f"unknown split {split!r}; choose from {', '.join(SPLITS)}")
    model = load_model(model_path)
    x, y = read_arrays(data_path)[split]
    y = np.asarray(y, dtype=np.int64)
    with paddle.no_grad():
        out = model(paddle.to_tensor(np.ascontiguousarray(x, dtype=np.float32)))
        probs = out if getattr(model, "double_softmax", False) else F.softmax(out, axis=-1)
        probs = np.asarray(probs.numpy(), dtype=np.float64)
    pred = probs.argmax(axis=1)
    cm = confusion_matrix(y, pred, probs.shape[1])
    loss = float(-np.log(np.clip(probs[np.arange(len(y)), y], 1e-12, None)).mean())
    per_class = cm.diagonal() / np.maximum(cm.sum(axis=1), 1)
    return {"model": str(model_paths(model_path)[0]), "split": split, "n": int(len(y)),
            "accuracy": float((pred == y).mean()), "loss": loss, "per_class": [float(v) for v in per_class],
            "confusion": cm.tolist()}


def format_evaluation(res: dict) -> str:
    """The result as text: a headline, per-class accuracy and the confusion matrix (rows true, columns predicted)."""
    lines = [f"{res['model']} on {res['split']} ({res['n']} images): accuracy {100 * res['accuracy']:.2f}%, "
             f"loss {res['loss']:.4f}",
             "per-class accuracy: " + "  ".join(f"{d}:{100 * a:.1f}%" for d, a in enumerate(res["per_class"])),
             "confusion matrix (rows: true digit, columns: predicted):",
             "true\\pred " + "".join(f"{d:>6d}" for d in range(len(res["confusion"])))]
    for d, row in enumerate(res["confusion"]):
        lines.append(f"{d:>9d} " + "".join(f"{v:>6d}" for v in row))
    return "\n".join(lines)
