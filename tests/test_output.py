"""Output a person can read: the epoch line in a real pseudo-terminal, the closing tables, help, list, pipes."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

_CHILD = """
import fcntl, struct, sys, termios
from paddle_mnist.engine.config import TrainConfig
from paddle_mnist.engine.fit import fit
cfg = TrainConfig(model="softmax", epochs=3, batch_size=4, data_path=sys.argv[1], device="cpu", histograms=False)
for cols, folder in ((80, "adam-hidden300x100-lr0.05-optimizersgd-batch_size4-epochs3-seed0"), (0, "nowidth-seed0")):
    fcntl.ioctl(2, termios.TIOCSWINSZ, struct.pack("HHHH", 24, cols, 0, 0))
    print(f"=== {cols}", file=sys.stderr, flush=True)
    fit(cfg, sys.argv[2] + "/" + folder, experiment="optimizers", progress=None, threads=1)
"""


def _run_in_pty(args) -> str:
    """Run the child with stdin/stdout/stderr on a real pseudo-terminal (80x24 first); all it wrote there."""
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, *args], stdin=slave, stdout=slave, stderr=slave,
                            env=env, cwd=REPO)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.wait(timeout=120) == 0, b"".join(chunks).decode(errors="replace")[-2000:]
    return b"".join(chunks).decode(errors="replace").replace("\r\n", "\n")


def _visible(line: str) -> str:
    """What a terminal shows of a line that redraws itself: the text after its last carriage return."""
    return re.sub(r"\x1b\[K", "", line.split("\r")[-1])


def test_epoch_lines_fit_80_columns_of_a_real_terminal_and_show_valid_acc(tiny_data, tmp_path):
    out = _run_in_pty([str(tiny_data), str(tmp_path)])
    wide, nowidth = out.split("=== 80\n", 1)[1].split("=== 0\n", 1)
    shown = [_visible(line) for line in wide.split("\n")]
    epochs = [line for line in shown if line.strip()]
    assert len(epochs) == 3, shown
    for k, line in enumerate(epochs, 1):
        assert len(line) <= 80 and f" {k}/3 valid/acc=" in line and re.search(r"valid/acc=\d+\.\d\d%", line), line
        assert line.startswith("optimizers/adam") and line.split()[0].endswith("seed0")  # cut in the middle
    plain = [line for line in nowidth.split("\n") if line]
    assert [line.split(": ")[0] for line in plain] == [f"optimizers/nowidth-seed0 epoch {k}/3" for k in (1, 2, 3)]
    assert all("valid/acc=" in line and "\r" not in line for line in plain)  # no blank or redrawn lines


def test_epoch_line_keeps_valid_acc_when_the_name_is_long():
    from paddle_mnist.engine.epoch_line import finished, fit_line, shorten

    row = {"valid_acc": 0.97125, "train_loss": 0.123456, "seconds": 12.34}
    for width in (40, 60, 79, 119):
        line = fit_line("hparams/" + "x" * 90 + "-seed2", "10/10", finished(row), width)
        assert len(line) <= width and "valid/acc=97.12%" in line
    assert shorten("abcdefghij", 5) == "ab~ij" and shorten("abc", 5) == "abc"


def _subparsers():
    from paddle_mnist.apps.cli import build_parser

    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return parser, action.choices


def test_every_subcommand_help_has_a_description_and_examples():
    from paddle_mnist.apps.cli import COMMANDS

    _, subs = _subparsers()
    assert set(subs) == set(COMMANDS)
    for name, sub in subs.items():
        text = sub.format_help()
        examples = [line for line in text.split("examples:\n", 1)[1].splitlines() if line.startswith("  paddle-mnist ")]
        assert sub.description and len(sub.description) > 60, name
        assert 2 <= len(examples) <= 3 and all(e.split()[1] == name for e in examples), (name, examples)


def test_train_help_lists_every_set_key_with_its_default():
    import dataclasses

    from paddle_mnist.engine.config import TrainConfig

    text = _subparsers()[1]["train"].format_help().split("--set keys", 1)[1]
    rows = {line.split()[0]: line.split()[2:] for line in text.splitlines()[2:] if line.strip()}
    assert list(rows) == [f.name for f in dataclasses.fields(TrainConfig)]
    assert rows["lr"] == ["0.001"] and rows["hidden"] == ["200,200"] and rows["histograms"] == ["true"]


def test_version_is_the_pyproject_version(capsys):
    import tomllib

    from paddle_mnist.apps.cli import main

    assert main(["--version"]) == 0
    want = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert capsys.readouterr().out.strip() == f"paddle-mnist {want}"


def test_list_columns_are_aligned(capsys):
    from paddle_mnist.apps.cli import main
    from paddle_mnist.studies import EXPERIMENTS

    assert main(["list"]) == 0
    lines = capsys.readouterr().out.split("\n\n")[0].splitlines()
    title_at = lines[0].index("title")
    assert len(lines) == len(EXPERIMENTS) + 1
    for line, (name, exp) in zip(lines[1:], EXPERIMENTS.items()):
        assert line.startswith(name + " ") and line[title_at:] == exp.title


def test_a_closed_pipe_is_a_quiet_exit():
    read, write = os.pipe()
    os.close(read)  # the reader has gone (as `| head -1` does once it has its line); `list` ends the same way
    res = subprocess.run([sys.executable, "-m", "paddle_mnist", "evaluate", "reports/models/softmax.pdparams",
                          "--split", "eval"], stdout=write, stderr=subprocess.PIPE, text=True, cwd=REPO)
    os.close(write)
    assert res.returncode in (0, 141) and res.stderr == ""


def test_train_ends_with_a_table_of_its_runs():
    from paddle_mnist.apps.progress import runs_table

    record = {"runs": [
        {"name": "sgd-lr0.05-seed0", "status": "ok", "best_valid_acc": 0.9712, "test_acc": 0.9701,
         "checkpoint": "runs/mlp/sgd-lr0.05-seed0/best.pdparams"},
        {"name": "sgd-lr0.05-seed1", "status": "failed", "best_valid_acc": None, "test_acc": None,
         "checkpoint": None}], "settings": {"headline_model": "runs/models/mlp-lr0.05.pdparams"}}
    lines = runs_table(record).splitlines()
    assert lines[0].split() == ["run", "folder", "best", "valid", "test", "acc", "model", "file"]
    assert lines[1].split() == ["runs/mlp/sgd-lr0.05-seed0", "97.12%", "97.01%", "best.pdparams"]
    assert lines[2].split()[:3] == ["sgd-lr0.05-seed1", "-", "-"] and "failed" in lines[2]
    assert lines[3] == "headline model: runs/models/mlp-lr0.05.pdparams"


def test_a_piped_train_prints_plain_epoch_lines_and_a_table_then_report_shows_the_try_outs(tiny_data, tmp_path):
    from paddle_mnist.report.build import build_report

    runs = tmp_path / "runs"
    res = subprocess.run([sys.executable, "-m", "paddle_mnist", "train", "softmax", "--seeds", "0,1", "--epochs", "2",
                          "--set", f"data_path={tiny_data}", "--set", "batch_size=10", "--set", "lr=0.5",
                          "--set", "histograms=false", "--runs-dir", str(runs), "--device", "cpu"],
                         cwd=REPO, capture_output=True, text=True, timeout=300)  # stdout and stderr are pipes
    assert res.returncode == 0, res.stderr[-2000:]
    epochs = [line for line in res.stderr.splitlines() if " epoch " in line]
    assert len(epochs) == 4 and all(re.fullmatch(r"softmax/\S+-seed[01] epoch [12]/2: valid/acc=\d+\.\d\d% "
                                                 r"train/loss=\d+\.\d{4} \(\d+\.\ds\)", e) for e in epochs), epochs
    table = res.stdout.split("run folder", 1)[1].splitlines()
    assert len(table) >= 3 and all(line.split()[-1] == "best.pdparams" for line in table[1:3])
    out = build_report(results_dir=runs / "results")
    assert out == runs / "REPORT.md"  # beside the try-outs, never reports/REPORT.md
    text = out.read_text()
    assert "no results yet" not in text and "# paddle_mnist try-outs" in text
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    folders = sorted(p.relative_to(tmp_path) for p in (runs / "softmax").iterdir() if p.is_dir())
    assert len(rows) == 2 and sorted(row.split("`")[1].split("/runs/", 1)[1] for row in rows) == \
        [str(f.relative_to("runs")) for f in folders]
    assert (runs / "figures" / "tryouts_curves.png").stat().st_size > 10_000


def test_a_quick_reproduction_report_says_so_and_names_its_folders(tmp_path):
    import json

    from paddle_mnist.report.build import build_report

    results = tmp_path / "runs" / "quick" / "results"
    results.mkdir(parents=True)
    (results / "reproduce.json").write_text(json.dumps({"quick": True, "wall_seconds": 330, "cpu_count": 2}))
    text = build_report(results_dir=results).read_text()
    assert "--quick smoke test" in text.splitlines()[0]
    assert f"`{results}/`" in text and f"`{results.parent}/`" in text and "5.5 minutes" in text
    assert "reports/results/" not in text and "last full reproduction" not in text


def test_evaluate_calls_the_official_test_split_test_and_takes_eval_for_it(capsys):
    from paddle_mnist.apps.cli import main

    outs = []
    for split in ("test", "eval"):
        assert main(["evaluate", "reports/models/softmax.pdparams", "--split", split]) == 0
        outs.append(capsys.readouterr().out)
    assert outs[0] == outs[1] and outs[0].startswith("reports/models/softmax.pdparams on test (10000 images)")


def test_json_without_dry_run_is_refused_in_one_line(tmp_path, capsys):
    from paddle_mnist.apps.cli import main

    assert main(["train", "softmax", "--json", "--runs-dir", str(tmp_path / "runs")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--dry-run" in err[0] and not (tmp_path / "runs").exists()
