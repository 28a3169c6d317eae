"""``reports/REPORT.md`` and ``reports/APPENDIX.md`` generated from the results files alone (``reports/results``,
``reports/bench``).

The report opens with the assignment's questions answered (``report.summary``), then
its sections in the assignment's order; the appendix holds the performance figures, the
numpy environment and the model summaries. A section is a function ``(ctx) -> markdown``
listed by ``sections()`` or ``appendix_sections()``; most fill the shared skeleton
``report.context.section`` (heading, parts drawn from one results file, the claims it decides,
the ``--quick`` note, or the command that writes a missing file). Figures come from ``plots``,
numbers are formatted by ``format``; sections never import this module.

    python -m paddle_mnist report
"""
from __future__ import annotations

import datetime as _dt
from pathlib import Path

from paddle_mnist.errors import PaddleMnistError
from paddle_mnist.records import atomic_write_text
from paddle_mnist.paths import REPORTS, shown
from paddle_mnist.report.context import Context, section
from paddle_mnist.report.summary import top
from paddle_mnist.format import pct, pm, table  # noqa: F401  (pct, pm: the notebooks import them from here)
from paddle_mnist.report.performance import section_performance, section_speed
from paddle_mnist.report.init import section_init
from paddle_mnist.report.numpy_nets import section_numpy, section_numpy_environment
from paddle_mnist.report.practice import section_practice
from paddle_mnist.report.scratch import section_trajectories
from paddle_mnist.report.tryouts import is_tryouts, tryouts_report
from paddle_mnist.report.studies import (section_claims, section_dropout, section_hparams, section_loss,
                                         section_optimizers)
from paddle_mnist.engine.runner import headline_variant
from paddle_mnist.plots.common import plot_learning_curves
from paddle_mnist.report.claims import noise_text
from paddle_mnist.report.answers import QUOTED


def summary_table(record: dict) -> str:
    rows = []
    for variant, s in record["summary"].items():
        rows.append([variant, pm(s["test_acc_mean"], s["test_acc_std"]), pm(s["valid_acc_mean"], s["valid_acc_std"]),
                     f"{s['n_ok']}/{s['n_runs']}", s["epochs"],
                     "n/a" if s["seconds_mean"] is None else f"{s['seconds_mean']:.1f} s",
                     ", ".join(s["statuses"])])
    return table(["variant", "test acc (mean ± std)", "best valid acc", "runs ok", "epochs", "train time/run",
                  "status"], rows)


def _data(ctx: Context, d: dict) -> list[str]:
    rows = [["test" if m == "eval" else m, s["n"], " ".join(str(c) for c in s["label_counts"]),
             f"{s['pixel_mean']:.4f}", f"{s['ink_fraction']:.3f}"] for m, s in d["splits"].items()]
    out = [f"`{d['file']}` (md5 `{d['md5']}`) holds {sum(s['n'] for s in d['splits'].values()):,} images: the "
           "first 50,000 official training images are `train`, the last 10,000 `valid`, and the official test set is "
           "`test` (the course's `load_data('eval')`: the assignment's name for it), which is scored once per run "
           "and never used to choose anything.\n",
           table(["split", "images", "label counts 0-9", "mean pixel", "fraction of ink pixels"], rows)]
    b = ctx.bench("data")
    if b:
        r, fresh = b["ratios"], b.get("ours_warm_first_batch_fresh_process_s")
        out.append(f"\n`load_data` reads the file once and memory-maps a cache: a warm call takes "
                   f"{1000 * b['ours_warm_load_s']['median']:.1f} ms against {b['assignment_load_s']['median']:.1f} s "
                   f"for the assignment's loader ({r['warm_load_speedup']:,.0f}x), one epoch of batches "
                   f"{1000 * b['ours_epoch_s']['median']:.0f} ms against {b['assignment_epoch_s']['median']:.2f} s "
                   f"({r['epoch_speedup']:.0f}x); peak memory {b['ours_warm_peak_rss_mb']:.0f} MB against "
                   f"{b['assignment_peak_rss_mb']['median']:.0f} MB (`{b['command']}`)."
                   + (f" A fresh process pays {1000 * fresh['median']:.1f} ms for its first batch with the cache "
                      "warm: the cache is checked by its files' identity (inode, size, times) on every load and "
                      "hashed in full only when that identity changes." if fresh else "") + "\n")
    return out


def section_data(ctx: Context) -> str:
    return section(ctx, "data", "1.1 Data", _data, quick=None, blank_end=True,
                   absent="_No data summary yet: run `python -m paddle_mnist reproduce`._\n")


