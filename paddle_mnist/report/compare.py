"""Two reproduces' claim verdicts side by side: per claim and arm, both verdicts and whether they agree.

Each side is a results folder (the ledger's records, ``studies.claims.RESULT_NAMES``) with the benchmark folder
beside it (``../bench``: the timing claims' records); nothing is written.

    python -m paddle_mnist report --compare runs/other/results
"""
from __future__ import annotations

from pathlib import Path

from paddle_mnist.errors import PaddleMnistError
from paddle_mnist.format import table
from paddle_mnist.paths import REPORTS, shown
from paddle_mnist.records import read_json
from paddle_mnist.studies.claims import BENCH_NAMES, RESULT_NAMES, claims_ledger, decided, verdict_changes

LEDGER_ERRORS = (KeyError, TypeError, IndexError, ValueError, AttributeError, ZeroDivisionError)


def load_records(results_dir) -> dict:
    """The ledger's records from ``results_dir`` and its ``../bench``; a missing folder, a folder without any of
    them or a file that is not a JSON object is a one-line ``PaddleMnistError``."""
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise PaddleMnistError(f"{results_dir}: not a results folder (expected the folder of a reproduce's "
                               "results/*.json)")
    out = {}
    for folder, names in ((results_dir, RESULT_NAMES), (results_dir.parent / "bench", BENCH_NAMES)):
        for name in names:
            path = folder / f"{name}.json"
            if path.is_file():
                out[name] = read_json(path)
                if not isinstance(out[name], dict):
                    raise PaddleMnistError(f"{path}: not a results record (expected a JSON object)")
    if not any(n in out for n in RESULT_NAMES):
        raise PaddleMnistError(f"{results_dir}: holds none of the records the claims ledger reads "
                               f"({', '.join(f'{n}.json' for n in RESULT_NAMES)})")
    return out


def ledger_of(results_dir) -> list[dict]:
    """The claims ledger decided from ``results_dir`` (``load_records``); a record of the wrong shape: one line."""
    try:
        return claims_ledger(load_records(results_dir))
    except LEDGER_ERRORS as exc:
        raise PaddleMnistError(f"{results_dir}: a record the claims ledger cannot read ({type(exc).__name__}: "
                               f"{exc})") from None


def _label(v: dict | None) -> str:
    if v is None:
        return "—"
    return v["verdict"] + (f" ({v['why']})" if v.get("why") else "")


def compare_text(other_dir, base_dir=None) -> str:
    """A table of every claim and arm: the verdict from ``base_dir`` (default reports/results), the one from
    ``other_dir``, and whether they agree; then how many agree and each that does not, old → new."""
    base_dir = Path(base_dir) if base_dir is not None else REPORTS / "results"
    base, other = ledger_of(base_dir), ledger_of(other_dir)
    a = {(c["id"], arm): v for c, arm, v in decided(base)}
    b = {(c["id"], arm): v for c, arm, v in decided(other)}
    changes = verdict_changes(base, other)
    changed = {(i, arm) for i, arm, _, _ in changes}
    keys = list(dict.fromkeys([*a, *b]))
    rows = [[i, arm, _label(a.get((i, arm))), _label(b.get((i, arm))), "**no**" if (i, arm) in changed else "yes"]
            for i, arm in keys]
    out = [table(["claim", "arm", shown(base_dir), shown(Path(other_dir)), "agree"], rows)]
    out.append(f"{len(keys) - len(changed)} of {len(keys)} verdicts agree" + (
        "; differ: " + "; ".join(f"{i} ({arm}) {old} → {new}" for i, arm, old, new in changes) if changes else "."))
    return "\n".join(out)
