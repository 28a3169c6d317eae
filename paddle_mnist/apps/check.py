"""``check``: hold a student's own solution against the reference, one line per finding.

The student's pieces are found by their course names (``load_data``, the ``paddle.nn.Layer``
subclasses, an optional ``train``) and run in a child process with time and memory limits
(``check_child``): 1. the data API (``check_data``), 2. each net (``check_nets``), 3. a short
training against the reference runs' seed band (``check_train``, ``check_band``). The report
card is printed as a table and written with a figure to ``runs/check/<solution>/``; each line
links the REPORT section that explains it (``LINKS``, the one table of those links).

    python -m paddle_mnist check my_solution.py --steps 500
"""
from __future__ import annotations

import io
import os
import sys
import time
from pathlib import Path

from paddle_mnist.apps.check_band import compare, same_data
from paddle_mnist.apps.check_child import LIMITS, CheckFailure, Inline, Isolated
from paddle_mnist.apps.check_source import line, read_source
from paddle_mnist.datafile.store import PREPARE_HINT, default_path
from paddle_mnist.errors import PaddleMnistError
from paddle_mnist.paths import REPO, RESULTS, shown
from paddle_mnist.plots.common import new_figure
from paddle_mnist.records import atomic_write_bytes, atomic_write_text, read_json

REPORTS_DIR = "reports"
# The report section that explains each kind of line, as FILE#anchor under reports/ (REPORT.md, or APPENDIX.md for
# what the report leaves out): update the anchors here when the report's headings move.
LINKS = {
    "load": "REPORT.md#answers-to-the-assignment",
    "data": "REPORT.md#11-data",
    "data_api": "REPORT.md#11-data",
    "data_speed": "REPORT.md#11-data",
    "input_scale": "APPENDIX.md#input-standardisation-002-12",
    "shuffle": "APPENDIX.md#batch-mini-batch-and-stochastic-gradient-descent-002-3-5",
    "nets": "REPORT.md#122-fully-connected-network-24",
    "double_softmax": "REPORT.md#261-262-loss-functions-cross-entropy-vs-squared-error",
    "labels": "REPORT.md#261-262-loss-functions-cross-entropy-vs-squared-error",
    "dropout": "REPORT.md#263-264-dropout",
    "lr": "REPORT.md#27-optimizers",
    "nan": "REPORT.md#27-optimizers",
    "train": "REPORT.md#122-fully-connected-network-24",
    "curve": "REPORT.md#122-fully-connected-network-24",
}
STATUSES = ("passed", "warned", "failed")


def link(key: str) -> str:
    return f"{REPORTS_DIR}/{LINKS[key]}"


def double_softmax_reference(results_dir=RESULTS) -> dict:
    """The course arm's measured cost of a softmax inside ``forward`` (loss floor, test accuracies)."""
    path = Path(results_dir) / "course.json"
    if not path.is_file():
        return {}
    rec = read_json(path)
    s = rec.get("summary", {})
    try:
        return {"floor": rec["reference"]["double_softmax_floor"], "acc": s["double_softmax"]["test_acc_mean"],
                "acc_logits": s["logits"]["test_acc_mean"],
                "lowest": rec["analysis"]["loss"]["double_softmax"]["lowest_logged_loss_min"]}
    except (KeyError, TypeError):
        return {}


def dropout_reference(results_dir=RESULTS) -> dict:
    """Mean test accuracy of the dropout study's MLP per dropout rate: ``{"0.2": 0.9805, ...}``."""
    path = Path(results_dir) / "dropout.json"
    summary = read_json(path).get("summary", {}) if path.is_file() else {}
    return {k.removeprefix("dropout_"): v["test_acc_mean"] for k, v in summary.items()
            if k.startswith("dropout_") and isinstance(v, dict) and v.get("test_acc_mean") is not None}


def default_out(path) -> Path:
    return Path("runs") / "check" / Path(path).stem


