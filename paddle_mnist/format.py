"""The formatters, defined once (a shared leaf): percentages, points, numbers, seconds, ratios and markdown tables.

Every section of ``reports/REPORT.md``, the claims ledger (``studies.claims``),
the notebooks (``apps.notebooks``) and the engine's one-line run log write their
numbers with these. The module imports nothing from the package, so anything may import it.

    python -m paddle_mnist report
"""
from __future__ import annotations


def pct(x, digits: int = 2, none: str = "n/a") -> str:
    """A fraction as a percentage (``0.9812`` -> ``98.12%``), or ``none`` for None."""
    return none if x is None else f"{100 * x:.{digits}f}%"


def pm(mean, std, digits: int = 2) -> str:
    """``mean ± std`` of fractions, as percentages."""
    if mean is None:
        return "n/a"
    return f"{100 * mean:.{digits}f} ± {100 * (std or 0):.{digits}f}%"


def points(x) -> str:
    """A signed difference of fractions in percentage points (``+0.25 points``), or ``n/a`` for None."""
    return "n/a" if x is None else f"{100 * x:+.2f} points"


def abs_points(diff: float) -> str:
    """The size of a difference of fractions in percentage points, without its sign (``0.25 points``)."""
    return f"{abs(100 * diff):.2f} points"


def num(x, digits: int = 3) -> str:
    """A number with ``digits`` decimals, or ``n/a`` for None."""
    return "n/a" if x is None else f"{x:.{digits}f}"


def sci(x) -> str:
    """A number in scientific notation with two digits (``1.2e-04``), or ``n/a`` for None."""
    return "n/a" if x is None else f"{x:.1e}"


def seconds(x, unit: str = "s") -> str:
    """A duration in seconds, written in ``s`` (3 decimals under 10 s) or ``ms``; ``n/a`` for None."""
    if x is None:
        return "n/a"
    if unit == "ms":
        return f"{1000 * x:.1f} ms"
    return f"{x:.3f} s" if x < 10 else f"{x:.1f} s"


def seconds_range(e, unit: str = "s") -> str:
    """``min – max`` of a statistics entry (``{"min": ..., "max": ...}``) in seconds."""
    return "n/a" if e is None else f"{seconds(e['min'], unit)} – {seconds(e['max'], unit)}"


def ratio(r) -> str:
    """A ratio as ``1.23x``, or ``n/a`` for None."""
    return "n/a" if r is None else f"{r:.2f}x"


def goal(ok) -> str:
    """A goal's outcome: ``met``, ``**missed**`` or ``n/a`` (not measured)."""
    return "n/a" if ok is None else ("met" if ok else "**missed**")


def table(header: list[str], rows: list[list]) -> str:
    """A markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def quick_note(rec: dict) -> str:
    """The line a section adds under ``--quick`` results."""
    return "_These are `--quick` smoke-test results, not the full settings._\n" if rec["settings"].get("quick") else ""


def missing(name: str) -> str:
    """The line a section shows when the results of experiment ``name`` are missing."""
    return f"_No results yet: run `python -m paddle_mnist train {name}`._\n"
