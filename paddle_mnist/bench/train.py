"""Training and evaluation benchmarks: the engine vs a plain Paddle loop vs PyTorch vs the FLOP limit.

``bench_train`` writes ``reports/bench/train.json``, ``bench_eval`` writes
``reports/bench/eval.json``. Every figure is the median (with min and max) of
``repeats`` rounds; in each round every contender runs in a **fresh
subprocess**, one after the other, so that slow drifts of a shared machine hit
them alike and every ratio is taken from the same run:

* ``torch`` -- PyTorch at its default thread count (``torch_1thread`` too), the
  same 784-200-200-10 ReLU net (or 784-10), Adam 1e-3, the same batches in the
  same order (``np.random.RandomState(seed)``, one permutation per epoch, as
  ``engine.fit`` draws them). Skipped with a note when torch is not installed.
* ``paddle_as_installed`` -- the same epoch in Paddle, a plain loop: ``engine.loop.train_epoch`` with the
  plain pieces (``paddle.to_tensor``, zero-filled gradients) and nothing of ``engine.fit`` around it, with
  ``PADDLE_MNIST_TUNED=0`` and no ``MKL_DEBUG_CPU_TYPE`` (Paddle's defaults).
* ``paddle_tuned`` -- the same loop with the package's settings (``perf.env``);
  ``paddle_tuned_2threads`` is that loop after ``core.set_num_threads(2)``.
* ``engine`` -- the project's own ``engine.fit`` (progress bar, VisualDL,
  checkpoints, ``valid`` scored every epoch) at its defaults (two MKL threads on
  two cores): the wall time from the end of one epoch's checkpoint to the end
  of the next, with ``metrics.csv``'s ``seconds`` column and a breakdown
  (evaluation, logging, checkpointing). ``engine_1thread`` is the same with
  ``PADDLE_MNIST_THREADS=1`` (as each of two parallel workers runs).

* ``flop_limit`` -- the epoch's forward+backward GEMM FLOPs divided by the rate
  numpy (OpenBLAS, one thread) reaches on exactly those matrix shapes.

Each loop times one full epoch per round after a short warm-up; the engine
times its second epoch (the first is the warm-up); the order of the contenders
is reversed every other round. A ``paddle.profiler`` summary of one training
step (the engine's per-step operations, averaged over several steps) shows
where the time goes.

This module orchestrates and writes the files; the workers it starts live in
``bench.workers`` and ``bench.profile``, the FLOP counts in
``bench.flops``, the shared measurements in ``bench.measure``.

    python -m paddle_mnist bench train
"""
from __future__ import annotations

import datetime as _dt
import importlib.util
import os
import sys
from pathlib import Path

from paddle_mnist.records import write_json
from paddle_mnist.paths import shown
from paddle_mnist.bench.workers import _spawn
from paddle_mnist.bench.flops import SIZES, batch_sizes, case_name
from paddle_mnist.bench.measure import BENCH_DIR, machine, stats
from paddle_mnist.datafile.store import read_arrays

CASES = (("mlp", 100), ("mlp", 32), ("softmax", 100))
# goals of issue 7: engine epoch / PyTorch epoch, per case
GOALS = {"mlp_b100": 0.8, "mlp_b32": 0.7, "softmax_b100": 1.0}
STRETCH_FLOP_RATIO = 2.0
EVAL_GOAL_S = 0.040
OVERHEAD_GOAL = 0.05
RSS_GOAL_MB = 1024.0
SEED = 0


def torch_available() -> bool:
    return importlib.util.find_spec("torch") is not None


# ---------------------------------------------------------------- the benchmarks
def _ratio(a, b):
    return None if a is None or b is None or not b else a / b


def _median(entry):
    return None if entry is None else entry["median"]


def _command(what: str, repeats: int, tiny: bool) -> str:
    cmd = f"python -m paddle_mnist bench {what}"
    if repeats != 5:
        cmd += f" --repeats {repeats}"
    if tiny:
        cmd += "  (tiny=True settings: not comparable)"
    return cmd


