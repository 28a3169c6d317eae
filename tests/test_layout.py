"""The repository's shape: no import cycles, committed files without machine paths, one headline rule."""
from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
from conftest import REPO

PKG = REPO / "paddle_mnist"


def _module_name(path: Path) -> str:
    rel = path.relative_to(REPO).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports (anywhere in the file, function-level imports included)."""
    modules = {_module_name(p): p for p in PKG.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("paddle_mnist"):
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    deps.add(sub if sub in modules else node.module)
            elif isinstance(node, ast.Import):
                deps |= {a.name for a in node.names if a.name.startswith("paddle_mnist")}
        graph[name] = {d for d in deps if d in modules and d != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles():
    graph = import_graph()
    assert len(graph) > 30 and graph["paddle_mnist.engine.fit"], "the graph was read"
    assert cycles(graph) == []


def test_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_string_named_hooks_or_dynamic_imports():
    for path in PKG.rglob("*.py"):
        text = path.read_text()
        assert "import_module" not in text and "__import__" not in text, path


ABSOLUTE = re.compile(r"(?<![\w.])/(?:work|root|home|tmp|Users|var/folders)/")


@pytest.mark.parametrize("folder", ["reports", "docs", "notebooks", "data"])
def test_committed_files_hold_no_machine_paths(folder):
    import subprocess

    files = subprocess.run(["git", "ls-files", folder], cwd=REPO, capture_output=True, text=True).stdout.split()
    texts = [f for f in files if f.endswith((".json", ".md", ".py", ".ipynb", ".csv", ".txt"))]
    bad = [f for f in texts if ABSOLUTE.search((REPO / f).read_text(errors="replace"))]
    assert bad == []


def test_absolute_path_pattern_is_not_vacuous():
    assert ABSOLUTE.search('"data_file": "/work/main/data/mnist.json.gz"')
    assert not ABSOLUTE.search('"data_file": "data/mnist.json.gz"')


@pytest.mark.parametrize("name", ["mlp", "softmax"])
def test_headline_model_is_the_best_variants_best_run(name):
    """reports/models/<name>.json, the report's headline and the notebooks' headline agree."""
    from paddle_mnist.apps.notebooks import headline
    from paddle_mnist.engine.runner import headline_variant

    rec = json.loads((REPO / "reports" / "results" / f"{name}.json").read_text())
    meta = json.loads((REPO / "reports" / "models" / f"{name}.json").read_text())
    variant = headline_variant(rec["summary"])
    best_mean = max(v["valid_acc_mean"] for v in rec["summary"].values())
    assert rec["summary"][variant]["valid_acc_mean"] == best_mean
    assert headline(rec)[0] == variant == meta["variant"]
    runs = [r for r in rec["runs"] if r["variant"] == variant and r["status"] == "ok"]
    best = max(runs, key=lambda r: r["best_valid_acc"])
    assert meta["run"] == best["name"] and meta["test_acc"] == best["test_acc"]
    assert rec["settings"]["headline_model"] == f"reports/models/{name}.pdparams"
    report = (REPO / "reports" / "REPORT.md").read_text()
    if len(rec["summary"]) > 1:
        assert f"**{variant}** has the best mean `valid` accuracy" in report