def _model_section(ctx: Context, name: str, heading: str, target: str) -> str:
    def body(ctx: Context, rec: dict) -> list[str]:
        best = headline_variant(rec["summary"])  # chosen on valid, the rule that picked reports/models/
        s = rec["summary"][best]
        cfg = next(r for r in rec["runs"] if r["variant"] == best)["config"]
        n, seeds = s["n_runs"], ", ".join(str(x) for x in rec["settings"]["seeds"])
        chosen = "" if len(rec["summary"]) == 1 else (
            f" Of the variants ({', '.join(rec['summary'])}), **{best}** has the best mean `valid` accuracy "
            f"({pm(s['valid_acc_mean'], s['valid_acc_std'])}), so it is the headline"
            + "".join(f"; {v}: {pm(o['valid_acc_mean'], o['valid_acc_std'])} ({noise_text(s, o, 'valid_acc')})"
                      for v, o in rec["summary"].items() if v != best) + ".")
        return [f"{rec['description']} Trained for {s['epochs']} epochs with batch {cfg['batch_size']} over {n} "
                f"seed{'s' if n != 1 else ''} ({seeds}); the checkpoint with the best `valid` accuracy of each run is "
                f"scored once on `test`: **{pm(s['test_acc_mean'], s['test_acc_std'])}** ({target}).{chosen}\n",
                ctx.draw(f"{name}_curves", plot_learning_curves, rec, rec["title"]), summary_table(rec) + "\n",
                "Its layers and parameter counts (`paddle.summary`) are in [the appendix](APPENDIX.md#model-summaries)"
                ".\n" if rec.get("model_summary") else ""]
    return section(ctx, name, heading, body)


def _quoted(name: str) -> str:
    value, where = QUOTED[name]
    return f"*quoted* from {where}: about {pct(value)}"


def section_softmax(ctx: Context) -> str:
    return _model_section(ctx, "softmax", "1.2.1 Softmax classifier (2.3)", "target 92.0-92.8%; " + _quoted("softmax"))


def section_mlp(ctx: Context) -> str:
    return _model_section(ctx, "mlp", "1.2.2 Fully connected network (2.4)", "target at least 98.0%; " + _quoted("mlp"))


def section_models(ctx: Context) -> str:
    """``## Model summaries`` (appendix): ``paddle.summary`` of the softmax classifier and the MLP."""
    out = ["## Model summaries\n"]
    for name in ("softmax", "mlp"):
        rec = ctx.load(name)
        if rec and rec.get("model_summary"):
            out.append(f"**{rec['title']}** (`{name}`)\n\n```\n{rec['model_summary'].strip()}\n```\n")
    return "\n".join(out) if len(out) > 1 else out[0] + "_No model summaries yet._\n"


def _determinism(ctx: Context, d: dict) -> list[str]:
    threads = d.get("threads")
    how = (f"; the first on {threads[0] or 'the default number of'} MKL threads, the second on {threads[1]}"
           if threads else "")
    return [f"Two runs of `{d['experiment']}` with seed {d['seed']} on {d['device']} ({d['epochs']} epochs, "
            f"{d['steps']} steps{how}) gave {'identical' if d['identical'] else 'DIFFERENT'} metrics and weights: "
            f"valid accuracy {d['valid_acc'][0]} vs {d['valid_acc'][1]}, max weight difference "
            f"{d['max_weight_diff']:g}.\n"]


def section_reproducibility(ctx: Context) -> str:
    return section(ctx, "determinism", "Reproducibility", _determinism, quick=None,
                   absent="_No determinism check yet: run `python -m paddle_mnist reproduce`._\n")


def sections() -> list:
    """The report's sections in the assignment's order: the Paddle studies, then numpy from scratch."""
    return [section_data, section_softmax, section_mlp, section_hparams, section_loss, section_dropout,
            section_optimizers, section_numpy, section_speed, section_reproducibility]


def appendix_sections() -> list:
    """``reports/APPENDIX.md``: the other sources' studies, the claims ledger, performance, environment, models."""
    return [section_trajectories, section_init, section_practice, section_claims, section_performance,
            section_numpy_environment, section_models]


