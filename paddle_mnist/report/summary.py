"""The top of ``reports/REPORT.md``: the answers, the verdict tally, the glossary, the contents and the source key.

``top(ctx, main, appendix)`` takes the rendered sections of the report and of its
appendix (``reports/APPENDIX.md``) and links the answers and the contents to their
headings; every figure comes from ``reports/results/*.json``.

    python -m paddle_mnist report
"""
from __future__ import annotations

import re

from paddle_mnist.report.answers import GLOSSARY, answers, glossary
from paddle_mnist.report.claims import ledger_records, tally_text
from paddle_mnist.studies.claims import ARMS, claims_ledger

SOURCE_KEY = [
    ("000", "the coursework report being reproduced (Chinese): 1.1 data, 1.2 the softmax classifier, the "
            "784-200-200-10 net and a numpy net, 2.2 tuning on `valid`, 2.6 loss functions and dropout, "
            "2.7 optimizers; `000 §2.6.2` is its section 2.6.2"),
    ("001", "study notes (PyTorch): activation functions, saving and restoring, batching, SGD / Momentum / "
            "RMSprop / Adam"),
    ("002", "a blog post on mini-batch gradient descent, exponentially weighted averages, Momentum, RMSProp, "
            "Adam, learning-rate decay and input standardisation"),
    ("003", "coursework on a mini framework: weight initialisation and seven optimizers on the toy loss "
            "z = x²/10 + y²"),
    ("004", "a numpy notebook: the 784-300-300-10 ReLU net with six optimizers and its printed accuracies"),
]
# what an answer links to: the first heading that starts with this text
TARGETS = {"1.2.1": ("1.2.1", "§1.2.1"), "1.2.2": ("1.2.2", "§1.2.2"), "2.2": ("2.2", "§2.2"),
           "2.6.1": ("2.6.1", "§2.6.1-2.6.2"), "2.6.3": ("2.6.3", "§2.6.3-2.6.4"), "2.7": ("2.7", "§2.7"),
           "course": ("As the course ran it", "as the course ran it"), "numpy": ("Numpy from scratch", "numpy section"),
           "ledger": ("Claims ledger", "the ledger")}


def anchor(heading: str) -> str:
    """GitHub's anchor of a markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return "#" + text.replace(" ", "-")


def headings(parts: list[str], level: str = "## ") -> list[str]:
    """The headings of ``level`` (``## `` or ``### ``) of the rendered sections, in order."""
    return [line[len(level):].strip() for part in parts for line in part.splitlines() if line.startswith(level)]


def linker(main: list[str], appendix: list[str], appendix_name: str = "APPENDIX.md"):
    """``see(key)``: a markdown link ``([label](#anchor))`` to the first heading that starts with ``TARGETS[key]``."""
    found = [(h, "") for h in headings(main) + headings(main, "### ")]
    found += [(h, appendix_name) for h in headings(appendix) + headings(appendix, "### ")]

    def see(key: str) -> str:
        start, label = TARGETS[key]
        hit = next(((h, f) for h, f in found if h.startswith(start)), None)
        return "" if hit is None else f"([{label}]({hit[1]}{anchor(hit[0])}))"
    return see


def tally_part(ledger: list[dict], see) -> str:
    """``## Verdicts on the sources' claims``: what an arm, a verdict and provisional mean, then the tally."""
    out = ["## Verdicts on the sources' claims\n",
           f"Every checkable claim of the sources is judged by a decision rule fixed in the code, on each arm it "
           f"has {see('ledger')}. {GLOSSARY['arm']} {GLOSSARY['verdict']} {GLOSSARY['provisional']}\n"]
    out += [f"- {tally_text(ledger, a)}." for a in ARMS]
    return "\n".join(out) + "\n"


def top(ctx, main: list[str], appendix: list[str]) -> str:
    """Answers, verdict tally, glossary, contents (report and appendix) and the source key."""
    see = linker(main, appendix)
    records = ledger_records(ctx)
    ledger = claims_ledger({k: v for k, v in records.items() if v})
    out = [answers(ctx, see, ledger)]
    if any(records.values()):
        out.append(tally_part(ledger, see))
    out.append(glossary())
    out.append("## Contents\n")
    out.append("\n".join(f"- [{h}]({anchor(h)})" for h in headings(main)))
    if appendix:
        out.append("- [Appendix](APPENDIX.md): " + "; ".join(f"[{h}](APPENDIX.md{anchor(h)})"
                                                           for h in headings(appendix)) + "\n")
    out.append("**Source references.** The claims and settings come from the documents the project started "
               "from, cited by number (\"source 000\", or `000 §2.6.2` for its section 2.6.2):\n")
    out.append("\n".join(f"- `{num}`: {text}." for num, text in SOURCE_KEY) + "\n")
    return "\n".join(out)
