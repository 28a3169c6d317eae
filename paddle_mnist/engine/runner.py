"""Run a registered experiment (every variant x seed through ``engine.fit``) and record its results.

Only a recorded run (``reproduce``, ``train --record``) writes the reference
``reports/results/<name>.json`` and ``reports/models``; a try-out writes
``RUNS_DIR/results/<name>[-tag].json`` (``--quick``: ``RUNS_DIR/quick/results``),
atomically and under a file lock; overrides name their runs (``engine.overrides``). A run that diverges is recorded as ``diverged``; one that raises is
recorded as ``failed`` and the others go on (a full or read-only disk, a planted
file, a held run folder or ``--resume`` over another config stop the command).
The experiment's runs folder and each run folder are locked while in use; a study's
own runs (numpy nets) keep ``record.json`` for ``--resume``; the headline model is
copied only from a run's own ``best.pdparams``, after it is loaded through the allow-list
loader and checked against its config (``checkpoint.write_model``); a failed rerun never
replaces the good record of the same run.

Links and other people's files: every folder the program makes below ``--runs-dir`` (the
experiment's folder, a run folder, a VisualDL folder) that is a link or not a folder is
refused with one line before any run starts (``records.own_folder``). Starting a run afresh
clears its folder of the files a run writes (``records.clear_run``: by name, plain files only,
never through a link); a run folder holding anything else (a file the program did not write,
a subfolder, a link) is refused before any run starts and nothing in it is deleted.

    python -m paddle_mnist train mlp --seeds 0,1,2
"""
from __future__ import annotations

import datetime as _dt
import errno
import json
import os
import sys
import time
import traceback
from pathlib import Path
import contextlib
import io

from paddle_mnist.engine import distributed
from paddle_mnist.engine.config import from_dict
from paddle_mnist.engine.experiment import Experiment, Settings, Stage, drive
from paddle_mnist.engine.pool import parallel_map
from paddle_mnist.engine.checkpoint import CHECKPOINT, ResumeMismatch, load_state, resume_check, write_model
from paddle_mnist.records import (LinkRefused, RunInUse, atomic_write_text, check_clearable, clear_logs, clear_run,
                                  file_lock, own_folder, read_json, run_lock, write_json)
from paddle_mnist.errors import PaddleMnistError, RefusedFile
from paddle_mnist.perf.env import train_threads
from paddle_mnist.engine.run_stats import summarise
from paddle_mnist.format import pct

from paddle_mnist.paths import REPORTS, shown
from paddle_mnist.engine.fit import fit
from paddle_mnist.engine.resume import extension_source, read_summary
from paddle_mnist.engine.vdl import hparam_keys
# deferred: paddle (loaded on first use, so importing this module stays light)


def results_dir_for(quick: bool, runs_dir: Path, record: bool = False) -> Path:
    """``reports/results`` only for a recorded full run (``reproduce``, ``train --record``); else under the runs."""
    if quick:
        return Path(runs_dir) / "quick" / "results"
    return REPORTS / "results" if record else Path(runs_dir) / "results"


def _own_weights(run: dict, runs_dir: Path) -> Path | None:
    """The run's own ``best.pdparams`` inside ``runs_dir`` (a record naming any other file names nothing)."""
    path = Path(run["checkpoint"])
    try:
        real = path.resolve(strict=True)
        real.relative_to(Path(runs_dir).resolve())
    except (OSError, ValueError, RuntimeError):
        return None
    if real.name != "best.pdparams" or path.is_symlink() or real.parent.name != run.get("name") \
            or not real.is_file():
        return None
    return real


def _copy_headline(exp, runs: list[dict], models_dir: Path, runs_dir: Path, tag: str = "") -> str | None:
    """Copy the headline model: the best-valid run of the variant with the best mean valid accuracy.

    Chosen on ``valid`` only; the same rule as ``headline_variant`` (report and notebooks).
    Only a run's own ``best.pdparams`` in its run folder under ``runs_dir`` is ever copied.
    """
    variant = headline_variant(summarise(runs))
    ok = [r for r in runs if r["status"] == "ok" and r.get("checkpoint") and r["variant"] == variant]
    if not ok:
        return None
    best = max(ok, key=lambda r: r["best_valid_acc"])
    weights = _own_weights(best, runs_dir)
    if weights is None:
        print(f"[{exp.name}] headline model not copied: {best['checkpoint']} is not run {best['name']}'s own "
              f"best.pdparams under {runs_dir}", file=sys.stderr)
        return None
    dst = Path(models_dir) / f"{exp.name}{'-' + tag if tag else ''}.pdparams"
    write_model(weights, dst, from_dict(best["config"]),
                {"experiment": exp.name, "variant": variant, "run": best["name"],
                 "best_valid_acc": best["best_valid_acc"], "test_acc": best["test_acc"]})
    return shown(dst)


