"""``Context``: where a report section reads its results files and saves its figures.

``report.build`` makes one and hands it to every ``section_*(ctx)``; tests make
their own over temporary folders.

    python -m paddle_mnist report
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from paddle_mnist.records import read_json


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
