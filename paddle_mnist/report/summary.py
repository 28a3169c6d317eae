"""The top of ``reports/REPORT.md``: a one-screen summary, the contents and a key to the source references.

The summary quotes the headline models (the variant with the best mean ``valid``
accuracy, scored on ``eval``) and the tally of the claims ledger's verdicts; every
figure comes from ``reports/results/*.json``.

    python -m paddle_mnist report
"""
from __future__ import annotations

import re

from paddle_mnist.report.format import pct, pm

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


def anchor(heading: str) -> str:
    """GitHub's anchor of a markdown heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return "#" + text.replace(" ", "-")


def headings(parts: list[str]) -> list[str]:
    """The ``## `` headings of the rendered sections, in order."""
    return [line[3:].strip() for part in parts for line in part.splitlines() if line.startswith("## ")]


def summary(ctx, parts: list[str]) -> str:
    """Headline accuracies, the verdict tally and the contents, linked to the sections."""
    from paddle_mnist.engine.runner import headline_variant
    from paddle_mnist.report.claims import tally_text
    from paddle_mnist.studies.claims import ARMS, RESULT_NAMES, claims_ledger

    heads = headings(parts)
    link = {h.split(" ", 1)[0]: anchor(h) for h in heads}
    out = ["## Summary\n"]
    for name, what, sec in (("softmax", "Softmax classifier", "1.2.1"), ("mlp", "784-200-200-10 net", "1.2.2")):
        rec = ctx.load(name)
        if rec is None:
            out.append(f"- {what}: no results yet (`python -m paddle_mnist train {name}`).")
            continue
        v = headline_variant(rec["summary"])
        s = rec["summary"][v]
        out.append(f"- [{what}]({link.get(sec, '')}), headline variant `{v}`: `eval` accuracy "
                   f"**{pm(s['test_acc_mean'], s['test_acc_std'])}** over {s['n_ok']} seeds "
                   f"(`valid` {pct(s['valid_acc_mean'])}).")
    records = {n: ctx.load(n) for n in RESULT_NAMES}
    if any(records.values()):
        ledger = claims_ledger({k: v for k, v in records.items() if v})
        link = next((anchor(h) for h in heads if h.startswith("Claims ledger")), "")
        out.append(f"- [Claims ledger]({link}) of the source documents' checkable claims, verdicts per arm:")
        out += [f"  - {tally_text(ledger, a)}." for a in ARMS]
    out.append("\n**Contents**\n")
    out += [f"- [{h}]({anchor(h)})" for h in heads]
    out.append("\n**Source references.** The claims and settings come from the documents the project started "
               "from, cited by number:\n")
    out += [f"- `{num}`: {text}." for num, text in SOURCE_KEY]
    return "\n".join(out) + "\n"
