"""``check``: a correct solution passes every line; each mistake is flagged by its own check and nothing else.

The solutions are small files in ``tests/check_solutions/`` (each mistake imports ``correct.py`` and
changes one thing). Mistakes run through the in-process API with a short training; the child
process is used where isolation is the point: the correct solution end to end through the CLI, a
solution that crashes its process and one that never returns.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import REPO, make_splits, write_course_file
from test_orphans import descendants

from paddle_mnist.apps import check, check_data
from paddle_mnist.apps.check_band import interval, verdict, windows
from paddle_mnist.apps.check_source import read_source
from paddle_mnist.apps.cli import main
from paddle_mnist.datafile.store import read_arrays
from paddle_mnist.report.summary import anchor

SOLUTIONS = REPO / "tests" / "check_solutions"
# mistake file -> the lines it must flag (check.name: status); every other line must pass.
MISTAKES = {
    "double_softmax": {"nets.logits": "failed"},
    "reread_loader": {"data.speed": "failed"},
    "label_dtype": {"train.run": "failed", "train.labels": "failed"},
    "dropout_eval": {"nets.dropout_eval": "failed", "nets.deterministic": "failed"},
    "no_shuffle": {"data.shuffle": "failed"},
    "dropout_high": {"nets.dropout_rate": "warned"},
    "input_255": {"data.range": "failed"},
    "last_activation": {"nets.last_activation": "failed"},
    "absurd_lr": {"train.run": "failed", "train.lr": "failed"},
}
QUICK = {"load": 60, "data": 60, "nets": 60, "train": 60}


def flagged(card: dict) -> dict:
    return {f"{ln['check']}.{ln['name']}": ln["status"] for ln in card["lines"] if ln["status"] != "passed"}


def test_every_mistake_file_is_tested():
    files = {p.stem for p in SOLUTIONS.glob("*.py")}
    assert files == set(MISTAKES) | {"correct", "crash", "hang"}


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_a_mistake_is_flagged_by_its_check_and_nothing_else(name, tmp_path, monkeypatch):
    if name == "reread_loader":  # it parses the JSON on every call: a small file keeps that fast
        data = write_course_file(tmp_path / "small.json.gz", make_splits(150, 140, 100))
        monkeypatch.setenv("PADDLE_MNIST_DATA", str(data))
    card = check.check_solution(SOLUTIONS / f"{name}.py", net=["MLP"], steps=50, isolate=False, limits=QUICK)
    assert flagged(card) == MISTAKES[name], [ln["hint"] for ln in card["lines"] if ln["status"] != "passed"]
    assert check.exit_code(card) == (1 if "failed" in MISTAKES[name].values() else 0)
    table = check.render_table(card)  # every line's link is in the one table of links
    assert table.count("reports/REPORT.md#") + table.count("reports/APPENDIX.md#") == len(card["lines"])
    assert all(text in table for text in measured_texts(name)), measured_texts(name)


def measured_texts(name: str) -> list[str]:
    """What a mistake's hint must quote from reports/results (the cost the reference measured)."""
    if name == "double_softmax":
        ref = check.double_softmax_reference()
        return [f"{ref['floor']:.4f}", f"{ref['lowest']:.4f}", f"{ref['acc']:.2%}", f"{ref['acc_logits']:.2%}"]
    if name == "dropout_high":
        return [f"{acc:.2%} at p = {p}" for p, acc in check.dropout_reference().items()]
    return []


def test_reference_costs_are_read_from_the_results():
    ref, drop = check.double_softmax_reference(), check.dropout_reference()
    assert 1.4 < ref["floor"] < ref["lowest"] < 2.3 and ref["acc"] < ref["acc_logits"]
    assert set(drop) >= {"0", "0.2", "0.5"} and all(0.9 < v < 1 for v in drop.values())


