"""``Context``: where a report section reads its results files and saves its figures.

``report.build`` makes one and hands it to every ``section_*(ctx)``; tests make
their own over temporary folders. ``source_names`` reads the prose of records written
before the source documents were called sources: a source's number after "seed" becomes "source".

    python -m paddle_mnist report
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from paddle_mnist.records import read_json

# Older records' prose called the source documents "seeds"; a random seed is never written with two leading zeros
_OLD_NAMES = ((re.compile(r"\b([Ss])eed(s?) (00\d)"),
               lambda m: ("Source" if m.group(1) == "S" else "source") + f"{m.group(2)} {m.group(3)}"),
              (re.compile(r"\b([Tt])he seed's\b"), r"\1he source's"),
              (re.compile(r"\bas the seed ran it\b"), "as the source ran it"))


def source_names(obj):
    """``obj`` (a results record, or any JSON value) with the source documents in its strings called sources.

    Only prose of that form is rewritten; keys and every other value are kept as written."""
    if isinstance(obj, str):
        for pattern, repl in _OLD_NAMES:
            obj = pattern.sub(repl, obj)
        return obj
    if isinstance(obj, dict):
        return {k: source_names(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [source_names(v) for v in obj]
    return obj


@dataclass
class Context:
    results_dir: Path
    figures_dir: Path
    bench_dir: Path
    report_dir: Path

    def load(self, name: str):
        path = self.results_dir / f"{name}.json"
        return source_names(read_json(path)) if path.is_file() else None

    def bench(self, name: str):
        path = self.bench_dir / f"{name}.json"
        return read_json(path) if path.is_file() else None

    def figure(self, name: str) -> tuple[Path, str]:
        """The path to save a figure to, and its link relative to the report."""
        path = self.figures_dir / f"{name}.png"
        return path, os.path.relpath(path, self.report_dir)
