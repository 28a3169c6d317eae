"""Progress of a whole ``reproduce``: ``[k/N experiment]``, runs done/total, an ETA, and the closing summary.

The plan of every experiment is known before anything trains (``engine.experiment.planned_jobs``): each run's
kind (model, hidden sizes, batch size, data subsets, whether it scores the test split: what a run costs per
step) and its planned steps (epochs x batches, capped by ``max_steps``). As runs finish, the wall seconds per
step of each kind are measured (the wall time since the previous run finished, so parallel workers count as
they run); the ETA prices every run still to do at its own kind's rate (an unmeasured kind at the mean rate so
far), so it does not swing with the order in which cheap and costly runs come.

    python -m paddle_mnist reproduce --quick
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from collections import Counter

from paddle_mnist.format import pct
from paddle_mnist.engine.experiment import planned_jobs
from paddle_mnist.studies.claims import ARM_NAMES, RESULT_NAMES, claims_ledger, decided
from paddle_mnist.engine.runner import headline_variant
from paddle_mnist.paths import shown

TRAIN_SIZE = 50_000  # the train split of mnist.json.gz


@dataclass(frozen=True)
class Planned:
    """One planned run: its name, its kind (runs of one kind cost the same per step) and its planned steps."""

    name: str
    kind: tuple
    steps: int


def _getter(config):
    return config.get if isinstance(config, dict) else (lambda k, d=None: getattr(config, k, d))


def planned_steps(config) -> int:
    """Training steps a job will make (a numpy study's dict config is estimated the same way)."""
    get = _getter(config)
    n = get("train_subset", 0) or TRAIN_SIZE
    steps = int(get("epochs", 1) or 1) * math.ceil(n / int(get("batch_size", 100) or 100))
    cap = get("max_steps", 0) or 0
    return min(steps, cap) if cap else steps


def run_kind(config, experiment: str = "") -> tuple:
    """What a step of this run costs depends on: a study's own runner (numpy) or the model, its sizes, the batch and
    the data subsets of an engine run."""
    get = _getter(config)
    if isinstance(config, dict):
        return ("own", experiment, get("kind", ""))
    hidden = tuple(get("hidden", ()) or ()) if get("model") != "softmax" else ()
    return (get("model"), hidden, get("batch_size"), get("train_subset"), get("valid_subset"), get("score_eval"))


def duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "?"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    return f"{h}h{rest // 60:02d}m" if h else f"{rest // 60}m{rest % 60:02d}s"


class Tracker:
    """Counts finished runs against the plan; ``start`` each experiment, ``run_done`` per run record."""

    def __init__(self, plan: dict, log=print, clock=time.perf_counter):
        self.plan = plan  # {experiment: [Planned per run]}
        self.log, self.clock = log, clock
        self.total_runs = sum(len(v) for v in plan.values())
        self.left = {name: list(runs) for name, runs in plan.items()}  # planned runs not done yet
        self.measured = {}  # kind -> [wall seconds, steps]
        self.done_runs = 0
        self.started = self.last = clock()
        self.current, self.k = None, 0

    def start(self, name: str) -> None:
        self.current, self.k = name, self.k + 1
        self.log(f"[{self.k}/{len(self.plan)} {name}] {len(self.plan.get(name, []))} run(s); "
                 f"{self.done_runs}/{self.total_runs} runs done overall, ETA {duration(self.eta())}")

    def run_done(self, record: dict) -> None:
        now, left = self.clock(), self.left.get(self.current) or []
        job = next((j for j in left if j.name == record.get("name")), left[0] if left else None)
        if job is not None:
            left.remove(job)
            steps = record.get("steps") or job.steps
            if steps and now > self.last:
                m = self.measured.setdefault(job.kind, [0.0, 0])
                m[0], m[1] = m[0] + now - self.last, m[1] + steps
        self.last = now
        self.done_runs += 1
        self.log(f"[{self.k}/{len(self.plan)} {self.current}] runs {self.done_runs}/{self.total_runs}, "
                 f"elapsed {duration(self.elapsed())}, ETA {duration(self.eta())}")

    def finish(self, name: str) -> None:
        """An experiment ended: its planned runs not reported count as done (a plan may run fewer or more)."""
        self.done_runs += len(self.left.get(name, []))
        self.left[name] = []

    def elapsed(self) -> float:
        return self.clock() - self.started

    def eta(self) -> float | None:
        """Wall seconds left: each planned run at its kind's measured seconds per step; ``None`` before anything
        was measured."""
        if not self.measured:
            return None
        mean = sum(s for s, _ in self.measured.values()) / sum(n for _, n in self.measured.values())
        rate = {kind: s / n for kind, (s, n) in self.measured.items()}
        return sum(j.steps * rate.get(j.kind, mean) for runs in self.left.values() for j in runs)


def plan_of(experiments, settings_for) -> dict:
    """``{name: [Planned per run]}`` from each experiment's dry-run plan."""
    return {exp.name: [Planned(job.name, run_kind(job.config, exp.name), planned_steps(job.config))
                       for _, job in planned_jobs(exp, settings_for(exp))] for exp in experiments}


def summary_table(records: dict, wall: float, where: dict, seconds: dict | None = None) -> str:
    """The closing table: per experiment its runs, failures, wall time (``seconds[name]``, the time reproduce measured
    and records, else the record's own) and headline accuracy; then where."""
    lines = [f"{'experiment':14s} {'runs':>5s} {'failed':>6s} {'wall':>8s}  headline (valid / test)"]
    for name, rec in records.items():
        runs = rec.get("runs", [])
        failed = sum(r.get("status") == "failed" for r in runs)
        wall_s = (seconds or {}).get(name, rec.get("settings", {}).get("wall_seconds"))
        lines.append(f"{name:14s} {len(runs):5d} {failed:6d} {duration(wall_s):>8s}  {_headline(rec)}")
    lines.append(f"total wall time {duration(wall)}")
    tally = verdict_tally(records)
    if tally:
        lines.append(f"claims ledger: {tally}")
    lines += [f"{what}: {path}" for what, path in where.items()]
    return "\n".join(lines)


def verdict_tally(records: dict) -> str:
    """``as the source ran it: 7 reproduced, ...; done right: ...`` over the claims these records decide."""

    studies = {n: records[n] for n in RESULT_NAMES if records.get(n)}
    if not studies:
        return ""
    ledger, parts = claims_ledger(studies), []
    for arm, name in ARM_NAMES.items():
        t = Counter(v["verdict"] for _, _, v in decided(ledger, arm) if v["verdict"] != "not measured")
        if t:
            parts.append(f"{name}: " + ", ".join(f"{n} {verdict}" for verdict, n in t.most_common()))
    return "; ".join(parts)


def _headline(rec: dict) -> str:
    variant = headline_variant(rec.get("summary") or {})
    runs = [r for r in rec.get("runs", []) if r.get("best_valid_acc") is not None
            and (variant is None or r.get("variant") == variant)]
    if not runs:
        return "-"
    best = max(runs, key=lambda r: r["best_valid_acc"])
    test = best.get("test_acc")
    shown = f"{100 * best['best_valid_acc']:.2f}% / {'-' if test is None else f'{100 * test:.2f}%'}"
    return f"{best.get('name', '?')}: {shown}"


def runs_table(record: dict) -> str:
    """``train``'s closing table: each run's folder, best valid and test accuracy, and its model file."""
    rows = []
    for r in record.get("runs", []):
        ckpt = r.get("checkpoint")
        folder = shown(Path(ckpt).parent) if ckpt else r.get("name", "?")
        rows.append((folder, pct(r.get("best_valid_acc"), none="-"), pct(r.get("test_acc"), none="-"),
                     Path(ckpt).name if ckpt else f"- ({r.get('status', '?')})"))
    headline = (record.get("settings") or {}).get("headline_model")
    return table(("run folder", "best valid", "test acc", "model file"), rows, right=(1, 2)) + \
        (f"\nheadline model: {headline}" if headline else "")


def table(header, rows, right=()) -> str:
    """Rows as aligned columns under ``header`` (columns in ``right`` aligned right)."""
    rows = [tuple(map(str, row)) for row in rows]
    widths = [max(len(str(h)), *(len(row[i]) for row in rows)) if rows else len(str(h))
              for i, h in enumerate(header)]

    def line(cells) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    return "\n".join(line(cells).rstrip() for cells in [tuple(map(str, header)), *rows])
