"""What ``--resume`` continues: a finished run's record, or its checkpoint, and only under the same config.

``resume_state(config, run_dir)`` gives ``(checkpoint state, None)`` to continue,
``(None, finished record)`` to skip, or raises ``ResumeMismatch`` naming the keys
that differ (a longer ``--epochs`` of a constant schedule extends a finished run,
recorded as ``epochs_extended_from``; ``extension_source`` finds the shorter run a
new run folder continues). A damaged ``summary.json``, or one that does not
fit ``SUMMARY_SCHEMA`` (types, ranges), counts as missing: the run resumes from its
checkpoint and writes a new one.

    python -m paddle_mnist train mlp --seeds 0 --resume
"""
from __future__ import annotations

import sys
from pathlib import Path

from paddle_mnist.engine.checkpoint import CHECKPOINT, ResumeMismatch, load_state, resume_check, save_state
from paddle_mnist.engine.config import TrainConfig
from paddle_mnist.errors import PaddleMnistError
from paddle_mnist.records import read_json
from paddle_mnist.schema import Const, Either, Int, ListOf, Num, SchemaError, check
from paddle_mnist.engine import distributed


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
    done = read_summary(run_dir)
    ckpt = run_dir / CHECKPOINT
    state = load_state(ckpt) if ckpt.is_file() else None
    if done is None and state is None:
        source = extension_source(config, run_dir)
        if source is not None:
            return _extended(source, run_dir), None
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


def extension_source(config: TrainConfig, run_dir: Path) -> Path | None:
    """For ``--resume`` into a run folder with no run in it: the finished run beside it with the same config but
    fewer epochs (the most), which this run continues; ``None`` if there is none. A run is named after its epochs
    (``sgd-epochs2-seed0``), so ``--resume --epochs 3`` finds ``sgd-epochs2-seed0`` and writes
    ``sgd-epochs3-seed0``, leaving the 2-epoch run as it was. Only a constant learning rate extends: a schedule
    over the epoch count (cosine) would change its horizon, so that is a ``ResumeMismatch``."""
    run_dir = Path(run_dir)
    if (run_dir / "summary.json").is_file() or (run_dir / CHECKPOINT).is_file() or not run_dir.parent.is_dir():
        return None
    want = {k: v for k, v in config.to_dict().items() if k != "epochs"}
    found = []
    for other in sorted(run_dir.parent.iterdir()):
        if other == run_dir or other.is_symlink() or not other.is_dir():
            continue
        saved = _finished_config(other)
        if saved is None or not isinstance(saved.get("epochs"), int) or not (other / CHECKPOINT).is_file():
            continue
        if {k: v for k, v in saved.items() if k != "epochs"} == want and saved["epochs"] < config.epochs:
            found.append((saved["epochs"], other))
    if not found:
        return None
    epochs, source = max(found)
    if config.lr_schedule != "constant":
        raise ResumeMismatch(f"--resume cannot extend {source} from {epochs} to {config.epochs} epochs: its "
                             f"{config.lr_schedule} learning rate decays over its epoch count; rerun without "
                             "--resume to train it afresh")
    return source


def _extended(source: Path, run_dir: Path) -> dict:
    """``source``'s checkpoint, to continue in ``run_dir``, with its best weights copied there (checked loads)."""
    state = load_state(source / CHECKPOINT)
    if not isinstance(state, dict) or "record" not in state or not isinstance(state.get("epoch"), int):
        raise ResumeMismatch(f"{source / CHECKPOINT}: not a resume checkpoint; rerun without --resume")
    if distributed.is_main() and (source / "best.pdparams").is_file():
        best = load_state(source / "best.pdparams")
        shapes = {k: getattr(v, "shape", None) for k, v in (best.items() if isinstance(best, dict) else ())}
        if not isinstance(state.get("model"), dict) or \
                shapes != {k: getattr(v, "shape", None) for k, v in state["model"].items()}:
            raise ResumeMismatch(f"{source / 'best.pdparams'}: does not fit the run's model; rerun without --resume")
        save_state(best, run_dir / "best.pdparams")
    state["extended_from"] = state["epoch"]
    state["extended_from_run"] = source.name
    return state


def _finished_config(run_dir: Path) -> dict | None:
    """The config of a run that finished ``ok`` (its ``summary.json``), quietly ``None`` otherwise."""
    try:
        done = read_json(run_dir / "summary.json")
    except (OSError, PaddleMnistError):
        return None
    ok = isinstance(done, dict) and done.get("status") == "ok" and isinstance(done.get("config"), dict)
    return done["config"] if ok else None