def build_report(results_dir=None, out=None, figures_dir=None, bench_dir=None) -> Path:
    """Write the report, its appendix (``APPENDIX.md`` beside it) and its figures from the results files; return
    the report's path.

    The reference report (``reports/REPORT.md``) comes from ``reports/results``; any other results folder writes
    next to itself (``RUNS_DIR/REPORT.md``): a quick reproduction's report, or, for a folder of try-outs that no
    ``reproduce`` wrote, the try-outs side by side (``report.tryouts``).
    """
    results_dir = Path(results_dir) if results_dir else REPORTS / "results"
    if not results_dir.is_dir():
        raise PaddleMnistError(f"results folder not found: {results_dir} (run: python -m paddle_mnist reproduce)")
    reference = results_dir.resolve() == (REPORTS / "results").resolve()
    out = Path(out) if out else (REPORTS / "REPORT.md" if reference else results_dir.parent / "REPORT.md")
    figures_dir = Path(figures_dir) if figures_dir else out.parent / "figures"
    if not reference and is_tryouts(results_dir):
        atomic_write_text(out, tryouts_report(results_dir, figures_dir, out.parent))
        return out
    bench_dir = Path(bench_dir) if bench_dir else REPORTS / "bench"
    ctx = Context(results_dir, figures_dir, bench_dir, out.parent)
    body = [section(ctx) for section in sections()]
    extra = [section(ctx) for section in appendix_sections()]
    date = f"\n_Written {_dt.datetime.now(_dt.timezone.utc).date().isoformat()}._\n"
    head = _head(ctx.load("reproduce"), results_dir, bench_dir)
    atomic_write_text(out, "\n".join(head + [top(ctx, body, extra)] + body + [date]))
    atomic_write_text(out.parent / "APPENDIX.md", "\n".join(
        ["# Appendix to the paddle_mnist report\n",
         f"What [the report]({out.name}) leaves out to stay readable in one sitting: the studies of the other "
         "sources (001-003), the claims ledger in full, the performance figures, the numpy environment and the "
         f"model summaries. Generated with the report by `python -m paddle_mnist report` from `{shown(results_dir)}/` "
         f"and `{shown(bench_dir)}/`; its terms are defined in [the report's glossary]({out.name}#glossary).\n"]
        + extra + [date]))
    return out


def _head(repro: dict | None, results_dir: Path, bench_dir: Path) -> list[str]:
    """The title and where the numbers come from; a quick reproduction says so and names its own folders."""
    quick = bool(repro and repro.get("quick"))
    head = ["# paddle_mnist report: handwritten digit recognition in PaddlePaddle"
            f"{' (--quick smoke test)' if quick else ''}\n",
            f"Generated by `python -m paddle_mnist report` from the files in `{shown(results_dir)}/` and "
            f"`{shown(bench_dir)}/`: every number was measured by the code, except those that name the document they "
            "come from: a source's own printed figures (\"source 004 (one run)\") and those marked *quoted*. "
            "Regenerate everything with "
            f"`python -m paddle_mnist reproduce{' --quick' if quick else ''}`.\n"]
    if quick:
        head.append(f"This is a quick reproduction (`reproduce --quick`: a few hundred steps per run on a subset, "
                    f"one seed): smoke-test settings, not the reference numbers (`reports/REPORT.md`). It took "
                    f"{repro['wall_seconds'] / 60:.1f} minutes of wall time on {repro.get('cpu_count', '?')} CPU "
                    f"cores{_cpu(repro)}; its results are in `{shown(results_dir)}/`, its run folders in "
                    f"`{shown(results_dir.parent)}/`. {study_times(repro)}\n")
    elif repro:
        head.append(f"The last full reproduction took {repro['wall_seconds'] / 60:.1f} minutes of wall time "
                    f"on {repro.get('cpu_count', '?')} CPU cores{_cpu(repro)}. {study_times(repro)}\n")
    return head


def _cpu(repro: dict) -> str:
    return f" ({repro['cpu']})" if repro.get("cpu") else ""


def study_times(repro: dict) -> str:
    """Each study's measured minutes and their sum from ``reproduce.json`` (``experiment_seconds``), or "not
    recorded" when the record lacks them; a later ``reproduce --only`` (``last_only``) is named with its time."""
    secs = repro.get("experiment_seconds") or {}
    if not secs:
        return "Per study: not recorded (this reproduce.json predates per-study times)."
    parts = ", ".join(f"{name} {s / 60:.1f}" for name, s in secs.items())
    last = repro.get("last_only")
    if not last:
        return (f"Per study, in minutes: {parts}; together {sum(secs.values()) / 60:.1f} (the rest of the total is "
                "the determinism check, the exports and the report).")
    rerun = ", ".join(last["experiments"])
    return (f"Per study, in minutes: {parts}; {rerun} from the later `reproduce --only {','.join(last['experiments'])}`"
            f" ({last['wall_seconds'] / 60:.1f} minutes in all), the others from the full run.")