def check_out_dir(out) -> Path:
    """The output folder, refused inside reports/ (written only by reproduce, train --record and benchmarks)."""
    out = Path(out)
    if out.is_symlink():
        raise PaddleMnistError(f"--out {out}: a symbolic link; give a real folder")
    if out.exists() and not out.is_dir():
        raise PaddleMnistError(f"--out {out}: is a file, not a folder")
    reports = (REPO / "reports").resolve()
    if out.resolve() == reports or reports in out.resolve().parents:
        raise PaddleMnistError(f"--out {out}: inside reports/, which only reproduce and train --record write")
    return out


def make_spec(path, *, net=None, loader=None, steps=500, seed=0, memory_gb=4.0, results_dir=RESULTS) -> dict:
    return {"path": str(Path(path).resolve()), "net": list(net) if net else None, "loader": loader,
            "steps": int(steps), "seed": int(seed), "memory_gb": memory_gb, "data_path": None,
            "data_file": str(default_path()), "double_softmax": double_softmax_reference(results_dir),
            "dropout": dropout_reference(results_dir)}


def plan(pieces: dict) -> tuple[list[dict], list[dict]]:
    """The check groups to run for the pieces found, and the lines for pieces that are missing."""
    groups, lines = [{"check": "data"}], []
    nets = sorted(pieces["nets"], key=lambda e: (e["role"] is None, e["name"]))
    for name in pieces.get("missing_nets") or []:
        lines.append(line("nets", "found", "failed", f"--net {name}: no such class in the solution", "nets", name))
    if not nets:
        lines.append(line("nets", "found", "failed", "no paddle.nn.Layer subclass found; name yours with --net NAME",
                          "nets"))
    groups += [{"check": "nets", "net": e["name"]} for e in nets]
    trainable = [e["name"] for e in nets if not e["error"] and (e["role"] or not any(n["role"] for n in nets))]
    if pieces.get("train") and not pieces.get("train_takes_model"):
        groups.append({"check": "train", "net": None})
    else:
        groups += [{"check": "train", "net": n} for n in trainable]
    return groups, lines


def check_solution(path, *, net=None, loader=None, steps=500, seed=0, isolate=True, limits=None, memory_gb=4.0,
                   results_dir=RESULTS, log=None) -> dict:
    """Run every check on a solution file; the report card ``{"solution", "lines", "figures", "seconds"}``."""
    read_source(path)  # bad input is one line before any work
    if not default_path().is_file():
        raise PaddleMnistError(f"{shown(default_path())}: no data file; make it with {PREPARE_HINT}")
    t0 = time.perf_counter()
    spec = make_spec(path, net=net, loader=loader, steps=steps, seed=seed, memory_gb=memory_gb,
                     results_dir=results_dir)
    scaled = dict(LIMITS, train=LIMITS["train"] * max(1.0, steps / 500))  # longer training, longer limit
    runner = (Isolated if isolate else Inline)(spec, dict(scaled, **(limits or {})))
    card = {"solution": Path(path).name, "steps": int(steps), "lines": [], "figures": []}
    try:
        pieces = runner.load()
    except CheckFailure as exc:
        card["lines"].append(line("load", "import", "failed", f"the solution could not be imported: {exc}", "load"))
        return dict(card, seconds=time.perf_counter() - t0)
    groups, card["lines"] = plan(pieces)
    data_ok = same_data(spec["data_file"], results_dir)
    try:
        for group in groups:
            if log:
                log(f"check: {group['check']} {group.get('net') or ''}".rstrip())
            card["lines"] += _run_group(runner, group, data_ok, card, results_dir)
    finally:
        runner.close()
    return dict(card, seconds=time.perf_counter() - t0)


def _run_group(runner, group: dict, data_ok: bool, card: dict, results_dir) -> list:
    subject = group.get("net") or ""
    try:
        result = runner.run(group)
    except CheckFailure as exc:
        return [line(group["check"], "group", "failed", str(exc), "train" if group["check"] == "train" else
                     "data_api" if group["check"] == "data" else "nets", subject)]
    lines = list(result["lines"])
    if result.get("run"):
        compared = compare(result["run"], data_ok, results_dir)
        lines += compared["lines"]
        card["figures"].append(compared["figure"])
    return lines


