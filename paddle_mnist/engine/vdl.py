"""VisualDL logging for one run: scalars, hyperparameters, histograms, confusion matrix, mistakes, PR curves.

Each run writes to its own folder ``runs/vdl/<experiment>/<run_name>/`` (VisualDL
reads only the newest log file of a folder) and is shown under its run name
(``mlp/adam-seed0``: ``LogWriter``'s ``display_name``). Metric tags are the same
names as everywhere else: ``train/loss``, ``train/acc``, ``valid/loss``,
``valid/acc``, ``test/acc`` (the official test split; the course's data API calls
it ``eval``); the learning rate is ``train/lr``, because VisualDL 2.5.3 sorts the
Scalars page's groups (the part of a tag before ``/``) alphabetically and opens
the first, and a top-level ``lr`` group would open before loss and accuracy.
Every run logs the same hyperparameters (``hparam_keys``: every ``TrainConfig``
setting that shapes what a run learns), so runs of different commands compare,
with only the metrics it has (valid/acc first), so VisualDL's hyper-parameter
page finds every metric it is told about. The confusion matrix and the
misclassified test digits are labelled matplotlib figures.

    python -m paddle_mnist dashboard --runs-dir runs
"""
from __future__ import annotations

from dataclasses import fields
from pathlib import Path
import time

import numpy as np

from paddle_mnist.engine.config import TrainConfig
# deferred: paddle, visualdl, matplotlib (only when a run logs)

# per-epoch tags; ``train/loss`` itself is logged every ``log_every`` steps
METRIC_TAGS = {"train_loss": "train/epoch_loss", "train_acc": "train/acc", "valid_loss": "valid/loss",
               "valid_acc": "valid/acc", "lr": "train/lr"}


# the order of the hyper-parameter page's metric columns
HPARAM_METRICS = ("valid/acc", "test/acc", "valid/loss", "train/loss")
# settings that never explain a difference in results: not hyperparameters
PLUMBING = ("log_every", "histograms", "device", "data_path", "score_eval", "out_features")
NO_HIDDEN_LAYER = ("hidden", "activation", "dropout_after")  # settings a softmax model has no use for


def hparam_keys() -> list[str]:
    """Every ``TrainConfig`` field but the plumbing: the hyperparameters every run logs, in the config's order."""

    return [f.name for f in fields(TrainConfig) if f.name not in PLUMBING]


def hparams_of(config, keys=None) -> dict:
    """``{key: value}`` for the dashboard: a tuple as ``300x100``, a bool as ``true``/``false``, ``-`` for a setting
    the model has no use for (a softmax's hidden layers); the same type per key for every run."""
    cfg = config.to_dict()
    out = {}
    for key in keys or hparam_keys():
        value = cfg[key]
        if config.model == "softmax" and key in NO_HIDDEN_LAYER:
            value = "-"
        elif isinstance(value, (list, tuple)):
            value = "x".join(map(str, value))
        elif isinstance(value, bool):
            value = str(value).lower()
        out[key] = value
    return out


def confusion_matrix(labels, pred, n: int = 10) -> np.ndarray:
    cm = np.zeros((n, n), dtype=np.int64)
    np.add.at(cm, (np.asarray(labels, dtype=np.int64), np.asarray(pred, dtype=np.int64)), 1)
    return cm


def _render(fig) -> np.ndarray:
    """A matplotlib figure as an RGB uint8 array (Agg, no pyplot)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def confusion_image(cm: np.ndarray) -> np.ndarray:
    """The matrix as a labelled figure: rows true digit, columns predicted, each cell's count written in it."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 5.6), dpi=100)
    ax = fig.add_subplot()
    norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    n = len(cm)
    for i in range(n):
        for j in range(n):
            ax.text(j, i, str(int(cm[i, j])), ha="center", va="center", fontsize=8,
                    color="white" if norm[i, j] > 0.5 else "black")
    ax.set_xticks(range(n))
    ax.set_yticks(range(n))
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    ax.set_title(f"test confusion matrix: {int(np.trace(cm))}/{int(cm.sum())} right")
    fig.colorbar(im, ax=ax, label="share of the true digit's images")
    fig.tight_layout()
    return _render(fig)


