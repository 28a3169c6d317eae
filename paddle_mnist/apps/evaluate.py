"""Score any model on a split: accuracy, loss, per-class accuracy and the confusion matrix.

The model is anything ``apps.model_arg`` resolves: a name (``mlp``, ``softmax``: ``reports/models/<name>``),
a run folder (``runs/mlp/adam-seed0``: its ``best.pdparams``, described by its ``config.json``), a model
file (``X.pdparams`` + ``X.json``) or an exported model folder. The loss is the cross-entropy of the
model's class probabilities (softmax of the logits), whatever loss it was trained with.

    python -m paddle_mnist evaluate runs/mlp/adam-seed0 --split valid --device cpu
"""
from __future__ import annotations

import numpy as np

from paddle_mnist.apps.model_arg import open_model, resolve_model
from paddle_mnist.datafile.store import read_arrays
from paddle_mnist.engine.vdl import confusion_matrix
from paddle_mnist.errors import PaddleMnistError

SPLITS = ("valid", "eval")


def evaluate_model(model, split: str = "valid", data_path=None, device: str | None = None) -> dict:
    """``{"model", "split", "n", "accuracy", "loss", "per_class": [10], "confusion": [[10]x10]}``.

    A model without 10 outputs is refused in one line before the split is read.
    """
    if split not in SPLITS:
        raise PaddleMnistError(f"unknown split {split!r}; choose from {', '.join(SPLITS)}")
    runnable = open_model(resolve_model(model), device)
    x, y = read_arrays(data_path)[split]
    y = np.asarray(y, dtype=np.int64)
    probs = runnable.probabilities(np.ascontiguousarray(x, dtype=np.float32))
    pred = probs.argmax(axis=1)
    cm = confusion_matrix(y, pred, probs.shape[1])
    loss = float(-np.log(np.clip(probs[np.arange(len(y)), y], 1e-12, None)).mean())
    per_class = cm.diagonal() / np.maximum(cm.sum(axis=1), 1)
    return {"model": str(runnable.ref.path), "split": split, "n": int(len(y)),
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
