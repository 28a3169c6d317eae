"""Where things live: the repository root and the committed reports folders (the one copy of these paths).

    python -c "from paddle_mnist.paths import REPO, RESULTS; print(RESULTS.relative_to(REPO))"
"""
from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA_FILE = REPO / "data" / "mnist.json.gz"
REPORTS = REPO / "reports"
RESULTS = REPORTS / "results"
MODELS = REPORTS / "models"
FIGURES = REPORTS / "figures"
BENCH = REPORTS / "bench"
NOTEBOOKS = REPO / "notebooks"


def shown(path) -> str:
    """``path`` relative to the repository when it lies inside it, else as given (for committed records)."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(REPO))
    except ValueError:
        return str(p)
