"""The epoch line ``engine.fit`` prints on stderr: one line per epoch that always shows ``valid/acc``.

On a terminal that reports its width the line redraws in place while the epoch
trains (``mlp/adam-seed0 3/10  45% ######...... loss 0.2130``) and ends as the
finished epoch, most important first: ``valid/acc``, then ``train/loss``, then the
seconds; the run name is shortened in the middle so the line fits the width.
Off a terminal (a pipe, a file) or where the terminal reports no width, each
epoch is one plain line, written when it ends.

    python -m paddle_mnist train softmax --epochs 2 --seeds 0 2>&1 | cat
"""
from __future__ import annotations

import os
import sys
import time


def terminal_width(stream=None) -> int:
    """The columns of the terminal ``stream`` writes to; 0 off a terminal or where it reports no width."""
    stream = sys.stderr if stream is None else stream
    try:
        return os.get_terminal_size(stream.fileno()).columns if stream.isatty() else 0
    except (AttributeError, OSError, ValueError):
        return 0


def shorten(text: str, width: int) -> str:
    """``text`` cut in the middle to ``width`` characters (its start and its end, e.g. the seed, stay)."""
    if len(text) <= width:
        return text
    if width <= 1:
        return text[:max(width, 0)]
    head = (width - 1) // 2
    return text[:head] + "~" + text[len(text) - (width - 1 - head):]


def finished(row: dict) -> str:
    """A finished epoch's figures, most important first."""
    return f"valid/acc={100 * row['valid_acc']:.2f}% train/loss={row['train_loss']:.4f} ({row['seconds']:.1f}s)"


def fit_line(name: str, middle: str, tail: str, width: int) -> str:
    """``name middle tail`` in ``width`` columns: the name gives way first, then the tail is cut."""
    room = width - len(middle) - len(tail) - 2
    if room >= 8 or room >= len(name):
        return f"{shorten(name, room)} {middle} {tail}"[:width]
    return f"{shorten(name, 8)} {middle} {tail}"[:width]


class EpochLine:
    """One epoch's line: ``update(loss)`` per step, ``close(row)`` at its end (``row`` None: it stopped).

    ``show``: ``"bar"`` redraws on a terminal (plain lines where it reports no width), ``"lines"`` writes one
    plain line per epoch, false writes nothing.
    """

    def __init__(self, total: int, name: str, epoch: int, epochs: int, show, stream=None, clock=time.monotonic):
        self.stream = sys.stderr if stream is None else stream
        self.total, self.name, self.where = max(int(total), 1), name, f"{epoch}/{epochs}"
        self.width = terminal_width(self.stream) if show is True or show == "bar" else 0
        self.lines = bool(show) and not self.width  # no width reported: plain lines, never blank ones
        self.clock, self.n, self.drawn = clock, 0, None

    def update(self, loss: float) -> None:
        self.n += 1
        if not self.width:
            return
        now = self.clock()
        if self.drawn is not None and now - self.drawn < 0.5 and self.n < self.total:
            return
        self.drawn = now
        pct = 100 * self.n // self.total
        bar_len = 10
        fill = bar_len * self.n // self.total
        middle = f"{self.where} {pct:3d}% {'#' * fill}{'.' * (bar_len - fill)}"
        self._draw(fit_line(self.name, middle, f"loss {loss:.4f}", self.width - 1), end="")

    def close(self, row: dict | None = None) -> None:
        if self.width:
            if row is not None:
                self._draw(fit_line(self.name, self.where, finished(row), self.width - 1), end="\n")
            elif self.drawn is not None:
                self._draw("", end="")  # a stopped epoch leaves no half line behind
        elif self.lines and row is not None:
            print(f"{self.name} epoch {self.where}: {finished(row)}", file=self.stream, flush=True)

    def _draw(self, text: str, end: str) -> None:
        self.stream.write(f"\r{text}\x1b[K{end}")
        self.stream.flush()
