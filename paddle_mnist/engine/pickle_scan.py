"""What a pickle would build, read from its opcodes alone, before any object exists: ``scan(data, resolve)``.

``engine.safe_load`` runs this over a file before unpickling it. The scan plays the
pickle machine's stack with a small record per object (how many objects it holds,
shared ones counted at each place they appear, and how deeply it nests) and refuses,
in one line, a file that

- names anything ``resolve`` refuses (``GLOBAL``, ``INST``, ``STACK_GLOBAL``), or uses
  an opcode that reaches outside the file (persistent ids, the extension registry);
- would build more than ``MAX_OBJECTS`` objects counted that way (``t = (t, t)``
  forty times is a 190-byte file whose hash or walk is 2**40 steps), nests deeper
  than ``MAX_DEPTH``, runs more than ``MAX_OPS`` opcodes, or asks for a memo slot
  past ``MAX_OBJECTS`` (the unpickler would allocate the whole table at once).

The counts of mutable containers filled after use may be low; ``safe_load``'s walk
counts the built objects exactly. Everything hashed while unpickling (tuples,
frozensets) is immutable and counted exactly here. The numpy guards the unpickler
calls live here too: ``checked_reconstruct`` (no array larger than the file),
``checked_dtype`` (plain type codes, always a copy) and ``check_build`` (``BUILD``
never rewrites a dtype's internals, a class or a function).

    python -c "from paddle_mnist.engine.pickle_scan import scan; scan(open('reports/models/mlp.pdparams','rb').read(), lambda m, n: None)"
"""
from __future__ import annotations

import math
import pickletools

import numpy as np

MAX_OBJECTS = 1_000_000  # objects a file may build, a shared one counted at each place it appears
MAX_DEPTH = 64  # containers inside containers (a checkpoint nests 5 deep)
MAX_OPS = 1_000_000  # opcodes in one file
_NEVER_OPS = {"PERSID", "BINPERSID", "EXT1", "EXT2", "EXT4"}  # references resolved outside the file
_IN_PLACE = {"APPEND", "APPENDS", "SETITEM", "SETITEMS", "ADDITEMS", "BUILD", "READONLY_BUFFER"}
_MARK = object()
NOT_PLAIN = "which is not plain data (arrays, dicts, lists, numbers)"


class Refused(Exception):
    """A file the scan (or the loader) will not read; ``what`` says why, on one line."""

    def __init__(self, what: str):
        super().__init__(what)
        self.what = what


class _Obj:
    """What the scan knows of one object on the stack: its size (objects, counted with repeats), depth, value."""

    __slots__ = ("n", "depth", "value")

    def __init__(self, n: int = 1, depth: int = 0, value=None):
        self.n, self.depth, self.value = n, depth, value


def _pop(stack: list):
    if not stack or stack[-1] is _MARK:
        raise ValueError("an opcode takes more from the stack than is there")
    return stack.pop()


def _pop_to_mark(stack: list) -> list:
    items = []
    while stack and stack[-1] is not _MARK:
        items.append(stack.pop())
    if not stack:
        raise ValueError("an opcode wants a MARK that is not there")
    stack.pop()
    return items


def _take(op, stack: list) -> list:
    """Pop what ``op`` consumes (per pickletools' description), bottom item last."""
    taken, before = [], list(reversed(op.stack_before))
    i = 0
    while i < len(before):
        kind = before[i]
        if kind is pickletools.stackslice:  # everything down to the mark, and the mark
            taken += _pop_to_mark(stack)
            while before[i] is not pickletools.markobject:
                i += 1
        elif kind is pickletools.markobject:
            raise ValueError("unexpected mark")
        else:
            taken.append(_pop(stack))
        i += 1
    return taken


def _check(obj: _Obj) -> _Obj:
    if obj.n > MAX_OBJECTS:
        raise Refused(f"it would build more than {MAX_OBJECTS:,} objects (shared ones counted at each use)")
    if obj.depth > MAX_DEPTH:
        raise Refused(f"it nests containers more than {MAX_DEPTH} deep")
    return obj


def _memo_index(arg, memo: dict) -> int:
    index = len(memo) if arg is None else arg
    if not isinstance(index, int) or not 0 <= index <= MAX_OBJECTS:
        raise Refused(f"it asks for memo slot {index}, past the limit of {MAX_OBJECTS:,}")
    return index


