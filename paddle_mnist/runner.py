"""Run a registered experiment (every variant x seed through ``engine.fit``) and record its results.

Results go to ``reports/results/<name>.json`` (atomically, under a file lock);
``--quick`` runs go to ``runs/quick/results/`` so they never replace the full
results. A run that diverges is recorded as ``diverged``; one that raises is
recorded as ``failed`` and the others go on.

    python -m paddle_mnist train mlp --seeds 0,1,2
"""
from __future__ import annotations

import datetime as _dt
import os
import shutil
import statistics
import sys
import time
import traceback
from pathlib import Path

from ._env import train_threads
from .errors import PaddleMnistError
from .experiments import get_experiment
from .records import file_lock, read_json, write_json

REPO = Path(__file__).resolve().parent.parent
REPORTS = REPO / "reports"


def results_dir_for(quick: bool, runs_dir: Path) -> Path:
    return Path(runs_dir) / "quick" / "results" if quick else REPORTS / "results"


def _mean_std(values):
    values = [v for v in values if v is not None]
    if not values:
        return None, None
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def summarise(runs: list[dict]) -> dict:
    """Per variant: test accuracy mean/std over seeds, valid accuracy, epochs, seconds, status counts."""
    out = {}
    for label in dict.fromkeys(r["variant"] for r in runs):
        group = [r for r in runs if r["variant"] == label]
        ok = [r for r in group if r["status"] == "ok"]
        t_mean, t_std = _mean_std([r["test_acc"] for r in ok])
        v_mean, v_std = _mean_std([r["best_valid_acc"] for r in ok])
        s_mean, _ = _mean_std([r["seconds"] for r in group])
        out[label] = {"test_acc_mean": t_mean, "test_acc_std": t_std, "valid_acc_mean": v_mean,
                      "valid_acc_std": v_std, "seconds_mean": s_mean, "n_runs": len(group), "n_ok": len(ok),
                      "statuses": sorted({r["status"] for r in group}),
                      "epochs": max((len(r["history"]["epoch"]) for r in group), default=0)}
    return out


def _copy_headline(name: str, runs: list[dict], models_dir: Path) -> str | None:
    from .records import atomic_write_bytes, write_json as _wj

    ok = [r for r in runs if r["status"] == "ok" and r.get("checkpoint")]
    if not ok:
        return None
    best = max(ok, key=lambda r: r["best_valid_acc"])  # chosen on valid only
    dst = Path(models_dir) / f"{name}.pdparams"
    atomic_write_bytes(dst, Path(best["checkpoint"]).read_bytes())
    from .config import from_dict

    cfg = from_dict(best["config"])
    _wj(dst.with_suffix(".json"), {"model": cfg.model, "model_kwargs": cfg.model_kwargs(), "experiment": name,
                                   "run": best["name"], "best_valid_acc": best["best_valid_acc"],
                                   "test_acc": best["test_acc"], "loss": cfg.loss})
    return str(dst)


def _import(spec: str):
    import importlib

    module, func = spec.split(":")
    return getattr(importlib.import_module(module if module.startswith("paddle_mnist") else f"paddle_mnist.{module}"),
                   func)


def _run_one(job: dict) -> dict:
    """Train one configuration (in this process or a worker); failures become records, not exceptions."""
    from .engine import fit

    cfg, run_dir, vdl_dir = job["config"], Path(job["run_dir"]), Path(job["vdl_dir"])
    if not job["resume"] and run_dir.exists():
        shutil.rmtree(run_dir)
        shutil.rmtree(vdl_dir, ignore_errors=True)
    try:
        result = fit(cfg, run_dir, experiment=job["experiment"], vdl_dir=vdl_dir, resume=job["resume"],
                     progress=job["progress"], threads=job["threads"])
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # a run that raises is recorded; the others go on
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "error.txt").write_text(traceback.format_exc())
        print(f"run {job['name']} failed: {type(exc).__name__}: {exc} (traceback in {run_dir / 'error.txt'})",
              file=sys.stderr)
        result = _failed(cfg, exc)
    result.update(name=job["name"], variant=job["variant"], **job["extra"])
    return result


def run_configs(name: str, configs, *, runs_dir="runs", quick: bool = False, resume: bool = False,
                workers: int = 1, progress: bool | None = None, log=print, subdir: str = "") -> list[dict]:
    """Run ``(run_name, label, config[, extra])`` through ``engine.fit``; ``workers`` > 1 uses processes.

    ``extra`` (a dict) is merged into that run's record (e.g. the stage of a multi-stage study).
    """
    runs_dir = Path(runs_dir)
    exp_runs = runs_dir / ("quick" if quick else "") / name / subdir
    vdl_root = runs_dir / "vdl" / ("quick-" + name if quick else name) / subdir
    jobs = [{"config": cfg, "run_dir": str(exp_runs / run_name), "vdl_dir": str(vdl_root / run_name),
             "experiment": name, "resume": resume, "progress": progress if workers == 1 else False,
             "name": run_name, "variant": label, "extra": extra[0] if extra else {}}
            for run_name, label, cfg, *extra in configs]
    parallel = workers > 1 and len(jobs) > 1
    threads = train_threads(workers if parallel else 1)  # the cores shared among the worker processes
    for job in jobs:
        job["threads"] = threads
        c = job["config"]
        log(f"[{name}] {job['name']}: {c.model} {list(c.hidden)} {c.loss} {c.optimizer} lr={c.lr:g} "
            f"epochs={c.epochs}{'' if c.score_eval else ' (valid only)'}")
    if not parallel:
        results = []
        for job in jobs:
            results.append(_run_one(job))
            _log_result(name, results[-1], log)
        return results
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        try:
            results = list(pool.map(_run_one, jobs))
        except KeyboardInterrupt:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    for r in results:
        _log_result(name, r, log)
    return results


