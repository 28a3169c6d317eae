"""What ``--resume`` continues: a finished run's record, or its checkpoint, and only under the same config.

``resume_state(config, run_dir)`` gives ``(checkpoint state, None)`` to continue,
``(None, finished record)`` to skip, or raises ``ResumeMismatch`` naming the keys
that differ (a longer ``--epochs`` of a constant schedule extends a finished run,
recorded as ``epochs_extended_from``). A damaged ``summary.json``, or one that does not
fit ``SUMMARY_SCHEMA`` (types, ranges), counts as missing: the run resumes from its
checkpoint and writes a new one.

    python -m paddle_mnist train mlp --seeds 0 --resume
"""
from __future__ import annotations

import sys
from pathlib import Path

from paddle_mnist.engine.checkpoint import CHECKPOINT, load_state
from paddle_mnist.engine.config import TrainConfig
from paddle_mnist.errors import PaddleMnistError
from paddle_mnist.records import read_json
from paddle_mnist.schema import Const, Either, Int, ListOf, Num, SchemaError, check


_LOSS = Either(None, Num(finite=False))  # NaN or infinite once a run diverged
_ACC = Either(None, Num(0, 1))
SUMMARY_SCHEMA = {  # what engine.fit.finish writes; a summary.json that does not fit is rebuilt
    "status": Either(Const("ok"), Const("diverged")), "config": dict, "seed": int, "device": str,
    "threads": Either(None, Int(0)), "parameters": Int(0), "steps": Int(0), "steps_per_epoch": Int(0),
    "history": {"epoch": ListOf(Int(0)), **{k: ListOf(_LOSS) for k in ("train_loss?", "train_acc?", "valid_loss?",
                                                                        "valid_acc?", "lr?", "seconds?")}},
    "iterations": {"step": ListOf(Int(0)), "train_loss": ListOf(_LOSS)},
    "best_valid_acc": _ACC, "best_epoch": Either(None, Int(0)), "test_acc": _ACC, "test_loss": _LOSS,
    "eval_scored": bool, "diverged_step": Either(None, Int(0)), "last_finite_loss": _LOSS,
    "checkpoint": Either(None, str), "seconds": Num(0), "epochs_extended_from?": Either(None, Int(0)),
}


def read_summary(run_dir: Path) -> dict | None:
    """A finished run's ``summary.json`` checked against ``SUMMARY_SCHEMA`` (``None`` when missing, damaged or
    not fitting: then it is rebuilt from the checkpoint, with one line on stderr saying so).

    Its ``checkpoint`` is always the run's own ``best.pdparams``, whatever the file says.
    """
    path = run_dir / "summary.json"
    try:
        done = read_json(path)
        if isinstance(done, dict) and done.get("status") in ("ok", "diverged"):  # else not a finished run's
            check(done, SUMMARY_SCHEMA, str(path))
    except (OSError, PaddleMnistError, ValueError, RecursionError) as exc:
        if path.exists():
            why = str(exc) if isinstance(exc, SchemaError) else f"{path}: damaged"
            print(f"{why}; rebuilding it from the checkpoint", file=sys.stderr)
        return None
    if not isinstance(done, dict) or done.get("status") not in ("ok", "diverged"):
        return None
    best = run_dir / "best.pdparams"
    done["checkpoint"] = str(best) if best.is_file() and done.get("best_epoch") is not None else None
    return done


def resume_state(config: TrainConfig, run_dir: Path):
    """``(checkpoint state or None, finished record or None)`` for ``--resume``; a changed config is an error."""
    from paddle_mnist.engine.checkpoint import ResumeMismatch, resume_check

    done = read_summary(run_dir)
    ckpt = run_dir / CHECKPOINT
    state = load_state(ckpt) if ckpt.is_file() else None
    if state is not None and (not isinstance(state, dict) or "record" not in state):
        raise ResumeMismatch(f"{ckpt}: not a resume checkpoint; rerun without --resume to start afresh")
    saved = (state or {}).get("config") or (done or {}).get("config") or _config_json(run_dir)
    extended = resume_check(saved, config.to_dict(), run_dir)
    if done is not None and (extended is None or done["status"] == "diverged"):
        return None, done  # finished with this config (a diverged run stays diverged)
    if extended is not None and state is None:
        raise ResumeMismatch(f"{run_dir}: no checkpoint to extend to {config.epochs} epochs; rerun without --resume")
    if state is not None and extended is not None:
        state["extended_from"] = extended
    return state, None


def _config_json(run_dir: Path):
    try:
        saved = read_json(run_dir / "config.json")
    except (OSError, PaddleMnistError):
        return None
    return saved.get("config") if isinstance(saved, dict) else None
