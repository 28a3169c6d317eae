"""A student's solution as code: read a module, a notebook exported as .py, or an .ipynb; find its pieces.

``read_source`` only reads and compiles (it runs nothing: the parent uses it to refuse bad input);
``load_namespace`` executes the code (in the child process of ``check``) and
``find_pieces`` picks ``load_data``, the ``paddle.nn.Layer`` subclasses and ``train`` by their
course names. A notebook keeps only its definitions (imports, functions, classes, constants), so
that its training cells do not run when the check imports it.

    python -m paddle_mnist check my_solution.py
"""
from __future__ import annotations

import ast
import inspect
import json
import sys
from pathlib import Path
import types

from paddle_mnist.errors import PaddleMnistError
# deferred: paddle (loaded on first use, so importing this module stays light)

MODULE_NAME = "student_solution"
NOTEBOOK_MARKERS = ("# %%", "# In[", "# coding: utf-8\n\n# In[")
# Constructor arguments a course net may require, by parameter name.
NET_ARGS = {"in": 784, "input": 784, "input_size": 784, "input_dim": 784, "in_features": 784, "input_num": 784,
            "num_inputs": 784, "out": 10, "output": 10, "output_size": 10, "output_dim": 10, "out_features": 10,
            "output_num": 10, "num_classes": 10, "classes": 10, "num_outputs": 10}
ROLES = {7850: "softmax", 199210: "mlp"}
MODEL_NAMES = ("model", "net", "network", "m", "mdl")  # how a train() names the net it is given


def read_source(path) -> tuple[str, str]:
    """``(code, kind)`` of a solution file, kind ``module`` or ``notebook``; a one-line error for bad input."""
    p = Path(path)
    if not p.is_file():
        raise PaddleMnistError(f"{path}: no such file")
    if p.suffix not in (".py", ".ipynb"):
        raise PaddleMnistError(f"{path}: not a Python file (give a .py module or an .ipynb notebook)")
    try:
        text = p.read_text(encoding="utf-8")
    except (UnicodeDecodeError, OSError) as exc:
        raise PaddleMnistError(f"{path}: unreadable ({exc.__class__.__name__})") from None
    if p.suffix == ".ipynb":
        code, kind = _notebook_code(text, path), "notebook"
    else:
        kind = "notebook" if any(m in text for m in NOTEBOOK_MARKERS) else "module"
        code = text
    try:
        tree = ast.parse(code, filename=str(p))
    except SyntaxError as exc:
        raise PaddleMnistError(f"{path}: not Python (SyntaxError line {exc.lineno}: {exc.msg})") from None
    if kind == "notebook":
        code = ast.unparse(_definitions(tree))
    return code, kind


def _notebook_code(text: str, path) -> str:
    """The code cells of an .ipynb (nbformat 4 JSON), IPython magics and shell lines dropped."""
    try:
        cells = json.loads(text)["cells"]
        sources = [c["source"] if isinstance(c["source"], str) else "".join(c["source"])
                   for c in cells if c.get("cell_type") == "code"]
    except (ValueError, KeyError, TypeError) as exc:
        raise PaddleMnistError(f"{path}: not a notebook ({exc.__class__.__name__})") from None
    return "\n\n".join("\n".join(ln for ln in src.splitlines() if not ln.lstrip().startswith(("%", "!")))
                       for src in sources)


def _has_call(node) -> bool:
    return any(isinstance(n, (ast.Call, ast.Await, ast.Yield)) for n in ast.walk(node))


def _definitions(tree: ast.Module) -> ast.Module:
    """Imports, functions, classes and call-free assignments: a notebook's pieces without its runs."""
    keep = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            keep.append(node)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None and not _has_call(node.value):
            keep.append(node)
    return ast.Module(body=keep, type_ignores=[])


def load_namespace(path) -> dict:
    """Execute the solution (notebooks: only their definitions) as module ``student_solution``; its globals."""
    code, _ = read_source(path)
    folder = str(Path(path).resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    module = types.ModuleType(MODULE_NAME)
    module.__file__ = str(Path(path).resolve())
    sys.modules[MODULE_NAME] = module  # classes and dataclasses look their module up here
    exec(compile(code, str(path), "exec"), module.__dict__)  # noqa: S102 - the point: run the student's code
    return module.__dict__


def build_net(cls):
    """An instance of a net class: no arguments, else its required arguments filled by course names."""
    try:
        return cls()
    except TypeError:
        pass
    kwargs = {}
    for name, param in inspect.signature(cls.__init__).parameters.items():
        if name == "self" or param.default is not param.empty or param.kind in (param.VAR_POSITIONAL,
                                                                                   param.VAR_KEYWORD):
            continue
        low = name.lower()
        kwargs[name] = NET_ARGS.get(low, 200 if "hidden" in low or low in ("h1", "h2") else None)
        if kwargs[name] is None:
            raise TypeError(f"{cls.__name__}() needs argument {name!r}; give it a default")
    return cls(**kwargs)


def find_nets(ns: dict, names=None) -> list[dict]:
    """The ``paddle.nn.Layer`` subclasses defined by the solution (or named by ``--net``), with their role.

    The role is ``softmax`` or ``mlp`` by the parameter count (7,850 or 199,210); when some class has a role,
    the classes without one are left out, unless ``--net`` names them."""
    import paddle

    found = []
    for name, obj in ns.items():
        if not (isinstance(obj, type) and issubclass(obj, paddle.nn.Layer)):
            continue
        if names and name not in names:
            continue
        if not names and obj.__module__ != MODULE_NAME:
            continue
        entry = {"name": name, "role": None, "parameters": None, "error": None}
        try:
            model = build_net(obj)
            entry["parameters"] = int(sum(int(p.size) for p in model.parameters()))
            entry["role"] = ROLES.get(entry["parameters"])
        except Exception as exc:  # the student's constructor: any error is a finding, never ours
            entry["error"] = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
        found.append(entry)
    if not names and any(e["role"] for e in found):
        found = [e for e in found if e["role"]]  # helper layers (a block, a custom Linear) are not the nets
    return found


def find_pieces(ns: dict, *, nets=None, loader=None) -> dict:
    """Names and roles of the pieces the checks will use; JSON-safe (the child sends it to the parent)."""
    loader = loader or "load_data"
    missing = [n for n in (nets or []) if n not in ns]
    return {"loader": loader if callable(ns.get(loader)) else None,
            "nets": find_nets(ns, nets), "missing_nets": missing,
            "train": "train" if callable(ns.get("train")) else None,
            "train_takes_model": callable(ns.get("train")) and takes_model(ns["train"])}


def takes_model(fn) -> bool:
    try:
        return any(n.lower() in MODEL_NAMES for n in inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return False


def as_json(obj) -> str:
    return json.dumps(obj, default=str)


def line(check: str, name: str, status: str, hint: str, link: str, subject: str = "", detail: str = "") -> dict:
    """One line of the report card: ``status`` passed / warned / failed, ``link`` a key of ``check.LINKS``."""
    assert status in ("passed", "warned", "failed"), status
    return {"check": check, "name": name, "status": status, "hint": hint, "link": link, "subject": subject,
            "detail": detail}


def error_text(exc: BaseException) -> str:
    """An exception of the student's code as one line: ``Type: first line of the message``."""
    msg = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {msg[0][:240]}" if msg else type(exc).__name__
