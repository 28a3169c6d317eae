"""The notebooks: one per report section, paired with jupytext, executed headless for real.

Each notebook is copied to a temporary folder and executed with nbclient (kernel
``python3``) in quick mode (``PADDLE_MNIST_NOTEBOOK_QUICK=1``), its ``--quick``
runs going to a temporary runs folder, so nothing in the repository changes. Any
cell error fails the test. The committed ``.ipynb`` files must match their ``.py``
sources and carry outputs (so they render on GitHub).
"""
from __future__ import annotations

import ast
import hashlib
import re
import shutil
from pathlib import Path

import nbformat
import pytest

jupytext = pytest.importorskip("jupytext", reason="jupytext is in requirements.txt; pip install -r requirements.txt")
pytest.importorskip("nbclient", reason="nbclient is in requirements.txt; pip install -r requirements.txt")

from paddle_mnist.apps.notebooks import NOTEBOOKS, execute_notebooks, notebook_sources  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SECTIONS = ["01_data", "02_softmax", "03_mlp", "04_loss", "05_dropout", "06_optimizers", "07_hparams", "08_numpy",
            "09_trajectories_init", "10_practice"]
SOURCES = notebook_sources()
IDS = [p.stem for p in SOURCES]


def _code(source: str) -> str:
    """Cell source with IPython magics (``%...``, ``!...``) blanked, for ``ast``."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def _digest(folder: Path) -> dict:
    if not folder.is_dir():
        return {}
    return {str(p.relative_to(folder)): hashlib.md5(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_one_notebook_per_section_in_order():
    assert IDS[:3] == SECTIONS[:3], "notebooks/01_data.py, 02_softmax.py and 03_mlp.py must exist"
    assert IDS == SECTIONS[:len(IDS)], f"notebooks must be report sections in order without gaps: {IDS}"


@pytest.mark.parametrize("path", SOURCES, ids=IDS)
def test_pair_in_sync_and_outputs_committed(path):
    ipynb = path.with_suffix(".ipynb")
    assert ipynb.is_file(), f"{ipynb.name} missing: run jupytext --sync {path.relative_to(REPO)}"
    src, committed = jupytext.read(path), nbformat.read(ipynb, as_version=4)
    assert committed.metadata.get("jupytext", {}).get("formats") == "ipynb,py:percent"
    assert committed.metadata["kernelspec"]["name"] == "python3"
    pairs = list(zip(src.cells, committed.cells))
    assert len(src.cells) == len(committed.cells) and all(
        a.cell_type == b.cell_type and a.source.strip() == b.source.strip() for a, b in pairs), (
        f"{ipynb.name} differs from {path.name}: run jupytext --sync notebooks/*.py, then re-execute (README)")
    code = [c for c in committed.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), f"{ipynb.name} has unexecuted cells"
    outputs = [o for c in code for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"], f"{ipynb.name} has an error output"
    assert any("image/png" in o.get("data", {}) for o in outputs), f"{ipynb.name} has no figure output"


def _editable_layers(tree) -> set:
    """The nodes of every ``class X(nn.Layer)`` written out in a cell for a student to edit, its methods included:
    the net a study section is about (checked in the cell against the plain script's)."""
    layers = [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.bases
              and all(isinstance(b, ast.Attribute) and b.attr == "Layer" for b in n.bases)]
    return {id(n) for c in layers for n in ast.walk(c)}


@pytest.mark.parametrize("path", SOURCES, ids=IDS)
def test_no_training_or_plotting_logic_in_notebook(path):
    nb = jupytext.read(path)
    code = "\n".join(_code(c.source) for c in nb.cells if c.cell_type == "code")
    tree = ast.parse(code)
    lesson = _editable_layers(tree)
    defined = [type(n).__name__ for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                                           ast.ClassDef, ast.Lambda))
               and id(n) not in lesson]
    assert not defined, f"{path.name} defines {defined}: put it in paddle_mnist"
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert any(m.startswith("paddle_mnist") for m in imported)
    forbidden = {m for m in imported if m.split(".")[0] == "matplotlib"}
    assert not forbidden, f"{path.name} imports {forbidden}: plotting belongs in paddle_mnist"
    # a short markdown cell before every figure says what it shows and what to look for
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and re.search(r"\bplot_\w+\(", cell.source):
            before = [c for c in nb.cells[:i] if c.cell_type == "markdown"]
            assert before and "look for" in before[-1].source.lower(), (
                f"{path.name}: cell {i} draws a figure without a 'Look for' markdown cell before it")


CORE = {"load_data", "SoftmaxNet", "MLP", "train_epoch", "evaluate", "train", "test"}
CORE_MODULES = ("paddle_mnist", "paddle_mnist.course.mnist")  # the package's face and the plain script


@pytest.mark.parametrize("path", SOURCES, ids=IDS)
def test_notebook_shows_its_paddle_by_calling_the_readable_core(path):
    """Before its figures, each notebook runs the few lines of Paddle its section is about, calling the course's
    own functions (``from paddle_mnist.course.mnist import ...`` or ``from paddle_mnist import ...``)."""
    nb = jupytext.read(path)
    cells = [c for c in nb.cells if c.cell_type == "code"]
    first_plot = next(i for i, c in enumerate(cells) if re.search(r"\b(nh\.)?plot_\w+\(", c.source))
    tree = ast.parse("\n".join(_code(c.source) for c in cells[:first_plot]))
    core = {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module in CORE_MODULES
            for a in n.names}
    assert core & CORE, f"{path.name} calls none of {sorted(CORE)} before its first figure"
    called = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert core & called, f"{path.name} imports {sorted(core)} but calls none of them"


@pytest.mark.parametrize("path", SOURCES, ids=IDS)
def test_notebook_executes_headless_in_quick_mode(path, tmp_path, quick_runs):
    before = {"notebooks": _digest(NOTEBOOKS), "results": _digest(REPO / "reports" / "results"),
              "runs": _digest(REPO / "runs" / "quick" / "results")}
    copy = tmp_path / path.name
    shutil.copy(path, copy)
    [nb] = execute_notebooks([copy], quick=True, runs=quick_runs, write=True, timeout=600,
                             log=lambda *a: None)  # raises CellExecutionError on any cell error
    assert copy.with_suffix(".ipynb").is_file()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 1, "no figure was drawn"
    markdown = [o["data"]["text/markdown"] for o in outputs if "text/markdown" in o.get("data", {})]
    assert markdown and all("{" not in m for m in markdown), "numbers missing from the results markdown"
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    if "results_or_quick(" in path.read_text():
        assert "--quick" in text, "the notebook must say it used --quick results"
        assert "reports/results" not in text  # quick mode never reads reports/results
    after = {"notebooks": _digest(NOTEBOOKS), "results": _digest(REPO / "reports" / "results"),
             "runs": _digest(REPO / "runs" / "quick" / "results")}
    assert after == before, "executing a notebook changed files in the repository"
