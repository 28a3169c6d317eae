"""The report's shared section skeleton (``report.context.section``), and the committed report as the code writes it
from the committed results (figures not drawn: the text only, in a temporary folder; ``reports/`` is only read).

    python -m pytest -q tests/test_report_skeleton.py
"""
from __future__ import annotations

import difflib
import importlib
import pkgutil
import re
import shutil
from pathlib import Path

import paddle_mnist.report as report_package
from paddle_mnist.records import write_json
from paddle_mnist.report.build import build_report
from paddle_mnist.report.context import Context, section

REPO = Path(__file__).resolve().parents[1]
MISSING = "_No results yet: run `python -m paddle_mnist train thing`._\n"
QUICK = "_These are `--quick` smoke-test results, not the full settings._\n"


def _plot(rec, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("png")


def _body(ctx, rec) -> list[str]:
    return ["lead\n", "", ctx.draw("thing", _plot, rec, "the thing"), "table\n"]


def test_a_section_is_its_heading_its_parts_its_claims_and_its_quick_note(tmp_path):
    ctx = Context(tmp_path / "results", tmp_path / "figures", tmp_path, tmp_path)
    assert section(ctx, "thing", "9 Thing", _body) == "## 9 Thing\n" + MISSING
    assert section(ctx, "thing", "9 Thing", _body, absent="_none_\n") == "## 9 Thing\n_none_\n"
    assert not (tmp_path / "figures").exists()  # nothing drawn without a record
    write_json(tmp_path / "results" / "thing.json", {"settings": {"quick": False}})
    plain = "## 9 Thing\n\nlead\n\n![the thing](figures/thing.png)\n\ntable\n"
    assert section(ctx, "thing", "9 Thing", _body) == plain  # the empty part is dropped
    assert (tmp_path / "figures" / "thing.png").read_text() == "png"
    assert section(ctx, "thing", "9 Thing", _body, blank_end=True) == plain + "\n"
    write_json(tmp_path / "results" / "thing.json", {"settings": {"quick": True}})
    assert section(ctx, "thing", "9 Thing", _body) == plain + "\n" + QUICK
    assert section(ctx, "thing", "9 Thing", _body, quick=None) == plain


def test_a_section_lists_the_claims_its_record_decides_after_its_parts(tmp_path):
    shutil.copy(REPO / "reports" / "results" / "loss.json", tmp_path / "loss.json")
    ctx = Context(tmp_path, tmp_path / "figures", tmp_path, tmp_path)
    text = section(ctx, "loss", "9 Loss", lambda ctx, rec: ["table\n"], claims=True)
    assert text.startswith("## 9 Loss\n\ntable\n\nClaims decided here")
    assert "— done right: **" in text and "— as the source ran it" not in text
    assert "Claims decided" not in section(ctx, "loss", "9 Loss", lambda ctx, rec: ["table\n"])


def test_the_committed_report_is_what_the_code_writes_from_the_committed_results(tmp_path, monkeypatch):
    for module in pkgutil.iter_modules(report_package.__path__):  # the text only: every figure drawer a no-op
        mod = importlib.import_module(f"paddle_mnist.report.{module.name}")
        for name in [n for n in vars(mod) if n.startswith("plot_")]:
            monkeypatch.setattr(mod, name, lambda *a, **k: None)
    reports = REPO / "reports"
    build_report(reports / "results", tmp_path / "REPORT.md", tmp_path / "figures", reports / "bench")
    for name in ("REPORT.md", "APPENDIX.md"):
        committed, written = ([re.sub(r"^_Written \d{4}-\d\d-\d\d\._$", "_Written (date)._", line)
                               for line in path.read_text().splitlines()] for path in (reports / name, tmp_path / name))
        diff = list(difflib.unified_diff(committed, written, f"reports/{name}", "written", lineterm="", n=0))
        assert not diff, (f"reports/{name} is not what `python -m paddle_mnist report` writes from the committed "
                          "results:\n" + "\n".join(diff[:12]))