def _settings(repeats, tiny, data_path, max_batches, warmup_batches, n_train):
    return {"repeats": repeats, "tiny": tiny, "max_batches": max_batches, "warmup_batches": warmup_batches,
            "timed_epochs_per_round": 1, "train_samples": n_train, "seed": SEED,
            "data_file": shown(data_path) if data_path else None,
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}


def _machine_info(workers: list[dict]) -> dict:
    info = machine()
    paddle_worker = next((w for w in workers if w.get("mkl")), None)
    if paddle_worker:
        info["mkl"] = paddle_worker["mkl"]
    info["threads"] = {"paddle_default": 1, "note": "Paddle sets one thread at import; the 2threads rows call "
                       "paddle.base.core.set_num_threads(2)"}
    torch_worker = next((w for w in workers if w.get("torch")), None)
    if torch_worker:
        info["torch"] = torch_worker["torch"]
        info["threads"]["torch_default"] = torch_worker["threads"]
    return info


def _train_jobs(raw: dict, common: dict, out_dir: Path, tiny: bool, use_torch: bool, two_threads: bool) -> list:
    """One round's workers: ``(where the result goes, spec, environment)``."""
    cases = [list(c) for c in CASES]
    jobs = []
    if use_torch:
        jobs.append((raw["torch"], {"kind": "loop", "framework": "torch", "cases": cases, **common}, "as_installed"))
    jobs.append((raw["as_installed"], {"kind": "loop", "framework": "paddle", "cases": cases, **common},
                 "as_installed"))
    jobs.append((raw["tuned"], {"kind": "loop", "framework": "paddle", "cases": cases, "two_threads": two_threads,
                                **common}, "tuned"))
    for model_name, bs in CASES:
        spec = {"kind": "engine", "case": [model_name, bs], "scratch": str(out_dir), "timed_epochs": 1,
                "valid_subset": 500 if tiny else 0, **common}
        jobs.append((raw["engine"][case_name(model_name, bs)], spec, "tuned"))
        if two_threads:
            jobs.append((raw["engine_1thread"][case_name(model_name, bs)], spec, "tuned_1thread"))
    return jobs


def _loop_stats(runs: list[dict], key: str):
    vals = [w["cases"][key] for w in runs if key in w["cases"]]
    if not vals:
        return None
    return {**stats(v["seconds"] for v in vals), "cpu": stats(v["cpu_seconds"] for v in vals),
            "threads": vals[0]["threads"]}


def _case_timings(case: dict, name: str, raw: dict, gemm: dict, use_torch: bool, two_threads: bool) -> list:
    """Every contender's statistics for one case; returns the engine's timed epochs."""
    if use_torch:
        case["torch"] = _loop_stats(raw["torch"], name)
        case["torch_1thread"] = _loop_stats(raw["torch"], name + "_1thread")
    case["paddle_as_installed"] = _loop_stats(raw["as_installed"], name)
    case["paddle_tuned"] = _loop_stats(raw["tuned"], name)
    if two_threads:
        case["paddle_tuned_2threads"] = _loop_stats(raw["tuned"], name + "_2threads")
    eng = [e for w in raw["engine"][name] for e in w["epochs"]]
    for key, field in (("engine", "full"), ("engine_train_loop", "train_loop"),
                       ("engine_csv_seconds", "csv_seconds"), ("engine_eval", "eval"),
                       ("engine_logging", "logging"), ("engine_checkpoint", "checkpoint"),
                       ("engine_overhead_fraction", "overhead_fraction")):
        case[key] = stats(e[field] for e in eng) if eng else None
    case["engine_peak_rss_mb"] = stats(w["peak_rss_mb"] for w in raw["engine"][name])
    case["engine_mkl_threads"] = raw["engine"][name][0]["mkl_threads"]
    eng2 = [e["full"] for w in raw["engine_1thread"][name] for e in w["epochs"]]
    if eng2:
        case["engine_1thread"] = {**stats(eng2), "mkl_threads": raw["engine_1thread"][name][0]["mkl_threads"]}
    gsec = gemm["cases"][name]["seconds"]
    case["flop_limit"] = stats(gsec)
    case["gemm_gflops"] = stats(case["gemm_flops"] / s / 1e9 for s in gsec)
    return eng