def digit_grid(images: np.ndarray, captions=(), cols: int = 8) -> np.ndarray:
    """Digits (28x28, 0..1) in a grid, each with its caption (``true 7 -> 2``) above it, as an RGB image."""
    from matplotlib.figure import Figure

    n = len(images)
    rows = max(1, -(-n // cols))
    fig = Figure(figsize=(cols * 1.0, rows * 1.3), dpi=100)
    for i, img in enumerate(images):
        ax = fig.add_subplot(rows, cols, i + 1)
        ax.imshow(np.asarray(img).reshape(28, 28), cmap="gray", vmin=0, vmax=1)
        ax.set_axis_off()
        if i < len(captions):
            ax.set_title(captions[i], fontsize=8, pad=2)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=1 - 0.22 / rows, wspace=0.08, hspace=0.3)
    return _render(fig)


def display_name(logdir) -> str:
    """The run's name on the dashboard: its folder under ``vdl/`` (``mlp/adam-seed0``, ``quick-mlp/adam-seed0``)."""
    parts = Path(logdir).parts
    below = [i for i, part in enumerate(parts) if part == "vdl"]
    return "/".join(parts[below[-1] + 1:] if below and below[-1] + 1 < len(parts) else parts[-2:])


class RunLogger:
    """One ``LogWriter`` per run folder; a no-op when disabled."""

    def __init__(self, logdir, config, enabled: bool = True, resume_step: int = 0, hparams=None):
        self.writer, self.model, self.logged = None, None, set()
        self.histograms = getattr(config, "histograms", True)
        self.hparams = hparams_of(config, hparams)
        if not enabled:
            return
        from visualdl import LogWriter

        self.writer = LogWriter(logdir=str(logdir), display_name=display_name(logdir))

    def replay(self, history: dict, iter_step: list, iter_loss: list) -> None:
        """Re-log what a resumed run already recorded (VisualDL shows only a folder's newest log file)."""
        if self.writer is None:
            return
        for step, value in zip(iter_step, iter_loss):
            self.scalar("train/loss", float(value), int(step))
        for i, epoch in enumerate(history.get("epoch", [])):
            for key, tag in METRIC_TAGS.items():
                self.scalar(tag, float(history[key][i]), int(epoch))

    def scalar(self, tag: str, value: float, step: int) -> None:
        if self.writer is not None:
            self.writer.add_scalar(tag, float(value), int(step))
            self.logged.add(tag)

    def epoch(self, row: dict, step: int, model) -> None:
        if self.writer is None:
            return
        self.model = model  # ``final`` scores the PR curves with it (the best weights by then)
        epoch = int(row["epoch"])
        for key, tag in METRIC_TAGS.items():
            self.scalar(tag, float(row[key]), epoch)
        if self.histograms:
            for name, param in model.named_parameters():
                if name.endswith("weight"):
                    self.writer.add_histogram(f"weights/{name}", param.numpy().ravel(), epoch, buckets=30)

    def final(self, x, y, pred, test_acc: float, step: int) -> None:
        if self.writer is None:
            return
        self.scalar("test/acc", float(test_acc), 1)
        y, pred = np.asarray(y), np.asarray(pred)
        self.writer.add_image("test/confusion_matrix", confusion_image(confusion_matrix(y, pred)), step)
        wrong = np.flatnonzero(pred != y)[:32]
        if wrong.size:
            captions = [f"true {int(y[i])} -> {int(pred[i])}" for i in wrong]
            self.writer.add_image("test/misclassified", digit_grid(np.asarray(x)[wrong], captions), step)
            self.writer.add_text("test/misclassified_labels", " ".join(c[5:] for c in captions), step)
        if self.model is not None:
            probs = _probabilities(self.model, x)
            for digit in range(probs.shape[1]):
                _add_pr_curve(self.writer, f"test/pr_digit_{digit}", y == digit, probs[:, digit], step)

    def close(self) -> None:
        """Log the hyperparameters with the metrics this run has (none missing), then close the file."""
        if self.writer is not None:
            metrics = [m for m in HPARAM_METRICS if m in self.logged]
            if metrics and self.hparams:
                self.writer.add_hparams(self.hparams, metrics)
            self.writer.close()
            self.writer = None


def pr_counts(labels, scores, thresholds: int = 50) -> dict:
    """TP, FP, TN, FN, precision and recall at ``thresholds`` equally spaced score thresholds (VisualDL's binning)."""
    labels = np.asarray(labels, dtype=np.float64)
    buckets = np.floor(np.asarray(scores) * (thresholds - 1)).astype(np.int64)
    tp_b = np.bincount(buckets, weights=labels, minlength=thresholds)
    fp_b = np.bincount(buckets, weights=1.0 - labels, minlength=thresholds)
    tp, fp = np.cumsum(tp_b[::-1])[::-1], np.cumsum(fp_b[::-1])[::-1]
    tn, fn = fp[0] - fp, tp[0] - tp
    return {"tp": tp, "fp": fp, "tn": tn, "fn": fn, "precision": tp / np.maximum(1e-7, tp + fp),
            "recall": tp / np.maximum(1e-7, tp + fn)}


def _add_pr_curve(writer, tag: str, labels, scores, step: int) -> None:
    """``LogWriter.add_pr_curve`` without its ``np.float`` (gone in numpy 2): the counts, then the raw record."""
    from visualdl.component.base_component import pr_curve_raw

    c = pr_counts(labels, scores)
    writer._get_file_writer().add_record(pr_curve_raw(  # the writer's one record sink (add_pr_curve uses it)
        tag=tag, **{k: np.rint(c[k]).astype(np.int64).tolist() for k in ("tp", "fp", "tn", "fn")},
        precision=c["precision"].tolist(), recall=c["recall"].tolist(), step=int(step),
        walltime=round(time.time() * 1000)))


def _probabilities(model, x) -> np.ndarray:
    import paddle
    import paddle.nn.functional as F

    with paddle.no_grad():
        out = model(paddle.to_tensor(np.ascontiguousarray(x, dtype=np.float32)))
        probs = out if getattr(model, "double_softmax", False) else F.softmax(out, axis=-1)
    return np.asarray(probs.numpy(), dtype=np.float64)
