"""Where things live: the repository root, the committed reports folders and the data file (one copy of these paths).

In a checkout (``pyproject.toml`` and ``reports/`` beside the package) everything
is relative to the repository. Installed (a wheel in site-packages) nothing is
written next to the package: ``reports/`` and ``runs/`` are under the working
folder, the data file lives in the user data folder (``$PADDLE_MNIST_DATA``
overrides it; ``prepare-data`` writes it there) and the headline models are read
from the package's own ``models/`` folder (copied from ``reports/models`` when the
wheel is built).

    python -c "from paddle_mnist.paths import DATA_FILE, MODELS; print(DATA_FILE, MODELS)"
"""
from __future__ import annotations

import os
from pathlib import Path

try:
    from platformdirs import user_data_dir as _platform_data_dir
except ImportError:  # optional: the XDG default is used without it
    _platform_data_dir = None

PACKAGE = Path(__file__).resolve().parent
CHECKOUT = (PACKAGE.parent / "pyproject.toml").is_file() and (PACKAGE.parent / "reports").is_dir()
REPO = PACKAGE.parent if CHECKOUT else Path.cwd()


def user_data_dir() -> Path:
    """``platformdirs.user_data_dir("paddle_mnist")`` if installed, else ``$XDG_DATA_HOME/paddle_mnist``
    (default ``~/.local/share/paddle_mnist``)."""
    if _platform_data_dir is None:
        base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        return Path(base) / "paddle_mnist"
    return Path(_platform_data_dir("paddle_mnist", appauthor=False))


DATA_FILE = REPO / "data" / "mnist.json.gz" if CHECKOUT else user_data_dir() / "mnist.json.gz"
REPORTS = REPO / "reports"
RESULTS = REPORTS / "results"
MODELS = REPORTS / "models" if CHECKOUT else PACKAGE / "models"  # read-only when installed
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