def _case_ratios(case: dict) -> dict:
    torch_m = _median(case.get("torch"))
    eng_m, tuned_m = _median(case["engine"]), _median(case["paddle_tuned"])
    return {
        "engine_vs_torch": _ratio(eng_m, torch_m),
        "engine_vs_torch_1thread": _ratio(eng_m, _median(case.get("torch_1thread"))),
        "engine_1thread_vs_torch": _ratio(_median(case.get("engine_1thread")), torch_m),
        "engine_1thread_vs_engine": _ratio(_median(case.get("engine_1thread")), eng_m),
        "engine_train_loop_vs_torch": _ratio(_median(case["engine_train_loop"]), torch_m),
        "tuned_vs_torch": _ratio(tuned_m, torch_m),
        "as_installed_vs_torch": _ratio(_median(case["paddle_as_installed"]), torch_m),
        "tuned_vs_as_installed": _ratio(tuned_m, _median(case["paddle_as_installed"])),
        "engine_vs_as_installed": _ratio(eng_m, _median(case["paddle_as_installed"])),
        "two_threads_vs_one": _ratio(_median(case.get("paddle_tuned_2threads")), tuned_m),
        "engine_vs_tuned_loop": _ratio(eng_m, tuned_m),
        "engine_vs_flop_limit": _ratio(eng_m, _median(case["flop_limit"])),
        "tuned_vs_flop_limit": _ratio(tuned_m, _median(case["flop_limit"])),
        "torch_vs_flop_limit": _ratio(torch_m, _median(case["flop_limit"])),
    }


def _case_goals(case: dict, name: str, eng: list) -> dict:
    goal = GOALS[name]
    ratio = case["ratios"]["engine_vs_torch"]
    return {
        "engine_vs_torch_max": goal,
        "engine_vs_torch_met": None if ratio is None else ratio <= goal,
        "engine_train_loop_vs_torch_met": (None if case["ratios"]["engine_train_loop_vs_torch"] is None
                                           else case["ratios"]["engine_train_loop_vs_torch"] <= goal),
        "engine_1thread_vs_torch_met": (None if case["ratios"]["engine_1thread_vs_torch"] is None
                                         else case["ratios"]["engine_1thread_vs_torch"] <= goal),
        "stretch_within_2x_flop_limit": case["ratios"]["engine_vs_flop_limit"] <= STRETCH_FLOP_RATIO,
        "overhead_under_5pct": case["engine_overhead_fraction"]["median"] < OVERHEAD_GOAL if eng else None,
        "peak_rss_under_1gb": case["engine_peak_rss_mb"]["max"] < RSS_GOAL_MB,
    }


def _case_record(model_name: str, bs: int, raw: dict, gemm: dict, n_train: int, max_batches, use_torch: bool,
                 two_threads: bool) -> dict:
    """One case of train.json: sizes, every contender's statistics, ratios, goals and the engine's runs."""
    name = case_name(model_name, bs)
    steps = len(batch_sizes(n_train, bs, max_batches))
    samples = sum(batch_sizes(n_train, bs, max_batches))
    case = {"model": model_name, "batch_size": bs, "sizes": list(SIZES[model_name]), "steps": steps,
            "samples": samples, "gemm_flops": gemm["cases"][name]["flops"]}
    eng = _case_timings(case, name, raw, gemm, use_torch, two_threads)
    case["ratios"] = _case_ratios(case)
    case["goals"] = _case_goals(case, name, eng)
    case["engine_runs"] = [{k: w[k] for k in ("status", "fit_seconds", "steps_per_epoch", "csv_seconds",
                                               "best_valid_acc", "peak_rss_mb")} for w in raw["engine"][name]]
    return case


