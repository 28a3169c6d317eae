"""One small schema checker for the JSON records the program reads back (export meta, run summaries).

A schema is a type (``str``, ``int``, ``bool``, ``dict``, ``list``; ``float`` admits ints
too, never bools or non-finite numbers), ``None``, a ``Num(lo, hi)`` or ``Int(lo, hi)``
range, a ``ListOf(schema)``, an ``Either(a, b, ...)``, a ``Const(value)``, or a dict
``{key: schema}`` (a key ending in ``?`` may be missing; keys not named are allowed).
``check(value, schema, where)`` raises ``SchemaError`` (a ``PaddleMnistError``) naming
the first field that does not fit, on one line. ``apps.export.META_SCHEMA`` and
``engine.resume.SUMMARY_SCHEMA`` are the schemas in use.

    python -c "from paddle_mnist.schema import *; check({'test_acc': 'y'}, {'test_acc': Num(0, 1)}, 'summary.json')"
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from paddle_mnist.errors import PaddleMnistError


class SchemaError(PaddleMnistError):
    """A record read back from a file does not fit its schema."""


@dataclass(frozen=True)
class Num:
    lo: float = -math.inf
    hi: float = math.inf
    finite: bool = True  # False: NaN and the infinities pass too (a diverged run's losses)


@dataclass(frozen=True)
class Int:
    lo: int | None = None
    hi: int | None = None


@dataclass(frozen=True)
class ListOf:
    item: object
    max_len: int = 10_000_000


@dataclass(frozen=True)
class Const:
    value: object


class Either:
    def __init__(self, *options):
        self.options = options


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _fits(value, schema, where: str) -> str | None:
    """``None`` when ``value`` fits ``schema``, else what is wrong (one line)."""
    if schema is None:
        return None if value is None else f"{where} must be null, got {_shown(value)}"
    if isinstance(schema, Either):
        problems = [_fits(value, option, where) for option in schema.options]
        return None if None in problems else problems[-1]
    if isinstance(schema, Const):
        return None if value == schema.value else f"{where} must be {schema.value!r}, got {_shown(value)}"
    if schema is float or isinstance(schema, Num):
        schema = schema if isinstance(schema, Num) else Num()
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"{where} must be a number, got {_shown(value)}"
        if not math.isfinite(value):
            return None if not schema.finite else f"{where} must be a finite number, got {_shown(value)}"
        return None if schema.lo <= value <= schema.hi else f"{where} must be in [{schema.lo}, {schema.hi}], " \
                                                            f"got {_shown(value)}"
    if schema is int or isinstance(schema, Int):
        if isinstance(value, bool) or not isinstance(value, int):
            return f"{where} must be an integer, got {_shown(value)}"
        lo, hi = (schema.lo, schema.hi) if isinstance(schema, Int) else (None, None)
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            return f"{where} must be in [{lo}, {hi}], got {_shown(value)}"
        return None
    if isinstance(schema, ListOf):
        if not isinstance(value, list) or len(value) > schema.max_len:
            return f"{where} must be a list (at most {schema.max_len:,} items), got {_shown(value)}"
        return next((p for i, v in enumerate(value) if (p := _fits(v, schema.item, f"{where}[{i}]"))), None)
    if isinstance(schema, dict):
        if not isinstance(value, dict):
            return f"{where} must be an object, got {_shown(value)}"
        for key, sub in schema.items():
            name = key.rstrip("?")
            if name not in value:
                if key.endswith("?"):
                    continue
                return f"{where} has no {name!r}"
            if (problem := _fits(value[name], sub, f"{where}.{name}")) is not None:
                return problem
        return None
    if isinstance(schema, type):
        return None if type(value) is schema else f"{where} must be {schema.__name__}, got {_shown(value)}"
    raise TypeError(f"not a schema: {schema!r}")


def check(value, schema, where: str):
    """``value`` when it fits ``schema``; else ``SchemaError`` naming ``where`` and the first misfit field."""
    problem = _fits(value, schema, "")
    if problem is not None:
        field, _, rest = problem.partition(" ")
        raise SchemaError(f"{where}: {field.lstrip('.') or 'the record'} {rest}")
    return value
