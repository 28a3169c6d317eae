"""The option sets of the subcommands: ``train``'s, the model commands' (evaluate, export, demo: one MODEL
argument and ``--device``) and ``check``'s; ``apps.cli.build_parser`` adds them to its subparsers.

    python -m paddle_mnist train --help    # the options below, each with its default
"""
from __future__ import annotations

from paddle_mnist.apps.cli_args import device_name, positive_float, positive_int, seed_list
from paddle_mnist.apps.cli_help import SPLITS, about


MODEL_HELP = "a name (mlp, softmax: reports/models/<name>), a run folder, a .pdparams with its .json, or an " \
    "exported model folder"


def device_arg(parser) -> None:
    parser.add_argument("--device", type=device_name, default="auto",
                        help="auto, cpu, gpu or gpu:N (default: auto; exported models run on the CPU)")


def check_parser(sub) -> None:
    c = sub.add_parser("check", **about("check"))
    c.add_argument("solution", help="your solution: a .py module, a notebook exported as .py, or an .ipynb")
    c.add_argument("--net", type=lambda s: [n for n in s.split(",") if n], default=None, metavar="NAME[,NAME]",
                   help="the paddle.nn.Layer classes to check (default: those with the course's 7,850 or 199,210 "
                   "parameters, else every one the solution defines)")
    c.add_argument("--loader", default=None, metavar="NAME", help="your data function (default: load_data)")
    c.add_argument("--steps", type=positive_int, default=500,
                   help="training steps to compare with the reference runs (default: 500, one epoch of batch 100)")
    c.add_argument("--seed", type=int, default=0, help="random seed of the training check (default: 0)")
    c.add_argument("--memory-gb", type=positive_float, default=4.0,
                   help="memory limit of the process running your code, in GB (default: 4)")
    c.add_argument("--out", default=None, help="folder for check.md and curves.png (default: runs/check/<solution>)")


def model_parsers(sub) -> None:
    ev = sub.add_parser("evaluate", **about("evaluate"))
    ev.add_argument("model", help=MODEL_HELP)
    ev.add_argument("--split", choices=tuple(SPLITS), default="valid",
                    help="valid, or test: the official test split (eval is the same split; default: valid)")
    device_arg(ev)

    ex = sub.add_parser("export", **about("export"))
    ex.add_argument("--model", default=None, help="a name (mlp, softmax: reports/models/<name>), a run folder or "
                    "a .pdparams with its .json (default: mlp)")
    ex.add_argument("--out", default=None, help="output folder (default: runs/export/<model name>)")
    device_arg(ex)

    dm = sub.add_parser("demo", **about("demo"))
    dm.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    dm.add_argument("--port", type=positive_int, default=8050, help="port (default: 8050)")
    dm.add_argument("--model", action="append", default=None, help=f"{MODEL_HELP}; repeat to show several "
                    "(default: the exported mlp and softmax in reports/models/inference)")
    device_arg(dm)


def train_args(t) -> None:
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
    t.add_argument("--dry-run", action="store_true",
                   help="print the plan (run, settings that differ, epochs, seeds) and exit; train nothing")
    t.add_argument("--json", action="store_true", help="with --dry-run: every run's full config as JSON")
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


def dashboard_parser(sub) -> None:
    dash = sub.add_parser("dashboard", **about("dashboard"))
    dash.add_argument("--runs-dir", default="runs", help="runs folder holding vdl/ (default: runs)")
    dash.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    dash.add_argument("--port", type=positive_int, default=8040, help="port (default: 8040)")
