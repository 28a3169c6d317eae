"""Run a registered experiment: drive its plan, each stage through ``engine.jobs.run_stage``, and record its results.

Only a recorded run (``reproduce``, ``train --record``) writes the reference
``reports/results/<name>.json`` and ``reports/models``; a try-out writes
``RUNS_DIR/results/<name>[-tag].json`` (``--quick``: ``RUNS_DIR/quick/results``),
atomically and under a file lock; overrides name their runs and the results file
(``Settings.tag``). How each run is run, locked and recorded on failure is ``engine.jobs``;
the headline model is copied only from a run's own ``best.pdparams``, after it is loaded
through the allow-list loader and checked against its config (``checkpoint.write_model``);
a failed rerun never replaces the good record of the same run.

Links and other people's files: every folder the program makes below ``--runs-dir`` (the
experiment's folder, a run folder, a VisualDL folder) that is a link or not a folder is
refused with one line before any run starts (``records.own_folder``). Starting a run afresh
clears its folder of the files a run writes (``records.clear_run``: by name, plain files only,
never through a link); a run folder holding anything else (a file the program did not write,
a subfolder, a link) is refused before any run starts and nothing in it is deleted.

    python -m paddle_mnist train mlp --seeds 0,1,2
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import functools
import io
import json
import os
import sys
import time
from pathlib import Path

from paddle_mnist.engine import distributed
from paddle_mnist.engine.checkpoint import write_model
from paddle_mnist.engine.config import from_dict
from paddle_mnist.engine.experiment import Experiment, Settings, drive
from paddle_mnist.engine.jobs import run_stage
from paddle_mnist.engine.run_stats import summarise
from paddle_mnist.errors import PaddleMnistError
from paddle_mnist.paths import REPORTS, shown
from paddle_mnist.records import file_lock, own_folder, read_json, write_json
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
    tag = s.tag  # "" unless resolved with tag_runs
    results_dir = Path(results_dir) if results_dir else results_dir_for(quick, Path(runs_dir), record)
    models_dir = Path(models_dir) if models_dir else (None if quick else results_dir.parent / "models")
    for folder in (results_dir, models_dir):  # those the program makes under the runs dir: never a link
        if folder is not None and _below(folder, Path(runs_dir)):
            own_folder(folder, runs_dir, make=False)
    main = distributed.is_main()  # data-parallel: process 0 alone writes the results and models
    if not main:
        log = lambda *a, **k: None  # noqa: E731
    started = time.perf_counter()
    stage_runner = functools.partial(run_stage, name=exp.name, runs_dir=runs_dir, quick=quick, resume=resume,
                                     workers=workers, progress=progress, log=log, on_result=on_result)
    runs, extra = drive(exp, s, stage_runner)
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


def load_results(name: str, results_dir=None) -> dict:
    path = Path(results_dir or REPORTS / "results") / f"{name}.json"
    if not path.is_file():
        raise PaddleMnistError(f"no results for {name!r} at {path}; run: python -m paddle_mnist train {name}")
    return read_json(path)
