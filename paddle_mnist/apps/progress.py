"""Progress of a whole ``reproduce``: ``[k/N experiment]``, runs done/total, an ETA, and the closing summary.

The plan of every experiment is known before anything trains (``engine.experiment.planned_jobs``),
so the total is the number of runs and the planned training steps (epochs x batches, capped by
``max_steps``). The ETA divides the planned steps still to run by the rate measured so far
(planned steps of the finished runs per second of wall time), so it holds for any worker count.

    python -m paddle_mnist reproduce --quick
"""
from __future__ import annotations

import math
import time

TRAIN_SIZE = 50_000  # the train split of mnist.json.gz


def planned_steps(config) -> int:
    """Training steps a job will make (a numpy study's dict config is estimated the same way)."""
    get = config.get if isinstance(config, dict) else (lambda k, d=None: getattr(config, k, d))
    n = get("train_subset", 0) or TRAIN_SIZE
    steps = int(get("epochs", 1) or 1) * math.ceil(n / int(get("batch_size", 100) or 100))
    cap = get("max_steps", 0) or 0
    return min(steps, cap) if cap else steps


def duration(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "?"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    return f"{h}h{rest // 60:02d}m" if h else f"{rest // 60}m{rest % 60:02d}s"


class Tracker:
    """Counts finished runs against the plan; ``start`` each experiment, ``run_done`` per run record."""

    def __init__(self, plan: dict, log=print, clock=time.perf_counter):
        self.plan = plan  # {experiment: [planned steps per run]}
        self.log, self.clock = log, clock
        self.total_runs = sum(len(v) for v in plan.values())
        self.total_steps = sum(sum(v) for v in plan.values())
        self.done_runs = self.done_steps = 0
        self.started = clock()
        self.current, self.k, self.exp_done = None, 0, 0

    def start(self, name: str) -> None:
        self.current, self.k, self.exp_done = name, self.k + 1, 0
        self.log(f"[{self.k}/{len(self.plan)} {name}] {len(self.plan.get(name, []))} run(s); "
                 f"{self.done_runs}/{self.total_runs} runs done overall, ETA {duration(self.eta())}")

    def run_done(self, record: dict) -> None:
        steps = self.plan.get(self.current) or [0]
        self.done_steps += steps[min(self.exp_done, len(steps) - 1)]
        self.exp_done += 1
        self.done_runs += 1
        self.log(f"[{self.k}/{len(self.plan)} {self.current}] runs {self.done_runs}/{self.total_runs}, "
                 f"elapsed {duration(self.elapsed())}, ETA {duration(self.eta())}")

    def finish(self, name: str) -> None:
        """An experiment ended: count its planned runs as done (a plan may have run fewer or more)."""
        left = len(self.plan.get(name, [])) - self.exp_done
        if left > 0:
            self.done_runs += left
            self.done_steps += sum(self.plan[name][self.exp_done:])

    def elapsed(self) -> float:
        return self.clock() - self.started

    def eta(self) -> float | None:
        """Seconds left at the measured rate; ``None`` before anything finished."""
        if not self.done_steps:
            return None
        return max(self.total_steps - self.done_steps, 0) * self.elapsed() / self.done_steps


def plan_of(experiments, settings_for) -> dict:
    """``{name: [planned steps per run]}`` from each experiment's dry-run plan."""
    from paddle_mnist.engine.experiment import planned_jobs

    return {exp.name: [planned_steps(job.config) for _, job in planned_jobs(exp, settings_for(exp))]
            for exp in experiments}


def summary_table(records: dict, wall: float, where: dict) -> str:
    """The closing table: per experiment its runs, failures, wall time and headline accuracy; then where."""
    lines = [f"{'experiment':14s} {'runs':>5s} {'failed':>6s} {'wall':>8s}  headline (valid / test)"]
    for name, rec in records.items():
        runs = rec.get("runs", [])
        failed = sum(r.get("status") == "failed" for r in runs)
        wall_s = rec.get("settings", {}).get("wall_seconds")
        lines.append(f"{name:14s} {len(runs):5d} {failed:6d} {duration(wall_s):>8s}  {_headline(rec)}")
    lines.append(f"total wall time {duration(wall)}")
    tally = verdict_tally(records)
    if tally:
        lines.append(f"claims ledger: {tally}")
    lines += [f"{what}: {path}" for what, path in where.items()]
    return "\n".join(lines)


def verdict_tally(records: dict) -> str:
    """``as the source ran it: 7 reproduced, ...; done right: ...`` over the claims these records decide."""
    from collections import Counter

    from paddle_mnist.studies.claims import ARM_NAMES, RESULT_NAMES, claims_ledger, decided

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
    from paddle_mnist.engine.runner import headline_variant

    variant = headline_variant(rec.get("summary") or {})
    runs = [r for r in rec.get("runs", []) if r.get("best_valid_acc") is not None
            and (variant is None or r.get("variant") == variant)]
    if not runs:
        return "-"
    best = max(runs, key=lambda r: r["best_valid_acc"])
    test = best.get("test_acc")
    shown = f"{100 * best['best_valid_acc']:.2f}% / {'-' if test is None else f'{100 * test:.2f}%'}"
    return f"{best.get('name', '?')}: {shown}"
