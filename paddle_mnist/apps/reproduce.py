"""``reproduce``: every registered experiment in order, the determinism check, the exports, then REPORT.md.

Full runs write the committed ``reports/`` (results, models, exported inference
models, REPORT.md); ``--quick`` writes everything under ``RUNS_DIR/quick/``;
``--only EXP[,EXP]`` reruns the named studies alone (their results files), then the report.

    python -m paddle_mnist reproduce --quick --only trajectories
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from paddle_mnist.apps.export import export_headline_models
from paddle_mnist.apps.progress import Tracker, plan_of, summary_table
from paddle_mnist.engine.experiment import Settings
from paddle_mnist.datafile.store import read_arrays, summarize
from paddle_mnist.engine.device import set_device
from paddle_mnist.records import read_json, write_json
from paddle_mnist.paths import RESULTS, shown
from paddle_mnist.perf.env import cpu_model
from paddle_mnist.report.build import build_report
from paddle_mnist.studies import EXPERIMENTS, run_experiment
from paddle_mnist.studies.determinism import check_determinism


def only_names(text: str, known) -> list[str]:
    """``--only``'s ``EXP[,EXP]`` as a list in the registry's order; ``ValueError`` (one line) for an unknown name."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in known]
    if not names or unknown:
        raise ValueError(f"unknown experiment {', '.join(map(repr, unknown)) or repr(text)} "
                         f"(one of: {', '.join(known)})")
    return [n for n in known if n in names]


def _timings(results_dir: Path, quick: bool, names: list[str], seconds: dict, wall: float) -> dict:
    """``reproduce.json``: a full run's record, or with ``--only`` the last full one with the named studies' seconds
    updated (its total stays the full run's; ``last_only`` says what was rerun)."""
    path = results_dir / "reproduce.json"
    if names is None or not path.is_file():
        return {"quick": quick, "wall_seconds": wall, "experiments": list(seconds), "experiment_seconds": seconds,
                "cpu_count": os.cpu_count(), "cpu": cpu_model(), **({"only": list(seconds)} if names is not None else {})}
    old = read_json(path)
    old["experiment_seconds"] = {**(old.get("experiment_seconds") or {}), **seconds}
    old["last_only"] = {"experiments": names, "wall_seconds": wall, "cpu_count": os.cpu_count(), "cpu": cpu_model()}
    return old


def reproduce(*, quick: bool = False, runs_dir="runs", device: str = "auto", resume: bool = False,
              workers: int = 1, only: list[str] | None = None, log=print) -> tuple[Path, list[str]]:
    """Run everything (or the experiments in ``only``); return the report's path and the names of failed runs."""
    names = list(EXPERIMENTS) if only is None else only_names(",".join(only), list(EXPERIMENTS))
    read_arrays()
    set_device(device)
    started, failed, seconds = time.perf_counter(), [], {}
    results_dir = Path(runs_dir) / "quick" / "results" if quick else RESULTS
    write_json(results_dir / "data.json", summarize())
    tracker = Tracker(plan_of([EXPERIMENTS[n] for n in names],
                              lambda e: Settings.resolve(e, None, quick, {"device": device})), log=log)
    folders = Path(runs_dir) / ("quick" if quick else "")
    records, where = {}, {"results": shown(results_dir), "run folders": shown(folders)}
    for name in names:
        tracker.start(name)
        t0 = time.perf_counter()
        records[name] = run_experiment(name, quick=quick, overrides={"device": device}, runs_dir=runs_dir,
                                       resume=resume, workers=workers, log=log, record=not quick,
                                       on_result=tracker.run_done)
        tracker.finish(name)
        seconds[name] = time.perf_counter() - t0
        failed += [f"{name}/{r['name']}" for r in records[name]["runs"] if r.get("status") == "failed"]
    if only is None:
        check_determinism(runs_dir, results_dir)
    else:
        log("--only: the determinism check and the studies not named are kept as they were")
    if not quick and (only is None or {"mlp", "softmax"} & set(names)):
        for path in export_headline_models():
            log(f"export -> {path.parent}")
        where["models"] = "reports/models"
    write_json(results_dir / "reproduce.json", _timings(results_dir, quick, None if only is None else names, seconds,
                                                        time.perf_counter() - started))
    out = build_report(results_dir=results_dir, out=(results_dir.parent / "REPORT.md") if quick else None)
    title = "quick reproduction (--quick: smoke-test settings, not the reference numbers)" if quick else \
        "full reproduction"
    log(f"{title}\n" + summary_table(records, time.perf_counter() - started,
                                     {**where, "report": shown(out), "appendix": shown(out.parent / "APPENDIX.md")},
                                     seconds))
    return out, failed
