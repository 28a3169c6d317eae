"""Thin helpers for ``notebooks/``: load a results file (or run the experiment ``--quick`` and say so),
the data-exploration figures, and ``execute_notebooks`` to (re)run the notebook set headless.

Each study notebook first shows the few lines of plain Paddle its section is about
(from ``paddle_mnist.course.mnist``, editable, trained for a few hundred steps), then
redraws the reference figures from the results with these functions,
``paddle_mnist.plots.common`` and the study plot modules. Like ``plots``, every
figure is a ``matplotlib.figure.Figure`` built without pyplot.

``PADDLE_MNIST_NOTEBOOK_QUICK=1`` (set by the notebook tests) makes notebooks
ignore ``reports/results`` and use ``--quick`` results under
``$PADDLE_MNIST_NOTEBOOK_RUNS`` (default ``runs/``), training them when missing.

    jupytext --sync notebooks/*.py && python -m paddle_mnist.apps.notebooks   # re-execute every notebook
"""
from __future__ import annotations

import os
import time
from pathlib import Path
import argparse

import numpy as np

from paddle_mnist.plots.common import COLORS, new_figure, save
from paddle_mnist.records import read_json

from paddle_mnist.paths import NOTEBOOKS, REPO, RESULTS
from paddle_mnist.format import num  # noqa: F401  (the notebooks call nh.num)
from paddle_mnist.engine.runner import headline_variant, results_dir_for
from paddle_mnist.studies import run_experiment
from paddle_mnist.report.claims import evidence, verdict_text
from paddle_mnist.format import table
from paddle_mnist.studies.claims import ARM_NAMES, claims_ledger, decided, decided_by
from paddle_mnist.datafile.store import read_arrays, summarize
# deferred: nbformat, nbclient, jupytext (only when notebooks are built or run)
QUICK_ENV = "PADDLE_MNIST_NOTEBOOK_QUICK"
RUNS_ENV = "PADDLE_MNIST_NOTEBOOK_RUNS"
SPLIT_SOURCE = {"train": "official training images 1-50,000", "valid": "official training images 50,001-60,000",
                "eval": "official test set (10,000)"}