def exit_code(card: dict) -> int:
    return 1 if any(ln["status"] == "failed" for ln in card["lines"]) else 0


def counts(card: dict) -> str:
    return ", ".join(f"{sum(ln['status'] == s for ln in card['lines'])} {s}" for s in STATUSES)


def render_table(card: dict) -> str:
    """The report card for the terminal: one row per line, status first."""
    rows = [("result", "check", "net", "hint", "explained in")]
    rows += [(ln["status"], f"{ln['check']}.{ln['name']}", ln["subject"] or "-", ln["hint"], link(ln["link"]))
             for ln in card["lines"]]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    out = [f"check {card['solution']}: {counts(card)} ({card['seconds']:.1f} s)"]
    for r in rows:
        out.append("  ".join(c.ljust(w) for c, w in zip(r[:3], widths)) + f"  {r[3]}  [{r[4]}]")
    return "\n".join(out)


def render_markdown(card: dict, out: Path) -> str:
    rel = Path(os.path.relpath(REPO / REPORTS_DIR, out.resolve())).as_posix()
    esc = lambda s: s.replace("|", "\\|")  # noqa: E731
    text = [f"# check: {card['solution']}", "",
            f"{counts(card)}; {card['steps']} training steps; {card['seconds']:.1f} s. Exit status "
            f"{exit_code(card)} (1 when any line failed).", "",
            "| result | check | net | hint | explained in |", "|---|---|---|---|---|"]
    text += [f"| {ln['status']} | {ln['check']}.{ln['name']} | {ln['subject'] or '-'} | {esc(ln['hint'])} | "
             f"[{LINKS[ln['link']]}]({rel}/{LINKS[ln['link']]}) |" for ln in card["lines"]]
    if card["figures"]:
        text += ["", "![your training loss over the reference band](curves.png)", "",
                 "_Train loss (mean of each logged window) of your run, over the reference runs' seed band "
                 "(95% prediction interval of one more seed) of the same configuration._"]
    return "\n".join(text) + "\n"


def plot_card(card: dict):
    figs = card["figures"]
    fig, axes = new_figure(len(figs))
    for ax, f in zip(axes, figs):
        if f["band"]:
            m, lo, hi = zip(*f["band"])
            ax.fill_between(f["marks"], lo, hi, color="#7f7f7f", alpha=0.3, label="reference band")
            ax.plot(f["marks"], m, color="#7f7f7f", lw=1, label="reference mean")
        ax.plot(f["marks"], f["student"], color="#d62728", marker=".", label="your run")
        ax.set(title=f"{f['net']}: {f['label']}"[:70], xlabel="step", ylabel="train loss")
        ax.title.set_fontsize(8)
        ax.legend(fontsize=7)
    return fig


def write_card(card: dict, out) -> list[Path]:
    """``check.md`` (and ``curves.png`` when training ran) in ``out``, each written atomically."""
    out = check_out_dir(out)
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "check.md"]
    atomic_write_text(written[0], render_markdown(card, out))
    if card["figures"]:
        buf = io.BytesIO()
        plot_card(card).savefig(buf, format="png", dpi=110)
        atomic_write_bytes(out / "curves.png", buf.getvalue())
        written.append(out / "curves.png")
    return written


def run(args) -> int:
    """The CLI: check, print the table, write the card; exit 1 when a line failed."""
    read_source(args.solution)
    out = check_out_dir(args.out or default_out(args.solution))
    card = check_solution(args.solution, net=args.net, loader=args.loader, steps=args.steps, seed=args.seed,
                          memory_gb=args.memory_gb, log=lambda m: print(m, file=sys.stderr, flush=True))
    print(render_table(card))
    written = write_card(card, out)
    print(f"report card: {', '.join(shown(p) for p in written)}")
    return exit_code(card)