def test_correct_solution_passes_end_to_end_in_a_child_process(tmp_path, capsys):
    out = tmp_path / "card"
    rc = main(["check", str(SOLUTIONS / "correct.py"), "--steps", "50", "--out", str(out)])
    printed = capsys.readouterr().out
    assert rc == 0, printed
    md = (out / "check.md").read_text()
    rows = [r for r in md.splitlines() if r.startswith("| passed") or r.startswith("| warned")
            or r.startswith("| failed")]
    assert len(rows) >= 25 and all(r.startswith("| passed") for r in rows)
    assert "train.curve" in md and "reports/REPORT.md#" in md and (out / "curves.png").stat().st_size > 5000
    assert "30 passed, 0 warned, 0 failed" in printed


def test_the_course_script_passes_every_check():
    """The project's own plain solution (``python -m paddle_mnist.course``) is a correct solution."""
    card = check.check_solution(REPO / "paddle_mnist" / "course" / "mnist.py", steps=50, isolate=False, limits=QUICK)
    assert flagged(card) == {}, [ln["hint"] for ln in card["lines"] if ln["status"] != "passed"]
    assert {ln["subject"] for ln in card["lines"] if ln["check"] == "nets"} >= {"SoftmaxNet", "MLP"}
    assert check.exit_code(card) == 0


@pytest.mark.parametrize("name, group, message", [("crash", "train.group", "died of SIGSEGV"),
                                                  ("hang", "data.group", "did not finish within 3 s")])
def test_a_crash_or_an_endless_loop_is_a_failed_check_not_a_traceback(name, group, message):
    card = check.check_solution(SOLUTIONS / f"{name}.py", net=["MLP"], steps=50, limits=dict(QUICK, data=3))
    lines = {f"{ln['check']}.{ln['name']}": ln for ln in card["lines"]}
    assert lines[group]["status"] == "failed" and message in lines[group]["hint"]
    assert "Traceback" not in json.dumps(card)
    assert set(flagged(card)) == {group}
    if name == "hang":  # the checks after it ran in a fresh child
        assert lines["nets.logits"]["status"] == lines["train.curve"]["status"] == "passed"
    else:  # the checks before it stand
        assert lines["data.values"]["status"] == lines["nets.logits"]["status"] == "passed"


@pytest.mark.parametrize("text, suffix, message", [
    (None, ".py", "no such file"),
    ("x = 1\n", ".txt", "not a Python file"),
    ("def f(:\n", ".py", "not Python (SyntaxError"),
    ("{not json", ".ipynb", "not a notebook"),
])
def test_bad_input_is_one_line_before_any_work(tmp_path, capsys, text, suffix, message):
    path = tmp_path / f"solution{suffix}"
    if text is not None:
        path.write_text(text)
    out = tmp_path / "card"
    assert main(["check", str(path), "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and err.startswith("error:")
    assert not out.exists()


def test_out_folder_under_reports_is_refused(capsys):
    assert main(["check", str(SOLUTIONS / "correct.py"), "--out", str(REPO / "reports" / "check")]) == 1
    assert "inside reports/" in capsys.readouterr().err


def test_a_notebook_keeps_its_definitions_and_drops_its_runs(tmp_path):
    cells = ["%matplotlib inline\nimport numpy as np\nEPOCHS = 5",
             ["def load_data(mode='train', batch_size=100):\n", "    return None"],
             "model = train(MLP(), epochs=EPOCHS)\nprint(model)"]
    path = tmp_path / "solution.ipynb"
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": "# A1"}] + [
        {"cell_type": "code", "metadata": {}, "source": c, "outputs": [], "execution_count": None} for c in cells]}))
    code, kind = read_source(path)
    assert kind == "notebook" and "def load_data" in code and "EPOCHS = 5" in code
    assert "train(" not in code and "print" not in code and "matplotlib" not in code


def test_links_name_sections_of_the_report():
    anchors = {f"{name}#{anchor(h.lstrip('#').strip()).lstrip('#')}" for name in ("REPORT.md", "APPENDIX.md")
               for h in (REPO / check.REPORTS_DIR / name).read_text().splitlines() if h.startswith("#")}
    assert set(check.LINKS.values()) <= anchors, set(check.LINKS.values()) - anchors