def _step(op, arg, stack: list, memo: dict, resolve) -> None:
    """Play one opcode on the stack of ``_Obj`` records."""
    name = op.name
    if name in _NEVER_OPS:
        raise Refused(f"the file uses the pickle opcode {name}, which reaches outside the file")
    if name in ("GLOBAL", "INST"):
        resolve(*arg.split(" ", 1))
    if name in ("PUT", "BINPUT", "LONG_BINPUT", "MEMOIZE"):
        if not stack or stack[-1] is _MARK:
            raise ValueError("memoizing an empty stack")
        memo[_memo_index(arg if name != "MEMOIZE" else None, memo)] = stack[-1]
        return
    if name in ("GET", "BINGET", "LONG_BINGET"):
        stack.append(memo[arg])  # KeyError: a corrupted file
        return
    if name == "MARK":
        stack.append(_MARK)
        return
    taken = _take(op, stack)
    if name == "STACK_GLOBAL":
        module, qual = taken[1].value, taken[0].value
        if not (isinstance(module, str) and isinstance(qual, str)):
            raise Refused("it names a class through values the scan cannot follow")
        resolve(module, qual)
    if name == "DUP":
        stack += [taken[0], taken[0]]
    elif name in _IN_PLACE:  # the bottom item is the container, changed where it is (memo copies too)
        box = taken[-1]
        for item in taken[:-1]:
            box.n += item.n
            box.depth = max(box.depth, item.depth + 1)
        stack.append(_check(box))
    else:
        value = arg if isinstance(arg, str) else None
        n = 1 + sum(t.n for t in taken)
        depth = 1 + max(t.depth for t in taken) if taken else 0
        stack.extend(_check(_Obj(n, depth, value)) for _ in op.stack_after)


def scan(data: bytes, resolve) -> None:
    """Refuse (``Refused``) a pickle that names anything ``resolve`` refuses or would build past the limits.

    ``resolve(module, name)`` raises for a name off the allow-list. A malformed file
    raises ``ValueError`` or ``KeyError``.
    """
    stack, memo = [], {}
    for count, (op, arg, _pos) in enumerate(pickletools.genops(data)):
        if count >= MAX_OPS:
            raise Refused(f"it holds more than {MAX_OPS:,} pickle opcodes")
        _step(op, arg, stack, memo, resolve)


def printable(text) -> str:
    """``text`` on one line (escapes newlines and control characters), at most 200 characters."""
    return str(text).encode("unicode_escape").decode("ascii")[:200]


def checked_reconstruct(reconstruct, max_bytes: int, subtype, shape, dtype):
    """numpy's ``_reconstruct`` (the empty array ``__setstate__`` fills), for ``ndarray`` of a size the file can fill."""
    if subtype is not np.ndarray:
        raise Refused(f"the file rebuilds an array as {printable(subtype)}, {NOT_PLAIN}")
    if not (isinstance(dtype, np.dtype) or (isinstance(dtype, (str, bytes)) and len(dtype) <= 16)) \
            or type(shape) is not tuple or not all(type(n) is int and n >= 0 for n in shape):
        raise Refused("the file rebuilds an array from a malformed shape or dtype")
    if math.prod(shape) * np.dtype(dtype).itemsize > max_bytes:
        raise Refused(f"the file asks for an array larger than itself ({printable(shape)} of {printable(dtype)})")
    return reconstruct(subtype, shape, dtype)


def checked_dtype(spec, *args):
    """``numpy.dtype(spec, ...)`` for a plain type code only (``'f4'``, ``'<i8'``): no structured dtypes."""
    if not (isinstance(spec, (str, bytes)) and len(spec) <= 16):
        raise Refused(f"the file builds a dtype from {printable(type(spec).__name__)}, {NOT_PLAIN}")
    return np.dtype(spec, False, True)  # always a copy: BUILD never reaches numpy's shared dtypes


def check_build(inst, state, also: tuple = ()) -> None:
    """``BUILD`` only fills a new array, a dtype (its byte order, nothing else) or an instance of ``also``."""
    if isinstance(inst, np.dtype):
        expected = inst.__reduce__()[2]
        if not (type(state) is tuple and len(state) == len(expected) and state[1] in ("<", ">", "|", "=")
                and all(a == b for i, (a, b) in enumerate(zip(state, expected)) if i != 1)):
            raise Refused(f"the file sets a dtype's internals ({printable(state)[:80]}), {NOT_PLAIN}")
    elif not isinstance(inst, (np.ndarray, *also)):
        raise Refused(f"the file sets the state of a {printable(type(inst).__name__)}, {NOT_PLAIN}")
