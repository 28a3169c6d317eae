"""Run one stage of a plan: each job through ``engine.fit``, or through a study's own runner, in worker processes when
asked (``engine.pool``); ``engine.runner`` drives the stages and writes the results record.

A run that diverges is recorded as ``diverged``; one that raises is recorded as ``failed``
(its traceback in ``error.txt``) and the others go on; a full or read-only disk, a planted
file, a held run folder or ``--resume`` over another config stop the command, before any run
starts where they can be seen then (``_preflight``). The experiment's runs folder and each run
folder are locked while in use; a study's own runs (numpy nets) keep ``record.json`` for ``--resume``.

    python -m paddle_mnist train mlp --seeds 0,1,2
"""
from __future__ import annotations

import errno
import functools
import json
import sys
import traceback
from pathlib import Path

from paddle_mnist.engine import distributed
from paddle_mnist.engine.checkpoint import CHECKPOINT, ResumeMismatch, load_state, resume_check
from paddle_mnist.engine.experiment import Job, Stage
from paddle_mnist.engine.fit import fit
from paddle_mnist.engine.pool import parallel_map
from paddle_mnist.engine.resume import extension_source, read_summary
from paddle_mnist.engine.vdl import hparam_keys
from paddle_mnist.errors import PaddleMnistError, RefusedFile
from paddle_mnist.format import pct
from paddle_mnist.perf.env import train_threads
from paddle_mnist.records import (LinkRefused, RunInUse, atomic_write_text, check_clearable, clear_logs, clear_run,
                                  own_folder, read_json, run_lock)


_DISK_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS)


def _run_lock(folder):
    """``records.run_lock``: in a data-parallel run process 0 holds each lock for every process."""
    return run_lock(folder, held_elsewhere=not distributed.is_main())


def run_stage(stage: Stage, *, name: str, runs_dir="runs", quick: bool = False, resume: bool = False,
              workers: int = 1, progress: bool | None = None, log=print, on_result=None) -> list[dict]:
    """The records of ``stage``'s runs (experiment ``name``), ``on_result(record)`` called as each ends
    (``apps.progress``): each job through ``engine.fit`` (``_run_one``; ``workers`` > 1 uses processes), its
    ``extra`` merged into its record, or through the study's own runner ``stage.fn`` (``_own_run``)."""
    if stage.fn is not None:  # a study's own runner (the numpy nets, the toy-loss paths)
        log(f"[{name}] {stage.name}: {len(stage.jobs)} run(s), {workers} worker(s)")
        folder = own_folder(Path(runs_dir) / ("quick" if quick else "") / name / stage.subdir, runs_dir)
        calls = [(stage.fn, j.config, str(folder / j.name), resume) for j in stage.jobs]
        return parallel_map(_own_run, calls, workers, on_done=on_result, env=stage.env)
    runs_dir = Path(runs_dir)
    exp_runs = runs_dir / ("quick" if quick else "") / name / stage.subdir
    vdl_root = runs_dir / "vdl" / ("quick-" + name if quick else name) / stage.subdir
    jobs = [{"config": j.config, "run_dir": str(exp_runs / j.name), "vdl_dir": str(vdl_root / j.name),
             "root": str(runs_dir), "experiment": name, "resume": resume,
             "progress": progress if workers == 1 else False, "name": j.name, "variant": j.variant,
             "extra": j.extra} for j in stage.jobs]
    own_folder(exp_runs, runs_dir)  # a link anywhere below the runs dir: refused before anything is made
    with _run_lock(exp_runs):  # one command per experiment folder: a second one stops at once
        _preflight(jobs)
        parallel = workers > 1 and len(jobs) > 1
        threads = train_threads(workers if parallel else 1)  # the cores shared among the worker processes
        hparams = hparam_keys()  # the same keys for every run, so runs of different commands compare
        for job in jobs:
            job["threads"], job["hparams"] = threads, hparams
            log(_plan_line(name, job["name"], job["config"]))
        ended = functools.partial(_ended, name, log, on_result)
        if parallel:
            return parallel_map(_run_one, jobs, workers, on_done=ended)
        records = []
        for job in jobs:
            records.append(_run_one(job))
            ended(records[-1])
        return records


def run_configs(name: str, configs, *, subdir: str = "", **options) -> list[dict]:
    """``run_stage`` of ``(run_name, label, config[, extra])`` tuples (one stage in ``subdir``)."""
    jobs = [Job(run_name, label, cfg, extra[0] if extra else {}) for run_name, label, cfg, *extra in configs]
    return run_stage(Stage("", jobs, subdir=subdir), name=name, **options)


def _plan_line(name: str, run_name: str, c) -> str:
    net = c.model if c.model == "softmax" else f"{c.model} {'x'.join(map(str, c.hidden))}"
    return (f"[{name}] {run_name}: {net} {c.loss} {c.optimizer} lr={c.lr:g} "
            f"epochs={c.epochs}{'' if c.score_eval else ' (valid only)'}")