def test_band_verdicts_follow_the_numbers():
    band = interval([0.30, 0.32, 0.34])
    assert band[1] < 0.30 and band[2] > 0.34
    fmt = "{:.3f}".format
    assert verdict(0.32, band, "loss", False, fmt)[0] == "passed"
    assert verdict(band[1] - 0.01, band, "loss", False, fmt)[0] == "passed"  # better than the band
    assert verdict(band[2] + 0.5 * (band[2] - band[0]), band, "loss", False, fmt)[0] == "warned"
    assert verdict(band[2] + 2 * (band[2] - band[0]), band, "loss", False, fmt)[0] == "failed"
    assert windows([4.0, 3.0, 1.0, 2.0], [1, 2, 4]) == [4.0, 3.0, 1.5]


@pytest.mark.parametrize("code", ["raise RuntimeError('boom at import')", "import sys\nsys.exit(3)"])
def test_a_solution_that_fails_at_import_is_one_failed_line(tmp_path, code):
    path = tmp_path / "broken.py"
    path.write_text(code + "\n")
    card = check.check_solution(path, isolate=False, limits=QUICK)
    assert [(ln["check"], ln["name"], ln["status"]) for ln in card["lines"]] == [("load", "import", "failed")]
    assert ("boom at import" if "boom" in code else "SystemExit: 3") in card["lines"][0]["hint"]


def test_a_notebook_exported_as_py_keeps_its_definitions(tmp_path):
    path = tmp_path / "solution.py"
    path.write_text("# %%\nimport numpy as np\n\n# %%\nclass MLP:\n    pass\n\n# %%\nmodel = MLP()\n"
                    "for epoch in range(100):\n    model.fit()\n")
    code, kind = read_source(path)
    assert kind == "notebook" and "class MLP" in code and "import numpy" in code
    assert "for epoch" not in code and "model = MLP()" not in code


def test_a_missing_data_file_is_one_line_before_any_work(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PADDLE_MNIST_DATA", str(tmp_path / "absent.json.gz"))
    assert main(["check", str(SOLUTIONS / "correct.py"), "--out", str(tmp_path / "card")]) == 1
    err = capsys.readouterr().err
    assert "no data file" in err and "prepare-data" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "card").exists()


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_sigkill_of_check_leaves_no_student_code_running(tmp_path):
    """The child dies with its parent: a solution stuck in an endless loop does not outlive a killed check."""
    parent = subprocess.Popen([sys.executable, "-m", "paddle_mnist", "check", str(SOLUTIONS / "hang.py"), "--out",
                               str(tmp_path / "card")], cwd=REPO, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    assert parent.stderr.readline().decode().startswith("check: data")  # the child is running the endless loop
    children = descendants(parent.pid)
    assert children
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    deadline, alive = time.monotonic() + 10, children
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = {p for p in children if _running(p)}
    for pid in alive:  # a failing run leaves nothing behind either
        os.kill(pid, signal.SIGKILL)
    assert not alive


def _loader(variant: str):
    """The correct loader with one change, for the data check alone."""
    def load_data(mode="train", batch_size=100):
        x, y = read_arrays()[mode]
        n = len(y)
        rng = np.random.default_rng()

        def gen():
            order = rng.permutation(n) if mode == "train" or variant == "shuffled_valid" else np.arange(n)
            if variant == "with_replacement" and mode == "train":
                order = rng.integers(0, n, n)
            stop = n - n % batch_size if variant == "drop_last" else n
            for start in range(0, stop, batch_size):
                idx = order[start:start + batch_size]
                yield np.asarray(x[idx]), np.asarray(y[idx])
        return gen
    return load_data


@pytest.mark.parametrize("variant, expected", [
    ("correct", {}),
    ("shuffled_valid", {"data.order": "failed"}),
    ("drop_last", {"data.last_batch": "warned"}),
    ("with_replacement", {"data.values": "failed"}),
])
def test_data_lines_tell_order_last_batch_and_values_apart(variant, expected, tmp_path, monkeypatch):
    data = write_course_file(tmp_path / "small.json.gz", make_splits(150, 140, 100))
    monkeypatch.setenv("PADDLE_MNIST_DATA", str(data))
    result = check_data.run({"load_data": _loader(variant)}, {"loader": "load_data"}, {"data_file": str(data)})
    assert flagged(result) == expected, [ln["hint"] for ln in result["lines"]]
