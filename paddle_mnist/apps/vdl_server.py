"""VisualDL's server with a readable hyper-parameter page; ``apps.dashboard`` runs this file.

VisualDL 2.5.3 stores scalars as float32 and its hyper-parameter table shows a metric as the float32 widened to
a double (0.9395 reads ``0.9394999742507935``), and it names that table's trials by their log folder
(``vdl/mlp/adam-se…``) where every other page uses the run's display name. This script rounds the metrics of
``lib.get_hparam_list`` (the table, and through it the CSV/TSV download) to 4 decimals and names its rows by
their display names (``mlp/adam-seed0``), then runs VisualDL's own ``main`` with the same arguments. It imports
only VisualDL, so it runs from the runs folder without the package installed.

    python paddle_mnist/apps/vdl_server.py --logdir vdl --port 8040 --language en --disable-telemetry
"""
from __future__ import annotations

import functools
import sys
# deferred: visualdl (the dashboard's server, only when it serves)

DIGITS = 4


def rounded(rows: list[dict], names: dict) -> list[dict]:
    """``get_hparam_list``'s rows named by their runs' display names (``names``: folder -> display name; VisualDL
    names every other page's runs so, this one by folder) with every float metric rounded to ``DIGITS`` decimals."""
    for row in rows:
        row["name"] = names.get(row["name"], row["name"])
        row["metrics"] = {name: round(value, DIGITS) if isinstance(value, float) else value
                          for name, value in row.get("metrics", {}).items()}
    return rows


def patch(lib) -> None:
    original = lib.get_hparam_list

    @functools.wraps(original)
    def get_hparam_list(log_reader):
        return rounded(original(log_reader), log_reader.tags2name)

    lib.get_hparam_list = get_hparam_list  # the API and get_hparam_data look it up in the module at each call


def main() -> None:
    from visualdl.server import app, lib

    patch(lib)
    sys.argv[0] = "visualdl"
    app.main()


if __name__ == "__main__":
    main()