def _log_result(name: str, r: dict, log) -> None:
    log(f"[{name}] {r['name']}: {r['status']} valid={_pct(r['best_valid_acc'])} test={_pct(r['test_acc'])}")


def run_experiment(name: str, *, seeds=None, quick: bool = False, overrides: dict | None = None,
                   runs_dir="runs", results_dir=None, models_dir=None, resume: bool = False,
                   progress: bool | None = None, workers: int = 1, log=print) -> dict:
    """Run every configuration of experiment ``name``; write and return its results record."""
    exp = get_experiment(name)
    results_dir = Path(results_dir) if results_dir else results_dir_for(quick, Path(runs_dir))
    models_dir = Path(models_dir) if models_dir else (None if quick else results_dir.parent / "models")
    started = time.perf_counter()
    opts = dict(runs_dir=runs_dir, quick=quick, resume=resume, workers=workers, progress=progress, log=log)
    if exp.custom:
        runs = _import(exp.custom)(exp, seeds=seeds, overrides=overrides or {}, **opts)
    else:
        runs = run_configs(name, exp.configs(seeds=seeds, quick=quick, overrides=overrides), **opts)
    record = {
        "experiment": name, "title": exp.title, "section": exp.section, "description": exp.description,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "settings": {"quick": quick, "seeds": sorted({r["seed"] for r in runs if "seed" in r}),
                     "overrides": overrides or {}, "workers": workers, "cpu_count": os.cpu_count()},
        "runs": runs,
        "summary": summarise(runs) if runs and "variant" in runs[0] else {},
    }
    if exp.post:
        record.update(_import(exp.post)(exp, runs, seeds=seeds, overrides=overrides or {}, **opts))
    record["settings"]["wall_seconds"] = time.perf_counter() - started
    first = next((r for r in runs if "config" in r), None)
    if first is not None:
        from .config import from_dict

        record["model_summary"] = model_summary(from_dict(first["config"]))
    if exp.headline and models_dir is not None:
        record["settings"]["headline_model"] = _copy_headline(name, runs, models_dir)
    path = results_dir / f"{name}.json"
    with file_lock(path):
        write_json(path, record)
    log(f"[{name}] results -> {path}")
    return record


def model_summary(cfg) -> str:
    """The ``paddle.summary`` table of the model a config builds."""
    import contextlib
    import io

    import paddle

    from .models import build_model

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        paddle.summary(build_model(cfg.model, **cfg.model_kwargs()), (1, 784))
    return buf.getvalue()


def check_determinism(runs_dir="runs", results_dir=None, experiment: str = "mlp", seed: int = 0) -> dict:
    """Train the same quick configuration twice with one seed; record whether metrics and weights match.

    The first run uses the engine's default thread count (two on two cores), the
    second one thread, as a parallel worker does: ``MKL_CBWR=AUTO,STRICT`` must
    make them agree to the bit.
    """
    import numpy as np
    import paddle

    from .engine import fit

    exp = get_experiment(experiment)
    _, _, cfg = exp.configs(seeds=(seed,), quick=True)[0]
    results = []
    for i, threads in ((1, 0), (2, 1)):
        run_dir = Path(runs_dir) / "determinism" / f"run{i}"
        shutil.rmtree(run_dir, ignore_errors=True)
        results.append((fit(cfg, run_dir, experiment="determinism", progress=False, threads=threads), run_dir))
    (a, da), (b, db) = results
    wa, wb = paddle.load(str(da / "best.pdparams")), paddle.load(str(db / "best.pdparams"))
    diff = max(float(np.abs(wa[k].numpy() - wb[k].numpy()).max()) for k in wa)
    record = {"experiment": experiment, "seed": seed, "device": a["device"], "epochs": len(a["history"]["epoch"]),
              "steps": a["steps"], "valid_acc": [a["best_valid_acc"], b["best_valid_acc"]],
              "test_acc": [a["test_acc"], b["test_acc"]], "max_weight_diff": diff,
              "threads": [a.get("threads"), b.get("threads")],
              "identical": _metrics(a) == _metrics(b) and diff == 0.0,
              "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
    write_json(Path(results_dir or REPORTS / "results") / "determinism.json", record)
    return record


def _metrics(run: dict) -> dict:
    """Everything a run measured except wall-clock time."""
    return {"history": {k: v for k, v in run["history"].items() if k != "seconds"},
            "iterations": run["iterations"], "test_acc": run["test_acc"], "test_loss": run["test_loss"]}


def _failed(cfg, exc) -> dict:
    return {"status": "failed", "error": f"{type(exc).__name__}: {exc}", "config": cfg.to_dict(),
            "seed": cfg.seed, "history": {"epoch": []}, "best_valid_acc": None, "test_acc": None,
            "seconds": 0.0, "checkpoint": None}


def _pct(x) -> str:
    return "-" if x is None else f"{100 * x:.2f}%"


def load_results(name: str, results_dir=None) -> dict:
    path = Path(results_dir or REPORTS / "results") / f"{name}.json"
    if not path.is_file():
        raise PaddleMnistError(f"no results for {name!r} at {path}; run: python -m paddle_mnist train {name}")
    return read_json(path)
