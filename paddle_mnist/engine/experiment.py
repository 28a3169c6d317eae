"""What an experiment is: ``Experiment`` (data), ``Settings`` (seeds, ``--quick``, overrides), ``Job`` and ``Stage``.

An experiment is a frozen dataclass: a base ``TrainConfig``, its variants
(overrides applied with ``dataclasses.replace``), seeds, ``--quick`` settings and
two plain functions: ``plan`` (the runs, stage by stage) and ``analyse`` (the
measured statistics). ``plan`` is a generator: it yields a ``Stage`` of jobs and
receives that stage's run records, so a later stage can depend on an earlier one
(a learning rate chosen on ``valid`` after a sweep). ``--dry-run`` drives the
same generator with placeholder records, so it lists every run a real run makes.
A user's setting is applied to every run or refused by ``Settings.resolve``
(``refusal``: ``seed`` comes from ``--seeds``; a study refuses the keys it sets itself).
The registry of experiments is ``paddle_mnist.studies``.

    python -m paddle_mnist train optimizers --quick --dry-run
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Callable

from paddle_mnist.engine.config import TrainConfig
from paddle_mnist.errors import ConfigError
from paddle_mnist.engine.overrides import run_name, run_tag

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
    """The one resolution of seeds, ``--quick`` and command-line overrides for an experiment; with ``tag_runs``
    (``train``) its runs are named after the overrides and ``tag`` names its results file
    (``engine.overrides.run_tag``: ``lr0.05-hidden300x100``, ``""`` when nothing changes)."""

    seeds: tuple
    quick: bool = False
    overrides: dict = field(default_factory=dict)
    dry_run: bool = False
    tag_runs: bool = False
    tag: str = ""

    @classmethod
    def resolve(cls, exp: "Experiment", seeds=None, quick: bool = False, overrides: dict | None = None,
                dry_run: bool = False, tag_runs: bool = False) -> "Settings":
        """Seeds (``--seeds`` only), ``--quick`` and the user's settings; a setting the experiment would not apply
        to every run is refused (``refusal``), never dropped."""
        overrides = dict(overrides or {})
        why = refusal(exp, overrides)
        if why:
            raise ConfigError(why)
        chosen = tuple(seeds) if seeds else (tuple(exp.seeds[:1]) if quick else tuple(exp.seeds))
        s = cls(chosen, quick, overrides, dry_run, tag_runs)
        return dataclasses.replace(s, tag=run_tag(exp, s)) if tag_runs else s

    def config(self, exp: "Experiment", variant: dict | None = None, *, cap_epochs=None) -> TrainConfig:
        """Base + variant, then the ``--quick`` settings, then the user's settings (all of them: ``resolve``
        refused any the experiment sets itself). ``cap_epochs`` caps the epochs unless the user set them."""
        cfg = dataclasses.replace(exp.base, **(variant or {}))
        if self.quick:
            cfg = dataclasses.replace(cfg, **exp.quick)
        if self.overrides:
            cfg = dataclasses.replace(cfg, **self.overrides)
        if cap_epochs is not None and cfg.epochs > cap_epochs and "epochs" not in self.overrides:
            cfg = dataclasses.replace(cfg, epochs=cap_epochs)
        return cfg

    @property
    def data_path(self) -> str | None:
        return self.overrides.get("data_path") or None


MLP_ONLY = ("hidden", "activation", "dropout", "dropout_after", "out_features")
USES_MOMENTUM = ("momentum", "nesterov")


def refusal(exp: "Experiment", overrides: dict) -> str:
    """Why the user's settings cannot all be applied to every run of ``exp`` (one line, with what to use instead),
    or ``""``: ``seed`` (``--seeds``), a key outside ``exp.settable``, a key the experiment sets itself (its
    ``fixed`` keys, the keys its variants set), a model setting no run's model has, ``momentum`` without a
    momentum optimizer."""
    if "seed" in overrides:
        return f"seed is set with --seeds (e.g. --seeds {overrides['seed']}), not --set or --config"
    keys = sorted(overrides)
    if exp.settable is not None:
        bad = [k for k in keys if k not in exp.settable]
        if bad:
            return (f"the {exp.name} study fixes its own settings: {', '.join(bad)} cannot be set (only "
                    f"--seeds, --quick{''.join(', ' + k for k in exp.settable)} apply)")
    for key in keys:
        if key in exp.fixed:
            return f"the {exp.name} study {exp.fixed[key]}"
        labels = [label for label, v in exp.variants if key in v]
        if labels and len(exp.variants) > 1:
            return (f"the {exp.name} study sets {key} per variant ({', '.join(labels)}), so one value cannot apply "
                    f"to all its runs; for one run use `train softmax --set model=mlp --set {key}=...`")
    if exp.settable is not None:
        return ""
    cfgs = [dataclasses.replace(exp.base, **{**v, **overrides}) for _, v in exp.variants]
    mlp_keys = [k for k in keys if k in MLP_ONLY]
    if mlp_keys and all(c.model != "mlp" for c in cfgs):
        return f"{', '.join(mlp_keys)}: the {cfgs[0].model} model has no hidden layers; use `--set model=mlp` too"
    if "momentum" in overrides and not any(c.optimizer in USES_MOMENTUM for c in cfgs):
        return (f"momentum applies to the momentum and nesterov optimizers only; add `--set optimizer=momentum` "
                "(or drop momentum)")
    return ""


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
    fixed: dict = field(default_factory=dict)  # key -> why the study sets it itself (``refusal``)
    settable: tuple | None = None  # the only keys a study of its own runners takes (None: every key)
    analyse: Callable | None = None  # (exp, runs, settings) -> dict merged into the record


def drive(exp: Experiment, s: Settings, run_stage: Callable) -> tuple[list, dict]:
    """Run ``exp.plan``: each yielded stage goes through ``run_stage(stage) -> records``, its jobs named as ``train``
    names its run folders when ``s.tag_runs`` (``named``)."""
    gen = exp.plan(exp, s)
    try:
        stage = next(gen)
        while True:
            stage = gen.send(run_stage(named(exp, s, stage)))
    except StopIteration as stop:
        return stop.value


def placeholder(job: Job) -> dict:
    """The record a dry run pretends a job produced (status ok, no accuracy), so later stages can plan."""
    cfg = job.config.to_dict() if isinstance(job.config, TrainConfig) else dict(job.config)
    return {"name": job.name, "variant": job.variant, "status": "ok", "seed": cfg.get("seed", 0), "config": cfg,
            "history": {"epoch": [1], "valid_acc": [0.0]}, "best_valid_acc": 0.0, "best_epoch": 1,
            "best_valid_loss": 0.0, "state": None, **job.extra}


def named(exp: Experiment, s: Settings, stage: Stage) -> Stage:
    """``stage`` with its jobs named after the user's settings when ``s.tag_runs`` (``engine.overrides.run_name``:
    from each config); a stage of a study's own runner, or untagged settings, as it is."""
    if stage.fn is not None or not s.tag_runs:
        return stage
    return dataclasses.replace(stage, jobs=[dataclasses.replace(j, name=run_name(exp, s, j.name, j.config))
                                            for j in stage.jobs])


def planned_jobs(exp: Experiment, s: Settings, tag_runs: bool | None = None) -> list[tuple[str, Job]]:
    """``(stage name, job)`` for every run ``exp`` makes under ``s`` (choices made on placeholders).

    ``tag_runs`` (default ``s.tag_runs``): job names say what the user's settings change, as ``train``'s run folders
    will (``named``).
    """
    out = []

    def preview(stage: Stage) -> list[dict]:
        out.extend((stage.name, j) for j in stage.jobs)
        return [placeholder(j) for j in stage.jobs]

    tag_runs = s.tag_runs if tag_runs is None else tag_runs
    drive(exp, dataclasses.replace(s, dry_run=True, tag_runs=tag_runs), preview)
    return out


def recorded_runs(record: dict) -> int:
    """How many runs a results record holds (a numpy study also keeps its assignment-net grid and the chosen
    point's run from each seed)."""
    search = record.get("search") or {}
    return len(record.get("runs", [])) + len(search.get("runs", [])) + len((search.get("eval") or {}).get("runs", []))
