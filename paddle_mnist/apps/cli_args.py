"""The command line's argument checks: option types (one-line errors) and path options (never empty, never a folder
or a device where a file is written).

    python -m paddle_mnist train mlp --seeds 0,0    # error: expected distinct non-negative integers
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

from paddle_mnist.errors import ConfigError, PaddleMnistError
from paddle_mnist.records import check_output_path
# deferred: numpy, paddle (CLI start-up: --help loads neither)


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def seed_list(text: str) -> tuple:
    try:
        seeds = tuple(int(s) for s in text.split(",") if s.strip() != "")
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers like 0,1,2, got {text!r}") from None
    if not seeds or any(s < 0 for s in seeds) or len(set(seeds)) != len(seeds):
        raise argparse.ArgumentTypeError(f"expected distinct non-negative integers like 0,1,2, got {text!r}")
    return seeds


def check_train(args, settings, jobs) -> None:
    """``train``'s checks beyond each config's own (``engine.config``), before any run folder is made: one seed
    option, seeds in range, the data file, the batch split over ``--nproc`` processes, the results folder."""
    from paddle_mnist.engine.config import MAX_SEED, check_data_path

    if args.seed is not None and args.seeds:
        raise ConfigError("give --seed N or --seeds A,B,..., not both")
    for seed in settings.seeds:
        if not 0 <= seed <= MAX_SEED:
            raise ConfigError(f"seed {seed} is out of range: seeds are 0 to 2**32-1 = {MAX_SEED}")
    check_data_path(settings.overrides.get("data_path", ""))
    odd = sorted({j.config.batch_size for _, j in jobs if hasattr(j.config, "batch_size")
                  and j.config.batch_size % args.nproc})
    if args.nproc > 1 and odd:
        fit = odd[0] - odd[0] % args.nproc or args.nproc
        raise ConfigError(f"--nproc {args.nproc}: batch size {odd[0]} does not split evenly over {args.nproc} "
                          f"processes; use --batch-size {fit} or another --nproc")
    if args.results_dir is not None and not args.dry_run:
        check_folder(args.results_dir, "--results-dir")


def check_folder(path, option: str) -> None:
    """A folder the program will write into: a folder (or absent) under a writable existing folder."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise PaddleMnistError(f"{option} {path}: is a file, not a folder")
    existing = next(q for q in (p, *p.parents) if q.exists() or q == Path(q.anchor) or str(q) == ".")
    if not existing.is_dir():
        raise PaddleMnistError(f"{option} {path}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise PaddleMnistError(f"{option} {path}: {existing} is not writable")


def device_name(text: str) -> str:
    if text in ("auto", "cpu", "gpu") or (text.startswith("gpu:") and text[4:].isdigit()):
        return text
    raise argparse.ArgumentTypeError(f"expected auto, cpu, gpu or gpu:N, got {text!r}")


_PATH_OPTIONS = ("runs_dir", "results_dir", "model", "out", "idx_dir", "model_dir")
_WRITTEN = {"prepare-data": "out", "report": "out"}  # commands whose --out is a file they write


def check_paths(args) -> None:
    """Path options given empty are errors (never the default); a written file must not be a folder or a device."""
    for name in _PATH_OPTIONS:
        value = getattr(args, name, None)
        if value is not None and not str(value).strip():
            raise PaddleMnistError(f"--{name.replace('_', '-')} is empty; give a path or leave the option out")
    for image in getattr(args, "images", None) or []:
        if not str(image).strip():
            raise PaddleMnistError("an image path is empty")
    out = getattr(args, _WRITTEN.get(args.command, ""), None)
    if out is not None and not getattr(args, "check", False):
        check_output_path(out)
    runs_dir = getattr(args, "runs_dir", None)
    if runs_dir is not None and Path(runs_dir).exists() and not Path(runs_dir).is_dir():
        raise PaddleMnistError(f"--runs-dir {runs_dir}: is a file, not a folder")
