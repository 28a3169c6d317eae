"""A setting's way from the command line down to Paddle is short and never turns back.

``train mlp --lr X --seeds S`` runs in this process on tiny data; when the optimizer is built with X
(the engine's tuned Adam) and when ``paddle.seed`` gets S, the package frames on the stack, from
``cmd_train`` down, are the way the setting came: at most 8 calls, and no file entered twice (a stage runner called back from the plan's
driver in the runner's own file, or a second trip through the speed seam, would be a way back).

    python -m pytest -q tests/test_hops.py -s    # prints both ways, file:function per hop
"""
from __future__ import annotations

import sys
from pathlib import Path

import paddle
import pytest

from paddle_mnist.apps.cli import main

PACKAGE = Path(__file__).resolve().parent.parent / "paddle_mnist"
LR, SEED = 0.0123457, 98765


def _way() -> list[str]:
    """``file:function`` of the package frames below ``cmd_train``, outermost first (``cmd_train`` included)."""
    frames, f = [], sys._getframe(2)
    while f is not None:
        path = Path(f.f_code.co_filename)
        if path.is_relative_to(PACKAGE):
            frames.append(f"{path.relative_to(PACKAGE.parent).as_posix()}:{f.f_code.co_qualname}")
        f = f.f_back
    frames.reverse()
    start = next(i for i, w in enumerate(frames) if w.endswith(":cmd_train"))
    return frames[start:]


def _turns_back(way: list[str]) -> list[str]:
    """The files the way enters again after leaving them."""
    files = [w.split(":")[0] for w in way]
    left, back = set(), []
    for prev, here in zip(files, files[1:]):
        if here != prev:
            if here in left:
                back.append(here)
            left.add(prev)
    return back


@pytest.fixture
def ways(tmp_path, tiny_data, monkeypatch):
    seen = {}
    adam_init, seed = paddle.optimizer.Adam.__init__, paddle.seed

    def spy_adam(self, *args, **kwargs):
        if kwargs.get("learning_rate") == LR:
            seen.setdefault("lr", _way())
        adam_init(self, *args, **kwargs)

    def spy_seed(value):
        if value == SEED:
            seen.setdefault("seed", _way() + ["paddle:seed"])
        return seed(value)

    monkeypatch.setattr(paddle.optimizer.Adam, "__init__", spy_adam)
    monkeypatch.setattr(paddle, "seed", spy_seed)
    monkeypatch.setenv("PADDLE_MNIST_DATA", str(tiny_data))
    code = main(["train", "mlp", "--lr", str(LR), "--seeds", str(SEED), "--epochs", "1", "--device", "cpu",
                 "--runs-dir", str(tmp_path / "runs")])
    assert code == 0
    return seen


def test_lr_and_seed_reach_paddle_in_eight_calls_without_turning_back(ways):
    for setting, end in (("lr", "perf/lean_adam.py:Adam.__init__"), ("seed", "paddle:seed")):
        way = ways[setting]
        print(f"\n{setting}: {len(way) - 1} calls\n  " + "\n  ".join(way))
        assert way[-1].endswith(end), way
        assert len(way) - 1 <= 8, way
        assert _turns_back(way) == [], way


def test_a_way_back_is_found():
    way = ["apps/cli.py:cmd_train", "engine/runner.py:run", "engine/experiment.py:drive", "engine/runner.py:stage"]
    assert _turns_back(way) == ["engine/runner.py"]
    assert _turns_back(way[:3]) == []
