"""VisualDL logging for one run: scalars, hyperparameters, histograms, confusion matrix, mistakes.

Each run writes to its own folder ``runs/vdl/<experiment>/<run_name>/`` (VisualDL
reads only the newest log file of a folder). Metric tags are the same names as
everywhere else: ``train/loss``, ``train/acc``, ``valid/loss``, ``valid/acc``,
``lr``, ``test/acc``.

    python -m paddle_mnist dashboard --runs-dir runs
"""
from __future__ import annotations

import numpy as np

# per-epoch tags; ``train/loss`` itself is logged every ``log_every`` steps
METRIC_TAGS = {"train_loss": "train/epoch_loss", "train_acc": "train/acc", "valid_loss": "valid/loss",
               "valid_acc": "valid/acc", "lr": "lr"}


def confusion_matrix(labels, pred, n: int = 10) -> np.ndarray:
    cm = np.zeros((n, n), dtype=np.int64)
    np.add.at(cm, (np.asarray(labels, dtype=np.int64), np.asarray(pred, dtype=np.int64)), 1)
    return cm


def confusion_image(cm: np.ndarray, cell: int = 24) -> np.ndarray:
    """The matrix as an RGB uint8 heat map (row-normalised), ``cell`` pixels per entry."""
    from matplotlib import colormaps

    norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    rgb = (colormaps["viridis"](np.sqrt(norm))[..., :3] * 255).astype(np.uint8)
    return np.repeat(np.repeat(rgb, cell, axis=0), cell, axis=1)


def digit_grid(images: np.ndarray, cols: int = 8) -> np.ndarray:
    """A grid of 28x28 digits as an RGB uint8 image (single channel repeated to 3)."""
    n = len(images)
    rows = max(1, -(-n // cols))
    grid = np.zeros((rows * 28, cols * 28), dtype=np.uint8)
    for i, img in enumerate(images):
        r, c = divmod(i, cols)
        grid[r * 28:(r + 1) * 28, c * 28:(c + 1) * 28] = (np.asarray(img).reshape(28, 28) * 255).astype(np.uint8)
    return np.repeat(grid[..., None], 3, axis=2)


class RunLogger:
    """One ``LogWriter`` per run folder; a no-op when disabled."""

    def __init__(self, logdir, config, enabled: bool = True, resume_step: int = 0):
        self.writer = None
        self.histograms = getattr(config, "histograms", True)
        if not enabled:
            return
        from visualdl import LogWriter

        self.writer = LogWriter(logdir=str(logdir))
        if resume_step == 0:
            hp = {k: (v if isinstance(v, (int, float, str)) and not isinstance(v, bool) else str(v))
                  for k, v in config.to_dict().items() if k not in ("data_path",)}
            self.writer.add_hparams(hp, ["valid/acc", "valid/loss", "train/loss", "test/acc"])

    def replay(self, history: dict, iter_step: list, iter_loss: list) -> None:
        """Re-log what a resumed run already recorded (VisualDL shows only a folder's newest log file)."""
        if self.writer is None:
            return
        for step, value in zip(iter_step, iter_loss):
            self.writer.add_scalar("train/loss", float(value), int(step))
        for i, epoch in enumerate(history.get("epoch", [])):
            for key, tag in METRIC_TAGS.items():
                self.writer.add_scalar(tag, float(history[key][i]), int(epoch))

    def scalar(self, tag: str, value: float, step: int) -> None:
        if self.writer is not None:
            self.writer.add_scalar(tag, float(value), int(step))

    def epoch(self, row: dict, step: int, model) -> None:
        if self.writer is None:
            return
        epoch = int(row["epoch"])
        for key, tag in METRIC_TAGS.items():
            self.writer.add_scalar(tag, float(row[key]), epoch)
        if self.histograms:
            for name, param in model.named_parameters():
                if name.endswith("weight"):
                    self.writer.add_histogram(f"weights/{name}", param.numpy().ravel(), epoch, buckets=30)

    def final(self, x, y, pred, test_acc: float, step: int) -> None:
        if self.writer is None:
            return
        self.writer.add_scalar("test/acc", float(test_acc), 1)
        cm = confusion_matrix(y, pred)
        self.writer.add_image("eval/confusion_matrix", confusion_image(cm), step)
        wrong = np.flatnonzero(np.asarray(pred) != np.asarray(y))[:64]
        if wrong.size:
            self.writer.add_image("eval/misclassified", digit_grid(np.asarray(x)[wrong]), step)
            self.writer.add_text("eval/misclassified_labels", " ".join(
                f"{int(y[i])}->{int(pred[i])}" for i in wrong), step)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None
