"""The layers of docs/ARCHITECTURE.md, kept by the code: every import points down, and sits at the top of its module.

The list under "## Layers" is read from the page itself, top layer first. An import inside a function counts as
much as one at the top. A function-level import is allowed only for a heavy dependency loaded on first use on
purpose, named in the module's one ``# deferred:`` comment (a package module deferred for the same reason must
load that dependency at its top).
"""
from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

PKG = REPO / "paddle_mnist"
ROOT = "paddle_mnist"
# dependencies worth loading on first use: each a start-up cost (or, for numpy, a setting that must come first)
HEAVY = {"paddle", "matplotlib", "visualdl", "flask", "werkzeug", "nbclient", "nbformat", "jupytext", "torch",
         "PIL", "pandas", "numpy", "scipy"}
DEFERRED = re.compile(r"^# deferred: (.+)$", re.M)


def read_layers(text: str) -> list[list[str]]:
    """The ``## Layers`` list of ARCHITECTURE.md: one list of module names per layer, top layer first."""
    section = text.split("## Layers", 1)[1].split("\n## ", 1)[0]
    layers = [re.findall(r"`([\w.]+)`", line.split(":")[0]) for line in section.splitlines()
              if re.match(r"\d+\. ", line)]
    return [names for names in layers if names]


def module_name(path: Path, root: Path = REPO) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(pkg: Path = PKG) -> dict[str, ast.Module]:
    return {module_name(p, pkg.parent): ast.parse(p.read_text(), str(p)) for p in sorted(pkg.rglob("*.py"))}


def imports(tree: ast.Module, known) -> list[tuple[str, int, bool]]:
    """(imported module, line, at the top?) for every absolute import; ``from a import b`` is ``a.b`` if a module."""
    top = {id(n) for n in tree.body}
    for node in tree.body:  # an import under a module-level ``if``/``try`` is still at the top
        if isinstance(node, (ast.If, ast.Try)):
            top |= {id(n) for n in ast.walk(node)}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno, id(node) in top) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            subs = [f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in known]
            out += [(s, node.lineno, id(node) in top) for s in subs] or [(node.module, node.lineno, id(node) in top)]
    return out


def layer_of(name: str, layers: list[list[str]]) -> int | None:
    """The index of the layer whose longest listed name holds ``name`` (the package root only by its own name)."""
    best = None
    for i, names in enumerate(layers):
        for listed in names:
            if name == listed or (listed != ROOT and name.startswith(listed + ".")):
                if best is None or len(listed) > best[1]:
                    best = (i, len(listed))
    return None if best is None else best[0]


def upward_imports(mods: dict[str, ast.Module], layers: list[list[str]]) -> list[str]:
    out = []
    for name, tree in mods.items():
        here = layer_of(name, layers)
        for target, line, _ in imports(tree, mods):
            if not target.startswith(ROOT) or target not in mods:
                continue
            there = layer_of(target, layers)
            if here is not None and there is not None and there < here:
                out.append(f"{name}:{line} imports {target}: layer {here + 1} -> layer {there + 1} (up)")
    return out


def heavy_at_top(target: str, mods: dict[str, ast.Module], seen=None) -> set[str]:
    """The heavy modules that importing ``target`` loads at import time (its parents' ``__init__`` included)."""
    seen = set() if seen is None else seen
    names = [".".join(target.split(".")[:i]) for i in range(1, target.count(".") + 2)]
    out = set()
    for name in names:
        if name in seen or name not in mods:
            continue
        seen.add(name)
        for dep, _, at_top in imports(mods[name], mods):
            if not at_top:
                continue
            if dep.startswith(ROOT):
                out |= heavy_at_top(dep, mods, seen)
            elif dep.split(".")[0] in HEAVY:
                out.add(dep.split(".")[0])
    return out


def unreasoned_imports(mods: dict[str, ast.Module], sources: dict[str, str]) -> tuple[list[str], int]:
    """Function-level imports without a reason, and how many have one."""
    bad, deferred = [], 0
    for name, tree in mods.items():
        late = [(t, line) for t, line, at_top in imports(tree, mods) if not at_top]
        comments = DEFERRED.findall(sources[name])
        if late and len(comments) != 1:
            bad.append(f"{name}: {len(late)} function-level import(s) and {len(comments)} '# deferred:' comments")
            continue
        named = set(re.findall(r"[\w]+", comments[0])) & HEAVY if comments else set()
        for target, line in late:
            why = heavy_at_top(target, mods) if target.startswith(ROOT) else {target.split(".")[0]}
            if why & named:
                deferred += 1
            else:
                bad.append(f"{name}:{line} imports {target} in a function; its '# deferred:' comment names "
                           f"{sorted(named) or 'nothing heavy'}, and {target} loads {sorted(why) or 'nothing heavy'}")
    return bad, deferred


@pytest.fixture(scope="module")
def layers():
    return read_layers((REPO / "docs" / "ARCHITECTURE.md").read_text())


@pytest.fixture(scope="module")
def mods():
    return modules()


def test_every_module_is_on_a_listed_layer(layers, mods):
    assert len(layers) >= 8 and layers[-1][0].startswith(ROOT), layers
    assert [m for m in mods if layer_of(m, layers) is None] == []


def test_imports_point_down_the_layers(layers, mods):
    assert upward_imports(mods, layers) == []


def test_an_upward_import_is_found(layers, mods, tmp_path):
    """The checker fails on an upward import, at the top or inside a function."""
    tree = ast.parse("import paddle_mnist.studies.stats\n\ndef f():\n    from paddle_mnist.apps import cli\n")
    found = upward_imports({**mods, "paddle_mnist.engine.fake": tree}, layers)
    assert [f.split(" (")[0] for f in found if "fake" in f] == [
        "paddle_mnist.engine.fake:1 imports paddle_mnist.studies.stats: layer 8 -> layer 6",
        "paddle_mnist.engine.fake:4 imports paddle_mnist.apps.cli: layer 8 -> layer 1"]


def test_function_level_imports_have_a_reason(mods):
    sources = {module_name(p): p.read_text() for p in PKG.rglob("*.py")}
    bad, deferred = unreasoned_imports(mods, sources)
    print(f"{deferred} function-level imports, each of a heavy dependency its module's '# deferred:' names")
    assert bad == []


def test_a_function_level_import_without_a_reason_is_found():
    src = "# deferred: paddle (first use)\nimport json\n\ndef f():\n    import paddle\n    import csv\n"
    bad, deferred = unreasoned_imports({"paddle_mnist.x": ast.parse(src)}, {"paddle_mnist.x": src})
    assert deferred == 1 and len(bad) == 1 and bad[0].startswith("paddle_mnist.x:6 imports csv")
    none = "def f():\n    import paddle\n"
    bad, _ = unreasoned_imports({"paddle_mnist.y": ast.parse(none)}, {"paddle_mnist.y": none})
    assert bad == ["paddle_mnist.y: 1 function-level import(s) and 0 '# deferred:' comments"]


def test_the_command_line_starts_without_paddle():
    """``--help`` and ``list`` stay fast: importing the CLI does not import Paddle."""
    code = "import sys, paddle_mnist.apps.cli; print('paddle' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
