"""``reproduce``: every registered experiment in order, the determinism check, the exports, then REPORT.md.

Full runs write the committed ``reports/`` (results, models, exported inference
models, REPORT.md); ``--quick`` writes everything under ``RUNS_DIR/quick/``.

    python -m paddle_mnist reproduce --quick
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
from paddle_mnist.records import write_json
from paddle_mnist.paths import RESULTS, shown
from paddle_mnist.report.build import build_report
from paddle_mnist.studies import EXPERIMENTS, run_experiment
from paddle_mnist.studies.determinism import check_determinism


def reproduce(*, quick: bool = False, runs_dir="runs", device: str = "auto", resume: bool = False,
              workers: int = 1, log=print) -> tuple[Path, list[str]]:
    """Run everything; return the report's path and the names of failed runs."""
    read_arrays()
    set_device(device)
    started, failed = time.perf_counter(), []
    results_dir = Path(runs_dir) / "quick" / "results" if quick else RESULTS
    write_json(results_dir / "data.json", summarize())
    tracker = Tracker(plan_of(EXPERIMENTS.values(), lambda e: Settings.resolve(e, None, quick, {"device": device})),
                      log=log)
    folders = Path(runs_dir) / ("quick" if quick else "")
    records, where = {}, {"results": shown(results_dir), "run folders": shown(folders)}
    for name in EXPERIMENTS:
        tracker.start(name)
        records[name] = run_experiment(name, quick=quick, overrides={"device": device}, runs_dir=runs_dir,
                                       resume=resume, workers=workers, log=log, record=not quick,
                                       on_result=tracker.run_done)
        tracker.finish(name)
        failed += [f"{name}/{r['name']}" for r in records[name]["runs"] if r.get("status") == "failed"]
    check_determinism(runs_dir, results_dir)
    if not quick:
        for path in export_headline_models():
            log(f"export -> {path.parent}")
        where["models"] = "reports/models"
    write_json(results_dir / "reproduce.json", {"quick": quick, "wall_seconds": time.perf_counter() - started,
                                                "experiments": list(EXPERIMENTS), "cpu_count": os.cpu_count()})
    out = build_report(results_dir=results_dir, out=(results_dir.parent / "REPORT.md") if quick else None)
    title = "quick reproduction (--quick: smoke-test settings, not the reference numbers)" if quick else \
        "full reproduction"
    log(f"{title}\n" + summary_table(records, time.perf_counter() - started,
                                     {**where, "report": shown(out), "appendix": shown(out.parent / "APPENDIX.md")}))
    return out, failed