def _ended(name: str, log, on_result, r: dict) -> None:
    log(f"[{name}] {r['name']}: {r['status']} valid={pct(r['best_valid_acc'], none='-')} "
        f"test={pct(r['test_acc'], none='-')}")
    if on_result is not None:
        on_result(r)


def _run_one(job: dict) -> dict:
    """Train one configuration (in this process or a worker); failures become records, not exceptions.

    The run folder is locked first, so a second command on the same run stops before touching it.
    """
    cfg, run_dir, vdl_dir = job["config"], Path(job["run_dir"]), Path(job["vdl_dir"])
    with _run_lock(run_dir):
        if not job["resume"] and distributed.is_main():  # process 0 clears; the others share its folders
            clear_run(run_dir)
            clear_logs(vdl_dir, job["root"])
        try:
            result = fit(cfg, run_dir, experiment=job["experiment"], vdl_dir=vdl_dir, resume=job["resume"],
                         progress=job["progress"], threads=job["threads"], hparams=job["hparams"])
        except (KeyboardInterrupt, ResumeMismatch, RunInUse, RefusedFile, LinkRefused):
            raise
        except OSError as exc:
            if exc.errno in _DISK_ERRORS:  # a full or read-only disk stops every run: stop now, say so once
                raise
            note = _write_error(run_dir, traceback.format_exc())
            print(f"run {job['name']} failed: {type(exc).__name__}: {exc}{note}", file=sys.stderr)
            result = _failed(cfg, exc)
        except Exception as exc:  # a run that raises is recorded; the others go on
            note = _write_error(run_dir, traceback.format_exc())
            print(f"run {job['name']} failed: {type(exc).__name__}: {exc}{note}", file=sys.stderr)
            result = _failed(cfg, exc)
    result.update(name=job["name"], variant=job["variant"], **job["extra"])
    return result


def _failed(cfg, exc) -> dict:
    return {"status": "failed", "error": f"{type(exc).__name__}: {exc}", "config": cfg.to_dict(),
            "seed": cfg.seed, "history": {"epoch": []}, "best_valid_acc": None, "test_acc": None,
            "seconds": 0.0, "checkpoint": None}


def _write_error(run_dir: Path, text: str) -> str:
    """``error.txt`` (atomically: complete or absent, never 0 bytes); the note naming it, or why it is missing."""
    try:
        atomic_write_text(run_dir / "error.txt", text)
    except OSError as exc:
        return f" (traceback not saved: {exc.strerror or exc})"
    return f" (traceback in {run_dir / 'error.txt'})"


def _own_run(call) -> dict:
    """A study's own run (``fn(job)``) with its record kept in its run folder: ``--resume`` reuses a finished
    record made with the same job settings instead of training again."""
    fn, job, run_dir, resume = call
    run_dir, settings = Path(run_dir), json.loads(json.dumps(job, default=str))
    with _run_lock(run_dir):
        if resume:
            try:
                kept = read_json(run_dir / "record.json")
            except (OSError, PaddleMnistError):
                kept = None
            if isinstance(kept, dict) and kept.get("job") == settings and isinstance(kept.get("record"), dict) \
                    and kept["record"].get("status") in ("ok", "diverged"):
                return kept["record"]
        record = fn(job)
        try:
            text = json.dumps({"job": settings, "record": record})
        except (TypeError, ValueError):
            return record  # a record holding arrays is not kept: --resume reruns it
        try:
            atomic_write_text(run_dir / "record.json", text)
        except OSError as exc:
            print(f"{run_dir / 'record.json'}: not saved ({exc.strerror or exc}); --resume will rerun this run",
                  file=sys.stderr)
    return record


def _preflight(jobs: list[dict]) -> None:
    """Before any run starts: every run folder free, and ``--resume`` only over the same configs."""
    for job in jobs:
        run_dir = Path(job["run_dir"])
        own_folder(job["vdl_dir"], job["root"], make=False)  # a linked VisualDL folder: refused now
        if job["resume"]:
            extension_source(job["config"], run_dir)  # a run whose schedule cannot be extended stops here
        if not run_dir.is_dir() and not run_dir.is_symlink():
            continue
        with _run_lock(run_dir):  # a linked run folder or lock: refused before anything is cleared
            if not job["resume"] and distributed.is_main():  # what a fresh start would clear
                check_clearable(run_dir)
            elif job["resume"]:
                saved = (read_summary(run_dir) or {}).get("config")
                if saved is None and (run_dir / CHECKPOINT).is_file():
                    state = load_state(run_dir / CHECKPOINT)
                    saved = state.get("config") if isinstance(state, dict) else None
                resume_check(saved, job["config"].to_dict(), run_dir)