def _run_lock(folder):
    """``records.run_lock``: in a data-parallel run process 0 holds each lock for every process."""
    return run_lock(folder, held_elsewhere=not distributed.is_main())


def _below(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


def headline_variant(summary: dict) -> str | None:
    """The variant with the best mean valid accuracy (ties: the first); ``None`` without one."""
    scored = [(v["valid_acc_mean"], label) for label, v in summary.items() if v.get("valid_acc_mean") is not None]
    return max(scored, key=lambda t: t[0])[1] if scored else None


_DISK_ERRORS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS)


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


def _write_error(run_dir: Path, text: str) -> str:
    """``error.txt`` (atomically: complete or absent, never 0 bytes); the note naming it, or why it is missing."""
    try:
        atomic_write_text(run_dir / "error.txt", text)
    except OSError as exc:
        return f" (traceback not saved: {exc.strerror or exc})"
    return f" (traceback in {run_dir / 'error.txt'})"


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


def _keep_better(path: Path, record: dict, log) -> None:
    """Never replace a run's good record with a failed one of the same run (same name and config)."""
    try:
        old = read_json(path)
    except (OSError, PaddleMnistError):
        return
    if not isinstance(old, dict) or not isinstance(old.get("runs"), list):
        return
    replaced = False
    good = {(r.get("name"), json.dumps(r.get("config"), sort_keys=True)): r for r in old["runs"]
            if isinstance(r, dict) and r.get("status") in ("ok", "diverged")}
    for i, r in enumerate(record["runs"]):
        key = (r.get("name"), json.dumps(r.get("config"), sort_keys=True))
        if r.get("status") == "failed" and key in good:
            log(f"[{record['experiment']}] {r['name']}: failed now; keeping its earlier {good[key]['status']} record")
            record["runs"][i] = good[key]
            replaced = True
    if replaced and record.get("summary"):
        record["summary"] = summarise(record["runs"])


def run_configs(name: str, configs, *, runs_dir="runs", quick: bool = False, resume: bool = False,
                workers: int = 1, progress: bool | None = None, log=print, subdir: str = "",
                on_result=None) -> list[dict]:
    """Run ``(run_name, label, config[, extra])`` through ``engine.fit``; ``workers`` > 1 uses processes.

    ``extra`` (a dict) is merged into that run's record (e.g. the stage of a multi-stage study); ``on_result(record)``
    is called as each run ends (``apps.progress``).
    """
    runs_dir = Path(runs_dir)
    exp_runs = runs_dir / ("quick" if quick else "") / name / subdir
    vdl_root = runs_dir / "vdl" / ("quick-" + name if quick else name) / subdir
    jobs = [{"config": cfg, "run_dir": str(exp_runs / run_name), "vdl_dir": str(vdl_root / run_name),
             "root": str(runs_dir), "experiment": name, "resume": resume,
             "progress": progress if workers == 1 else False, "name": run_name, "variant": label,
             "extra": extra[0] if extra else {}}
            for run_name, label, cfg, *extra in configs]
    own_folder(exp_runs, runs_dir)  # a link anywhere below the runs dir: refused before anything is made
    with _run_lock(exp_runs):  # one command per experiment folder: a second one stops at once
        _preflight(jobs)
        return _run_jobs(name, jobs, workers, log, on_result)


def _run_jobs(name: str, jobs: list[dict], workers: int, log, on_result) -> list[dict]:
    hparams = hparam_keys()  # the same keys for every run, so runs of different commands compare
    parallel = workers > 1 and len(jobs) > 1
    threads = train_threads(workers if parallel else 1)  # the cores shared among the worker processes
    for job in jobs:
        job["threads"], job["hparams"] = threads, hparams
        c = job["config"]
        net = c.model if c.model == "softmax" else f"{c.model} {'x'.join(map(str, c.hidden))}"
        log(f"[{name}] {job['name']}: {net} {c.loss} {c.optimizer} lr={c.lr:g} "
            f"epochs={c.epochs}{'' if c.score_eval else ' (valid only)'}")

    def done(r: dict) -> None:
        _log_result(name, r, log)
        if on_result is not None:
            on_result(r)

    if parallel:
        return parallel_map(_run_one, jobs, workers, on_done=done)
    return [_done_with(_run_one(job), done) for job in jobs]


def _done_with(result: dict, done) -> dict:
    done(result)
    return result


def _log_result(name: str, r: dict, log) -> None:
    log(f"[{name}] {r['name']}: {r['status']} valid={pct(r['best_valid_acc'], none='-')} test={pct(r['test_acc'], none='-')}")