def bench_train(repeats: int = 5, out_dir=BENCH_DIR, *, tiny: bool = False, data_path=None,
                include_torch: bool = True, two_threads: bool = True, log=print) -> Path:
    """Training speed: engine vs plain Paddle (as installed, tuned) vs PyTorch vs FLOP limit; writes train.json.

    ``tiny=True`` times only a few batches of each epoch (for tests): the file has
    the same layout, but its figures say nothing about speed.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    max_batches = 4 if tiny else None
    warmup_batches = 2 if tiny else 50
    n_train = len(read_arrays(data_path)["train"][1])  # also makes sure the array cache is warm
    common = {"seed": SEED, "data_path": str(data_path) if data_path else None, "max_batches": max_batches,
              "warmup_batches": warmup_batches}
    use_torch = include_torch and torch_available()
    notes = []
    if not use_torch:
        notes.append("PyTorch rows skipped: " + ("torch is not installed (`pip install torch` to include them)"
                                                 if include_torch else "include_torch=False"))
    raw = {"torch": [], "as_installed": [], "tuned": [], "engine": {case_name(*c): [] for c in CASES},
           "engine_1thread": {case_name(*c): [] for c in CASES}}
    jobs = _train_jobs(raw, common, out_dir, tiny, use_torch, two_threads)
    for r in range(repeats):
        log(f"[bench train] round {r + 1}/{repeats}")
        for sink, spec, env in (jobs if r % 2 == 0 else jobs[::-1]):  # alternate the order between rounds
            sink.append(_spawn(spec, env))

    log("[bench train] GEMM rate and profile")
    gemm = _spawn({"kind": "gemm", "repeats": max(repeats, 3), "max_batches": max_batches,
                   "cases": [[m, bs, n_train] for m, bs in CASES]}, "gemm")
    profile = _spawn({"kind": "profile", "case": ["mlp", 100], "steps": 5 if tiny else 30, "seed": SEED,
                      "data_path": common["data_path"]}, "tuned")

    res = {"command": _command("train", repeats, tiny), "argv": [shown(a) if os.path.isabs(a) else a for a in sys.argv],
           "settings": _settings(repeats, tiny, data_path, max_batches, warmup_batches, n_train),
           "machine": _machine_info(raw["tuned"] + raw["torch"]),
           "environments": {"as_installed": raw["as_installed"][0]["env"], "tuned": raw["tuned"][0]["env"],
                            "tuned_1thread": (raw["engine_1thread"][case_name(*CASES[0])][0]["env"]
                                               if two_threads else None),
                            "torch": raw["torch"][0]["env"] if use_torch else None},
           "torch": {"available": use_torch, "version": raw["torch"][0]["torch"] if use_torch else None,
                     "threads": raw["torch"][0]["threads"] if use_torch else None},
           "gemm": {"square_n": gemm["square_n"], "square_gflops": stats(gemm["square_gflops"]), "threads": 1,
                    "blas": gemm.get("blas")},
           "cases": {}, "notes": notes}
    for model_name, bs in CASES:
        res["cases"][case_name(model_name, bs)] = _case_record(model_name, bs, raw, gemm, n_train, max_batches,
                                                               use_torch, two_threads)
    res["peak_rss_mb"] = max(c["engine_peak_rss_mb"]["max"] for c in res["cases"].values())
    res["profile"] = {k: profile[k] for k in ("case", "steps", "step_ms", "profiled_step_ms", "ops_ms_per_step",
                                              "phases", "ops")}
    res["goals"] = {name: c["goals"] for name, c in res["cases"].items()}
    res["goals"]["peak_rss_under_1gb"] = res["peak_rss_mb"] < RSS_GOAL_MB
    path = out_dir / "train.json"
    write_json(path, res)
    return path


def bench_eval(repeats: int = 5, out_dir=BENCH_DIR, *, tiny: bool = False, data_path=None,
               include_torch: bool = True, two_threads: bool = True, log=print) -> Path:
    """Scoring ``valid`` (10,000) with the MLP: engine.evaluate vs one kept tensor vs batches of 100; eval.json."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    n_valid = len(read_arrays(data_path)["valid"][1])
    calls = 2 if tiny else 5
    common = {"data_path": str(data_path) if data_path else None, "repeats": calls, "two_threads": two_threads}
    use_torch = include_torch and torch_available()
    workers = {}
    for r in range(1 if tiny else repeats):
        log(f"[bench eval] round {r + 1}")
        for label, framework, env in (("tuned", "paddle", "tuned"), ("as_installed", "paddle", "as_installed"),
                                      ("torch", "torch", "as_installed")):
            if framework == "torch" and not use_torch:
                continue
            workers.setdefault(label, []).append(_spawn({"kind": "eval", "framework": framework, **common}, env))
    gemm = _spawn({"kind": "gemm", "repeats": max(repeats, 3), "cases": [], "eval_n": n_valid, "square_n": 1024},
                  "gemm")
    res = {"command": _command("eval", repeats, tiny), "argv": [shown(a) if os.path.isabs(a) else a for a in sys.argv],
           "settings": {"calls_per_round": calls, "rounds": len(workers["tuned"]), "tiny": tiny, "n": n_valid,
                        "data_file": shown(data_path) if data_path else None,
                        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")},
           "machine": _machine_info(workers["tuned"] + workers.get("torch", [])),
           "environments": {k: v[0]["env"] for k, v in workers.items()},
           "notes": [] if use_torch else ["PyTorch row skipped: torch is not installed"],
           "variants": {}}
    for label, runs in workers.items():
        for variant in runs[0]["variants"]:
            key = variant if label == "torch" else f"{label}_{variant}"
            vals = [s for w in runs for s in w["variants"][variant]["seconds"]]
            res["variants"][key] = {**stats(vals), "threads": runs[0]["variants"][variant]["threads"]}
    res["flop_limit"] = {**stats(gemm["eval"]["seconds"]), "flops": gemm["eval"]["flops"],
                         "square_gflops": stats(gemm["square_gflops"])}
    v = res["variants"]
    m = {k: e["median"] for k, e in v.items()}
    res["ratios"] = {
        "one_tensor_vs_engine_evaluate": _ratio(m.get("tuned_one_tensor"), m.get("tuned_engine_evaluate")),
        "batches_of_100_vs_engine_evaluate": _ratio(m.get("tuned_batches_of_100"), m.get("tuned_engine_evaluate")),
        "two_threads_vs_one": _ratio(m.get("tuned_one_tensor_2threads"), m.get("tuned_one_tensor")),
        "tuned_vs_as_installed": _ratio(m.get("tuned_engine_evaluate"), m.get("as_installed_engine_evaluate")),
        "engine_evaluate_vs_torch": _ratio(m.get("tuned_engine_evaluate"), m.get("torch_one_batch")),
        "one_tensor_vs_flop_limit": _ratio(m.get("tuned_one_tensor"), res["flop_limit"]["median"]),
    }
    best = min((k for k in m if k.startswith("tuned_")), key=m.get)
    res["goals"] = {"under_40ms": {"target_s": EVAL_GOAL_S, "engine_in_fit": m["tuned_engine_in_fit"] < EVAL_GOAL_S,
                                   "engine_evaluate": m["tuned_engine_evaluate"] < EVAL_GOAL_S,
                                   "fastest_variant": best, "fastest_met": m[best] < EVAL_GOAL_S}}
    res["peak_rss_mb"] = max(w["peak_rss_mb"] for runs in workers.values() for w in runs)
    path = out_dir / "eval.json"
    write_json(path, res)
    return path