# ------------------------------------------------------------------ results
def in_quick_mode() -> bool:
    """True when ``$PADDLE_MNIST_NOTEBOOK_QUICK`` is set to 1/true/yes/on."""
    return os.environ.get(QUICK_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def runs_dir() -> Path:
    """Where ``--quick`` runs go: ``$PADDLE_MNIST_NOTEBOOK_RUNS`` or the repository's ``runs/``."""
    env = os.environ.get(RUNS_ENV)
    return Path(env) if env else REPO / "runs"


def _shown(path: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(REPO))
    except ValueError:
        return str(path)


def results_or_quick(name: str, *, fresh: bool = False, needs: str | None = None, log=print) -> dict:
    """The results record of experiment ``name``.

    ``reports/results/<name>.json`` when it exists (and not in quick mode) and holds the key ``needs``;
    otherwise ``--quick`` results, reused from ``runs/quick/results`` when present and holding ``needs``
    (unless ``fresh``) or trained now with ``runner.run_experiment(name, quick=True)``.
    Always says which.
    """
    if not in_quick_mode():
        path = RESULTS / f"{name}.json"
        record = read_json(path) if path.is_file() else None
        if record is not None and (needs is None or needs in record):
            log(f"{name}: results from {_shown(path)} (written {record.get('created', '?')})")
            return record
        why = "is missing" if record is None else f"has no {needs!r} (written before it was measured)"
        log(f"{name}: {_shown(path)} {why} (full results come from `python -m paddle_mnist train {name}`); "
            "using --quick results instead")
    runs = runs_dir()
    path = results_dir_for(True, runs) / f"{name}.json"
    if path.is_file() and not fresh and (needs is None or needs in read_json(path)):
        record = read_json(path)
        log(f"{name}: --quick results from {_shown(path)} (written {record.get('created', '?')})")
        return record
    log(f"{name}: running `python -m paddle_mnist train {name} --quick --runs-dir {_shown(runs)}` "
        "(smoke-test settings, not the report's numbers)")
    started = time.perf_counter()
    record = run_experiment(name, quick=True, runs_dir=runs, progress=False, log=lambda *a, **k: None)
    log(f"{name}: --quick run finished in {time.perf_counter() - started:.1f} s -> {_shown(path)}")
    return record


def settings_note(record: dict, epochs: bool = True) -> str:
    """One markdown sentence: full or ``--quick`` results, seeds and (``epochs``) epochs per run."""
    s = record.get("settings", {})
    seeds = s.get("seeds") or []
    n = max((len(r["history"]["epoch"]) for r in record.get("runs", []) if "history" in r), default=0)
    what = (f"{len(seeds)} seed{'s' if len(seeds) != 1 else ''} ({', '.join(map(str, seeds))})"
            + (f", {n} epoch{'s' if n != 1 else ''} per run" if epochs else ""))
    if s.get("quick"):
        return (f"**These are `--quick` smoke-test results** ({what}, on a subset of the training data), "
                "not the report's numbers; run the full experiment and re-execute the notebook for those.")
    return f"Full settings: {what}, results written {record.get('created', '?')}."


def headline(record: dict) -> tuple[str, dict]:
    """The variant with the best mean ``valid`` accuracy (never ``eval``) and its summary row."""
    best = headline_variant(record["summary"])
    return best, record["summary"][best]


def final_epoch(record: dict, variant: str | None = None) -> dict:
    """Mean over the ok seeds of ``variant`` of the last epoch's train/valid loss and accuracy."""
    runs = [r for r in record["runs"] if r["status"] == "ok" and (variant is None or r["variant"] == variant)]
    keys = ("train_loss", "train_acc", "valid_loss", "valid_acc")
    return {k: float(np.mean([r["history"][k][-1] for r in runs])) for k in keys} | {
        "epochs": min(len(r["history"]["epoch"]) for r in runs)}


def best_runs(record: dict, by=("variant",), metric: str = "best_valid_acc") -> dict:
    """Per group of ``by`` keys, the ok run with the highest ``metric`` (a valid-split metric by default)."""
    best = {}
    for r in record["runs"]:
        if r.get("status") == "ok" and r.get(metric) is not None:
            key = tuple(r[k] for k in by)
            if key not in best or r[metric] > best[key][metric]:
                best[key] = r
    return best


def claims_table(name: str, record: dict, prefix: tuple = ("",), ids=None) -> str:
    """The claims ledger rows (``studies.claims_ledger``) that this study's record decides, as markdown.

    ``prefix``: only claims whose id starts with one of these (the course record decides three sections' claims);
    ``ids``: exactly those claims, every arm they have, whatever their verdict.
    """
    if ids is not None:
        chosen = [(c, a, v) for c, a, v in decided(claims_ledger({name: record})) if c["id"] in ids]
    else:
        chosen = [(c, a, v) for c, a, v in decided_by(name, record) if c["id"].startswith(prefix)]
    rows = [[c["source"], c["claim"], ARM_NAMES[a], evidence(v), verdict_text(v)] for c, a, v in chosen]
    return table(["source", "claim", "arm", "measured evidence", "verdict"], rows) if rows else \
        "_No claims decided here._"


def data_summary(log=print) -> dict:
    """``reports/results/data.json`` when it exists (not in quick mode), else ``data.summarize()``."""
    path = RESULTS / "data.json"
    if path.is_file() and not in_quick_mode():
        log(f"data: summary from {_shown(path)}")
        return read_json(path)
    log("data: summary computed now with paddle_mnist.datafile.store.summarize()")
    return summarize()


def split_table(summary: dict) -> str:
    """A markdown table of the splits: images, source, label counts, pixel statistics."""
    rows = [[m, f"{s['n']:,}", SPLIT_SOURCE.get(m, ""), " ".join(str(c) for c in s["label_counts"]),
             f"{s['pixel_mean']:.4f}", f"{s['pixel_std']:.4f}", f"{s['ink_fraction']:.3f}"]
            for m, s in summary["splits"].items()]
    return table(["split", "images", "from", "label counts 0-9", "mean pixel", "pixel std", "ink fraction"], rows)


def balance_facts(summary: dict, split: str = "train") -> dict:
    """The most and least frequent digit of a split and their shares."""
    counts = np.asarray(summary["splits"][split]["label_counts"], dtype=float)
    share = counts / counts.sum()
    hi, lo = int(share.argmax()), int(share.argmin())
    return {"split": split, "most": hi, "most_share": float(share[hi]), "least": lo,
            "least_share": float(share[lo]), "ratio": float(share[hi] / share[lo])}


# ------------------------------------------------------------------ data-exploration figures
def _arrays(arrays):
    return arrays if arrays is not None else read_arrays()


def plot_sample_grid(arrays=None, split: str = "train", per_class: int = 10, out=None):
    """The first ``per_class`` images of each digit in ``split``: one row per class."""
    x, y = _arrays(arrays)[split]
    y = np.asarray(y)
    fig, axes = new_figure(1, 1, size=(per_class * 0.6 + 0.6, 10 * 0.6 + 0.5))
    ax = axes[0]
    grid = np.ones((10 * 29 - 1, per_class * 29 - 1), dtype=np.float32)
    for digit in range(10):
        for j, i in enumerate(np.flatnonzero(y == digit)[:per_class]):
            grid[digit * 29:digit * 29 + 28, j * 29:j * 29 + 28] = 1.0 - np.asarray(x[i]).reshape(28, 28)
    ax.imshow(grid, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_yticks([d * 29 + 14 for d in range(10)], [str(d) for d in range(10)])
    ax.set_xticks([])
    ax.set(ylabel="label", title=f"First {per_class} '{split}' images of each digit")
    save(fig, out)
    return fig


def plot_class_balance(summary: dict, out=None):
    """Share of each digit per split, against the uniform 10%."""
    fig, axes = new_figure(1, 1, size=(7.0, 3.4))
    ax = axes[0]
    splits = list(summary["splits"])
    width = 0.8 / len(splits)
    for k, mode in enumerate(splits):
        counts = np.asarray(summary["splits"][mode]["label_counts"], dtype=float)
        ax.bar(np.arange(10) + (k - (len(splits) - 1) / 2) * width, 100 * counts / counts.sum(), width,
               color=COLORS[k % len(COLORS)], label=f"{mode} ({int(counts.sum()):,})")
    ax.axhline(10, color="k", lw=0.8, ls="--", label="uniform 10%")
    ax.set(xticks=range(10), xlabel="digit", ylabel="share of the split (%)", title="Class balance per split",
           ylim=(0, None))
    ax.set_ylim(0, ax.get_ylim()[1] * 1.2)  # room for the legend above the bars
    ax.legend(fontsize=8, ncols=4, loc="upper center")
    ax.grid(alpha=0.3, axis="y")
    save(fig, out)
    return fig


def plot_pixel_statistics(arrays=None, split: str = "train", out=None):
    """Mean and standard deviation of each pixel over ``split``, and the distribution of pixel values."""
    x, _ = _arrays(arrays)[split]
    x = np.asarray(x, dtype=np.float32)
    fig, axes = new_figure(3, 1, size=(3.6, 3.4))
    for ax, img, title in ((axes[0], x.mean(axis=0), "mean of each pixel"),
                           (axes[1], x.std(axis=0), "std of each pixel")):
        im = ax.imshow(img.reshape(28, 28), cmap="viridis", interpolation="nearest")
        ax.set(title=f"{split}: {title}", xticks=[], yticks=[])
        fig.colorbar(im, ax=ax, shrink=0.8)
    counts, edges = np.histogram(x, bins=50, range=(0.0, 1.0))
    axes[2].bar(edges[:-1], counts / x.size, width=edges[1] - edges[0], align="edge", color=COLORS[0])
    axes[2].set(yscale="log", xlabel="pixel value", ylabel="fraction of pixels (log)",
                title=f"{split}: pixel values ({x.size:,})")
    axes[2].grid(alpha=0.3)
    save(fig, out)
    return fig


def plot_split(summary: dict, out=None):
    """The three splits as one bar: their sizes, with the role of each in the legend."""
    roles = {"train": "fits the weights", "valid": "chooses epochs and variants",
             "eval": "scored once, chooses nothing"}
    fig, axes = new_figure(1, 1, size=(8.0, 2.3))
    ax = axes[0]
    left = 0
    for k, (mode, s) in enumerate(summary["splits"].items()):
        ax.barh(0, s["n"], left=left, color=COLORS[k % len(COLORS)], edgecolor="white",
                label=f"{mode}: {roles.get(mode, '')}")
        ax.text(left + s["n"] / 2, 0, f"{mode}\n{s['n']:,}", ha="center", va="center", color="white", fontsize=9)
        left += s["n"]
    ax.set(xlim=(0, left), yticks=[], xlabel="images",
           title="The split: official 60k training images -> train + valid; official 10k test images -> eval")
    fig.legend(loc="outside lower center", ncols=3, fontsize=8, frameon=False)
    save(fig, out)
    return fig


# ------------------------------------------------------------------ running the notebooks
def notebook_sources(folder=None) -> list[Path]:
    """The jupytext ``py:percent`` sources ``notebooks/NN_*.py`` in section order."""
    return sorted(Path(folder or NOTEBOOKS).glob("[0-9][0-9]_*.py"))


def execute_notebooks(paths=None, *, quick: bool = False, runs=None, write: bool = True, timeout: int = 1200,
                      log=print) -> list:
    """Execute notebooks headless (kernel ``python3``) from their ``.py`` sources; return the executed notebooks.

    Each ``NN_name.py`` is read with jupytext, executed with nbclient in its own
    folder, and (``write``) saved with its outputs as the paired ``NN_name.ipynb``.
    ``quick`` sets ``PADDLE_MNIST_NOTEBOOK_QUICK=1`` for the kernel; ``runs`` sets
    ``PADDLE_MNIST_NOTEBOOK_RUNS``. A cell error raises ``nbclient``'s
    ``CellExecutionError`` naming the cell.
    """
    import jupytext
    from nbclient import NotebookClient

    paths = [Path(p) for p in (paths if paths is not None else notebook_sources())]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    env.pop(QUICK_ENV, None)
    if quick:
        env[QUICK_ENV] = "1"
    if runs is not None:
        env[RUNS_ENV] = str(Path(runs).resolve())
    env.setdefault("MPLBACKEND", "agg")
    done = []
    for path in paths:
        started = time.perf_counter()
        nb = jupytext.read(path)
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}})
        client.execute(env=env)
        if write:
            _keep_cell_ids(nb, path.with_suffix(".ipynb"))
            jupytext.write(nb, path.with_suffix(".ipynb"))
        log(f"{path.name}: executed in {time.perf_counter() - started:.1f} s"
            f"{' -> ' + path.with_suffix('.ipynb').name if write else ''}")
        done.append(nb)
    return done