def run_experiment(exp: Experiment, *, seeds=None, quick: bool = False, overrides: dict | None = None,
                   runs_dir="runs", results_dir=None, models_dir=None, resume: bool = False,
                   progress: bool | None = None, workers: int = 1, log=print, record: bool = False,
                   on_result=None, settings: Settings | None = None) -> dict:
    """Run every stage of ``exp.plan``; write and return its results record (``paddle_mnist.studies`` names them).

    ``settings``: resolved by the caller (``train``), else from ``seeds``, ``quick`` and ``overrides``. ``record``
    (``reproduce``, ``train --record``) writes ``reports/results`` and ``reports/models``, else under ``runs_dir``
    (a try-out); settings resolved with ``tag_runs`` (``train``) name the runs and the results file after the
    overrides (``Settings.tag``)."""
    s = settings if settings is not None else Settings.resolve(exp, seeds, quick, overrides)
    tag = s.tag
    results_dir = Path(results_dir) if results_dir else results_dir_for(quick, Path(runs_dir), record)
    models_dir = Path(models_dir) if models_dir else (None if quick else results_dir.parent / "models")
    for folder in (results_dir, models_dir):  # those the program makes under the runs dir: never a link
        if folder is not None and _below(folder, Path(runs_dir)):
            own_folder(folder, runs_dir, make=False)
    main = distributed.is_main()  # data-parallel: process 0 alone writes the results and models
    if not main:
        log = lambda *a, **k: None  # noqa: E731
    started = time.perf_counter()
    opts = dict(runs_dir=runs_dir, quick=quick, resume=resume, workers=workers, progress=progress, log=log,
                on_result=on_result)

    def run_stage(stage: Stage) -> list[dict]:
        if stage.fn is not None:  # a study's own runner (the numpy nets, the toy-loss paths)
            log(f"[{exp.name}] {stage.name}: {len(stage.jobs)} run(s), {workers} worker(s)")
            folder = own_folder(Path(runs_dir) / ("quick" if quick else "") / exp.name / stage.subdir, runs_dir)
            calls = [(stage.fn, j.config, str(folder / j.name), resume) for j in stage.jobs]
            return parallel_map(_own_run, calls, workers, on_done=on_result, env=stage.env)
        configs = [(j.name, j.variant, j.config, j.extra) for j in stage.jobs]  # named by drive (tag_runs)
        return run_configs(exp.name, configs, subdir=stage.subdir, **opts)

    runs, extra = drive(exp, s, run_stage)
    more_settings = extra.pop("settings", {})  # a plan's own settings (the numpy study's pinned environment)
    out = {
        "experiment": exp.name, "title": exp.title, "section": exp.section, "description": exp.description,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "settings": {"quick": quick, "seeds": sorted({r["seed"] for r in runs if "seed" in r}),
                     "overrides": dict(s.overrides), "workers": workers, "cpu_count": os.cpu_count(),
                     **more_settings},
        "runs": runs,
        "summary": summarise(runs) if runs and "variant" in runs[0] else {},
        **extra,
    }
    if exp.analyse is not None:
        out.update(exp.analyse(exp, runs, s))
    out["settings"]["wall_seconds"] = time.perf_counter() - started
    first = next((r for r in runs if "config" in r), None)
    if first is not None:
        out["model_summary"] = model_summary(from_dict(first["config"]))
    if not main:
        return out
    if exp.headline and models_dir is not None:
        out["settings"]["headline_model"] = _copy_headline(exp, runs, models_dir, Path(runs_dir), tag)
    path = results_dir / f"{exp.name}{'-' + tag if tag else ''}.json"
    with file_lock(path):
        _keep_better(path, out, log)
        write_json(path, out)
    log(f"[{exp.name}] results -> {shown(path)}")
    return out


def model_summary(cfg) -> str:
    """The ``paddle.summary`` table of the model a config builds."""
    import paddle

    from paddle_mnist.engine.nets import build_model

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        paddle.summary(build_model(cfg.model, **cfg.model_kwargs()), (1, 784))
    return buf.getvalue()


def _failed(cfg, exc) -> dict:
    return {"status": "failed", "error": f"{type(exc).__name__}: {exc}", "config": cfg.to_dict(),
            "seed": cfg.seed, "history": {"epoch": []}, "best_valid_acc": None, "test_acc": None,
            "seconds": 0.0, "checkpoint": None}


def load_results(name: str, results_dir=None) -> dict:
    path = Path(results_dir or REPORTS / "results") / f"{name}.json"
    if not path.is_file():
        raise PaddleMnistError(f"no results for {name!r} at {path}; run: python -m paddle_mnist train {name}")
    return read_json(path)
