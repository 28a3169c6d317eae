"""``Context``: where a report section reads its results files and saves its figures; ``section``: the skeleton
every section fills (heading, lead, figures, tables, the claims its record decides, the ``--quick`` note).

``report.build`` makes one ``Context`` and hands it to every ``section_*(ctx)``; tests make
their own over temporary folders.

    python -m paddle_mnist report
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from paddle_mnist.format import missing, quick_note, table
from paddle_mnist.records import read_json
from paddle_mnist.report.claims import claims_here


@dataclass
class Context:
    results_dir: Path
    figures_dir: Path
    bench_dir: Path
    report_dir: Path

    def load(self, name: str):
        path = self.results_dir / f"{name}.json"
        return read_json(path) if path.is_file() else None

    def bench(self, name: str):
        path = self.bench_dir / f"{name}.json"
        return read_json(path) if path.is_file() else None

    def figure(self, name: str) -> tuple[Path, str]:
        """The path to save a figure to, and its link relative to the report."""
        path = self.figures_dir / f"{name}.png"
        return path, os.path.relpath(path, self.report_dir)

    def draw(self, name: str, plot, rec, alt: str, **kw) -> str:
        """Draw ``plot(rec, path, **kw)`` into the report's figure ``name``; the markdown image line."""
        path, link = self.figure(name)
        plot(rec, path, **kw)
        return f"![{alt}]({link})\n"


def section(ctx: Context, name: str, heading: str, body, *, claims: bool = False, quick=quick_note,
            absent: str | None = None, blank_end: bool = False) -> str:
    """One report section: ``## heading``, then ``body(ctx, rec)``'s parts (lead, figures, tables, prose; empty
    parts dropped), the claims record ``name`` decides (``claims``), the ``quick(rec)`` line under ``--quick``
    results; ``absent`` (or the command that writes it) when ``reports/results/<name>.json`` is missing.
    ``blank_end`` ends the section with an empty line."""
    rec = ctx.load(name)
    if rec is None:
        return f"## {heading}\n" + (absent or missing(name))
    parts = [f"## {heading}\n", *body(ctx, rec)] + ([claims_here(name, rec)] if claims else [])
    text, note = "\n".join(p for p in parts if p), quick(rec) if quick else ""
    return text + ("\n" + note if note or blank_end else "")


def table_part(header: list[str], rows: list[list], lead: str = "") -> str:
    """A section part: a markdown table and its blank line, under a ``lead`` line where given."""
    return (f"{lead}\n\n" if lead else "") + table(header, rows) + "\n"