def _keep_cell_ids(nb, ipynb: Path) -> None:
    """Give re-executed cells the ids the committed notebook had (same position, same kind): diffs stay small."""
    import nbformat

    if not ipynb.is_file():
        return
    old = nbformat.read(ipynb, as_version=4).cells
    for i, cell in enumerate(nb.cells):
        if i < len(old) and old[i].cell_type == cell.cell_type and "id" in old[i]:
            cell["id"] = old[i]["id"]


def main(argv=None) -> int:
    """``python -m paddle_mnist.apps.notebooks [--quick] [--runs DIR] [NN_name ...]``: re-execute notebooks."""
    p = argparse.ArgumentParser(prog="python -m paddle_mnist.apps.notebooks",
                                description="Execute notebooks/NN_*.py headless and save the paired .ipynb with "
                                            "outputs (from reports/results; --quick runs where a file is missing).")
    p.add_argument("names", nargs="*", help="notebook stems, e.g. 02_softmax (default: all, in order)")
    p.add_argument("--quick", action="store_true", help="ignore reports/results; use --quick results")
    p.add_argument("--runs", default=None, help="runs folder for --quick runs (default: runs)")
    args = p.parse_args(argv)
    paths = notebook_sources()
    if args.names:
        unknown = set(args.names) - {q.stem for q in paths}
        if unknown:
            p.error(f"unknown notebook(s) {', '.join(sorted(unknown))}; choose from {', '.join(q.stem for q in paths)}")
        paths = [q for q in paths if q.stem in args.names]
    execute_notebooks(paths, quick=args.quick, runs=args.runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
