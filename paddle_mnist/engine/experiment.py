"""What an experiment is: ``Experiment`` (data), ``Settings`` (seeds, ``--quick``, overrides), ``Job`` and ``Stage``.

An experiment is a frozen dataclass: a base ``TrainConfig``, its variants
(overrides applied with ``dataclasses.replace``), seeds, ``--quick`` settings and
two plain functions: ``plan`` (the runs, stage by stage) and ``analyse`` (the
measured statistics). ``plan`` is a generator: it yields a ``Stage`` of jobs and
receives that stage's run records, so a later stage can depend on an earlier one
(a learning rate chosen on ``valid`` after a sweep). ``--dry-run`` drives the
same generator with placeholder records, so it lists every run a real run makes.
The registry of experiments is ``paddle_mnist.studies``.

    python -m paddle_mnist train optimizers --quick --dry-run
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable

from paddle_mnist.engine.config import TrainConfig

QUICK = {"epochs": 2, "train_subset": 5000, "valid_subset": 2000}


@dataclass
class Job:
    """One run: its folder name, variant label, config and the fields merged into its record."""

    name: str
    variant: str
    config: object  # a TrainConfig for engine runs; a dict for the numpy studies' own runners
    extra: dict = field(default_factory=dict)


@dataclass
class Stage:
    """Jobs that run together; ``fn`` (a picklable function job -> record) for runs that are not ``engine.fit``,
    in processes started with ``env`` when given (``engine.pool.parallel_map``)."""

    name: str
    jobs: list
    fn: Callable | None = None
    subdir: str = ""
    env: dict | None = None


@dataclass(frozen=True)
class Settings:
    """The one resolution of seeds, ``--quick`` and command-line overrides for an experiment."""

    seeds: tuple
    quick: bool = False
    overrides: dict = field(default_factory=dict)
    dry_run: bool = False

    @classmethod
    def resolve(cls, exp: "Experiment", seeds=None, quick: bool = False, overrides: dict | None = None,
                dry_run: bool = False) -> "Settings":
        chosen = tuple(seeds) if seeds else (tuple(exp.seeds[:1]) if quick else tuple(exp.seeds))
        return cls(chosen, quick, dict(overrides or {}), dry_run)

    def config(self, exp: "Experiment", variant: dict | None = None, *, drop=(), cap_epochs=None) -> TrainConfig:
        """Base + variant, then the ``--quick`` settings, then the overrides (minus ``drop``)."""
        cfg = dataclasses.replace(exp.base, **(variant or {}))
        if self.quick:
            cfg = dataclasses.replace(cfg, **exp.quick)
        ov = {k: v for k, v in self.overrides.items() if k not in drop}
        if ov:
            cfg = dataclasses.replace(cfg, **ov)
        if cap_epochs is not None and cfg.epochs > cap_epochs:
            cfg = dataclasses.replace(cfg, epochs=cap_epochs)
        return cfg

    @property
    def data_path(self) -> str | None:
        return self.overrides.get("data_path") or None


def grid_plan(exp: "Experiment", s: Settings):
    """The plan of a plain grid: every variant x seed, one stage."""
    jobs = []
    for label, variant in exp.variants:
        cfg = s.config(exp, variant)
        jobs += [Job(f"{label}-seed{seed}", label, dataclasses.replace(cfg, seed=seed)) for seed in s.seeds]
    runs = yield Stage("grid", jobs)
    return runs, {}


@dataclass(frozen=True)
class Experiment:
    name: str
    title: str
    section: str  # the assignment section it reproduces
    base: TrainConfig
    variants: tuple = (("default", {}),)  # (label, overrides) pairs
    seeds: tuple = (0, 1, 2)
    quick: dict = field(default_factory=lambda: dict(QUICK))
    headline: bool = False  # copy the best variant's best run to reports/models/<name>.pdparams
    description: str = ""
    plan: Callable = grid_plan  # (exp, settings) -> generator of Stage; returns (runs, extra record fields)
    analyse: Callable | None = None  # (exp, runs, settings) -> dict merged into the record


def drive(exp: Experiment, s: Settings, run_stage: Callable) -> tuple[list, dict]:
    """Run ``exp.plan``: each yielded stage goes through ``run_stage(stage) -> records``."""
    gen = exp.plan(exp, s)
    try:
        stage = next(gen)
        while True:
            stage = gen.send(run_stage(stage))
    except StopIteration as stop:
        return stop.value


def placeholder(job: Job) -> dict:
    """The record a dry run pretends a job produced (status ok, no accuracy), so later stages can plan."""
    cfg = job.config.to_dict() if isinstance(job.config, TrainConfig) else dict(job.config)
    return {"name": job.name, "variant": job.variant, "status": "ok", "seed": cfg.get("seed", 0), "config": cfg,
            "history": {"epoch": [1], "valid_acc": [0.0]}, "best_valid_acc": 0.0, "best_epoch": 1,
            "best_valid_loss": 0.0, "state": None, **job.extra}


def planned_jobs(exp: Experiment, s: Settings, tag_runs: bool = False) -> list[tuple[str, Job]]:
    """``(stage name, job)`` for every run ``exp`` makes under ``s`` (choices made on placeholders).

    ``tag_runs``: job names carry the override tag, as ``train``'s run folders will (``engine.overrides.run_tag``).
    """
    from paddle_mnist.engine.overrides import run_tag, tagged

    out, tag = [], run_tag(exp, s) if tag_runs else ""

    def preview(stage: Stage) -> list[dict]:
        named = [dataclasses.replace(j, name=tagged(j.name, tag)) if stage.fn is None else j for j in stage.jobs]
        out.extend((stage.name, j) for j in named)
        return [placeholder(j) for j in stage.jobs]

    drive(exp, dataclasses.replace(s, dry_run=True), preview)
    return out


def recorded_runs(record: dict) -> int:
    """How many runs a results record holds (a numpy study also keeps its assignment-net grid and the chosen
    point's run from each seed)."""
    search = record.get("search") or {}
    return len(record.get("runs", [])) + len(search.get("runs", [])) + len((search.get("eval") or {}).get("runs", []))
