"""The report's first screen answers the assignment; its terms are defined before use; sources are never "seeds".

Reads the committed ``reports/REPORT.md`` and ``reports/results/*.json`` (no training, no report written).

    python -m pytest -q tests/test_report_top.py
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from paddle_mnist.report.answers import GLOSSARY
from paddle_mnist.report.context import Context
from paddle_mnist.format import pct, pm
from paddle_mnist.report.performance import section_speed

REPO = Path(__file__).resolve().parents[1]
REPORT = REPO / "reports" / "REPORT.md"
QUESTIONS = ("How accurate are the softmax classifier and the 3-layer net?", "Which loss, and why?",
             "Does dropout help here?", "Which optimizer and learning rate?", "Which hidden size?",
             "What does the course's own setup get, and what does fixing the double softmax change?")
# the glossary terms a reader meets first, and the definition that must come with their first use
TERMS = {"seed noise": "seed noise", "welch": "Welch interval", "arm": "arm", "provisional": "provisional"}
# a source document called a seed: "seed 004", "seeds 001, 003", "as the seed ran it", "the seed's"
AS_SEED = re.compile(r"\bseeds? 00\d|\bas the seed ran\b|\bthe seed's\b", re.IGNORECASE)


def _result(name: str) -> dict:
    return json.loads((REPO / "reports" / "results" / f"{name}.json").read_text())


def test_first_screen_answers_the_assignment_with_numbers():
    screen = REPORT.read_text().splitlines()[:40]
    answers = {q: line for line in screen for q in QUESTIONS if line.startswith(f"- **{q}**")}
    assert list(answers) == list(QUESTIONS)
    for q, line in answers.items():
        assert re.search(r"\d+\.\d\d ± \d+\.\d\d%", line), q  # a measured mean ± std
        assert "](#" in line, q  # linked to its section
    noise = [line for line in answers.values() if "seed noise" in line]
    assert len(noise) >= 5  # every answer that compares says beyond or within seed noise
    course = _result("course")["analysis"]["loss"]
    ds, lg = course["double_softmax"], course["logits"]
    worst = min(r["test_acc"] for r in _result("course")["runs"] if r["variant"] == "double_softmax")
    line = answers[QUESTIONS[-1]]
    for figure in (pm(ds["test_acc_mean"], ds["test_acc_std"]), pct(worst), pm(lg["test_acc_mean"], lg["test_acc_std"])):
        assert figure in line
    assert "beyond seed noise" in line
    tally = next(i for i, text in enumerate(screen) if text.startswith("## Verdicts on the sources' claims"))
    assert tally > max(screen.index(line) for line in answers.values())  # the answers, then the tally


def test_no_term_is_used_before_its_definition():
    lines = REPORT.read_text().splitlines()
    for term, key in TERMS.items():
        first = next(i for i, line in enumerate(lines) if re.search(rf"\b{term}\b", line, re.IGNORECASE))
        assert GLOSSARY[key] in lines[first], (term, lines[first][:120])
    glossary = lines.index("## Glossary")
    assert glossary < 40 and all(f"- {text}" in lines[glossary:glossary + 12] for text in GLOSSARY.values())


def test_no_quoted_number_passes_as_measured():
    text = REPORT.read_text()
    assert "97.10%" not in text and "every number below was measured" not in text
    for figure in ("92.34%", "97.66%"):  # from the PaddlePaddle book: marked as quoted, with where from
        assert all("*quoted*" in line and "PaddlePaddle book" in line for line in text.splitlines() if figure in line)


def _product_texts():
    for pattern in ("paddle_mnist/**/*.py", "notebooks/*.py", "docs/*.md", "README.md", "reports/*.md"):
        for path in sorted(REPO.glob(pattern)):
            yield path, path.read_text()
    for path in sorted(REPO.glob("notebooks/*.ipynb")):  # what the notebook says, not its committed outputs
        yield path, "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"])


def test_the_product_never_calls_a_source_a_seed():
    found = [f"{path.relative_to(REPO)}: {m.group(0)}" for path, text in _product_texts()
             for m in AS_SEED.finditer(text)]
    assert not found, found[:10]


def test_the_committed_records_never_call_a_source_a_seed():
    """The results' own prose (titles, descriptions, notes) names the source documents as sources."""
    found = [f"{path.name}: {m.group(0)}" for path in sorted((REPO / "reports" / "results").glob("*.json"))
             for m in AS_SEED.finditer(path.read_text())]
    assert not found, found[:10]


def test_speed_summary_follows_the_goals(tmp_path):
    bench = tmp_path / "bench"
    shutil.copytree(REPO / "reports" / "bench", bench)
    ctx = Context(tmp_path / "results", tmp_path / "figures", bench, tmp_path)
    e = json.loads((bench / "eval.json").read_text())
    e["goals"]["under_40ms"]["engine_evaluate"] = False
    (bench / "eval.json").write_text(json.dumps(e))
    missed = section_speed(ctx)
    assert "goal missed" in missed and "`engine.evaluate` from numpy" in missed and "Every" not in missed
    e["goals"]["under_40ms"].update(engine_evaluate=True, engine_in_fit=True)
    (bench / "eval.json").write_text(json.dumps(e))
    t = json.loads((bench / "train.json").read_text())
    for case in t["cases"].values():
        case["goals"].update(engine_vs_torch_met=True, overhead_under_5pct=True)
    t["goals"]["peak_rss_under_1gb"] = True
    (bench / "train.json").write_text(json.dumps(t))
    assert "Every performance goal that was measured is met" in section_speed(ctx)
    assert "No benchmarks yet" in section_speed(Context(tmp_path, tmp_path, tmp_path / "none", tmp_path))
