"""The training/evaluation benchmarks run end to end at tiny settings and write sane JSON (no speed assertions).

One module-scoped run of ``bench_train`` and ``bench_eval`` (``tiny=True``: a few
batches of the tiny synthetic data, fresh worker processes as in the real
benchmark) feeds every test; the report section is rendered from its files.

    PADDLE_MNIST_CACHE=/tmp/pmcache python -m pytest tests/test_bench.py -q
"""
from __future__ import annotations

import json
import math
import os

import pytest
from conftest import REPO, make_splits, write_course_file

from paddle_mnist.perf import env as _env
from paddle_mnist.bench import train as bt
from paddle_mnist.bench import flops
from paddle_mnist.bench import workers as bench_workers
from paddle_mnist.report.context import Context

CASES = ["mlp_b100", "mlp_b32", "softmax_b100"]
STATS = ("median", "min", "max", "n", "values")


def _quiet(*args, **kwargs):
    pass


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench")
    data = write_course_file(root / "tiny.json.gz", make_splits(n_train=120, n_valid=30, n_eval=10))
    out = root / "out"
    train = bt.bench_train(repeats=1, out_dir=out, tiny=True, data_path=data, log=_quiet)
    evaluation = bt.bench_eval(repeats=1, out_dir=out, tiny=True, data_path=data, log=_quiet)
    return out, json.loads(train.read_text()), json.loads(evaluation.read_text())


def _is_stats(e) -> bool:
    return (all(k in e for k in STATS) and e["n"] == len(e["values"]) >= 1
            and e["min"] <= e["median"] <= e["max"] and e["min"] > 0)


def _close(a, b) -> bool:
    return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9)


def test_flop_count_and_batches():
    # 784-200-200-10: forward 2*198,800 per sample, weight gradients as much, input gradients of layers 2-3
    assert flops.gemm_flops((784, 200, 200, 10), 1) == 4 * 198_800 + 2 * (200 * 200 + 200 * 10)
    assert flops.gemm_flops((784, 10), 50_000) == 4 * 784 * 10 * 50_000
    assert flops.forward_flops((784, 200, 200, 10), 10_000) == 2 * 198_800 * 10_000
    sizes = flops.batch_sizes(50_000, 32)
    assert len(sizes) == 1563 and sum(sizes) == 50_000 and sizes[-1] == 16
    assert flops.batch_sizes(50_000, 100, max_batches=4) == [100] * 4


def test_worker_environments(monkeypatch):
    monkeypatch.setenv("PADDLE_MNIST_TUNED", "0")
    env_for = bench_workers._env_for
    as_installed, tuned, gemm = env_for("as_installed"), env_for("tuned"), env_for("gemm")
    assert as_installed["PADDLE_MNIST_TUNED"] == "0" and "MKL_DEBUG_CPU_TYPE" not in as_installed
    assert "PADDLE_MNIST_TUNED" not in tuned  # the worker's own import applies the tuned settings
    assert gemm["OPENBLAS_NUM_THREADS"] == "1" and gemm["OMP_NUM_THREADS"] == "1"


def test_train_json_layout_and_sane_numbers(bench):
    out, b, _ = bench
    assert (out / "train.json").is_file()
    assert b["command"].startswith("python -m paddle_mnist bench train") and b["settings"]["tiny"] is True
    m = b["machine"]
    assert m["cores"] >= 1 and m["cpu"] and m["paddle"] and m["threads"]["paddle_default"] == 1
    assert "version" in m["mkl"] and "max_threads" in m["mkl"]
    assert b["environments"]["as_installed"]["PADDLE_MNIST_TUNED"] == "0"
    assert b["environments"]["as_installed"]["MKL_DEBUG_CPU_TYPE"] is None
    assert b["environments"]["tuned_1thread"]["PADDLE_MNIST_THREADS"] == "1"
    assert b["environments"]["tuned"]["MKL_CBWR"] == os.environ.get("MKL_CBWR", "AUTO,STRICT")

    assert _is_stats(b["gemm"]["square_gflops"])
    assert sorted(b["cases"]) == sorted(CASES)
    for name, c in b["cases"].items():
        for key in ("engine", "engine_train_loop", "engine_csv_seconds", "engine_eval", "paddle_tuned",
                    "paddle_tuned_2threads", "paddle_as_installed", "flop_limit", "gemm_gflops",
                    "engine_peak_rss_mb"):
            assert _is_stats(c[key]), (name, key, c[key])
        assert c["paddle_tuned"]["threads"] == 1 and c["paddle_tuned_2threads"]["threads"] == 2
        assert _is_stats(c["engine_1thread"]) and c["engine_1thread"]["mkl_threads"] == 1
        assert c["engine_mkl_threads"] == (_env.train_threads() or c["engine_mkl_threads"])
        assert c["engine_logging"]["min"] >= 0 and c["engine_checkpoint"]["min"] > 0
        assert 0 < c["engine_overhead_fraction"]["median"] < 1
        batches = flops.batch_sizes(120, c["batch_size"], 4)
        assert c["gemm_flops"] == sum(flops.gemm_flops(c["sizes"], n) for n in batches)
        assert c["steps"] == len(batches)
        # the parts of an engine epoch fit inside it
        assert c["engine_csv_seconds"]["median"] <= c["engine"]["median"]
        r = c["ratios"]
        med = {k: c[k]["median"] for k in ("engine", "paddle_tuned", "paddle_as_installed", "flop_limit",
                                              "engine_train_loop", "paddle_tuned_2threads")}
        assert _close(r["tuned_vs_as_installed"], med["paddle_tuned"] / med["paddle_as_installed"])
        assert _close(r["engine_vs_flop_limit"], med["engine"] / med["flop_limit"])
        assert _close(r["engine_vs_tuned_loop"], med["engine"] / med["paddle_tuned"])
        assert _close(r["two_threads_vs_one"], med["paddle_tuned_2threads"] / med["paddle_tuned"])
        assert _close(r["engine_1thread_vs_engine"], c["engine_1thread"]["median"] / med["engine"])

        if b["torch"]["available"]:
            assert _is_stats(c["torch"]) and _is_stats(c["torch_1thread"])
            assert _close(r["engine_vs_torch"], med["engine"] / c["torch"]["median"])
            assert _close(r["engine_train_loop_vs_torch"], med["engine_train_loop"] / c["torch"]["median"])
            assert c["goals"]["engine_vs_torch_met"] == (r["engine_vs_torch"] <= bt.GOALS[name])
        else:
            assert r["engine_vs_torch"] is None and c["goals"]["engine_vs_torch_met"] is None
            assert any("torch" in note for note in b["notes"])
        for run in c["engine_runs"]:
            assert run["status"] == "ok" and len(run["csv_seconds"]) == 2
    assert b["peak_rss_mb"] == max(c["engine_peak_rss_mb"]["max"] for c in b["cases"].values())
    p = b["profile"]
    assert p["case"] == "mlp_b100" and p["step_ms"] > 0 and p["ops"]
    names = {o["name"] for o in p["ops"]}
    assert any("matmul" in n or "addmm" in n for n in names)  # the GEMMs show up in the profile
    assert {ph["name"] for ph in p["phases"]} == {"data: as_tensor", "forward", "loss", "loss.item()", "backward",
                                                  "optimizer step", "clear_grad"}  # every piece the loop calls
    assert math.isclose(sum(ph["share"] for ph in p["phases"]), 1.0, rel_tol=1e-6)
    assert all(o["ms_per_step"] > 0 and 0 < o["share"] <= 1 for o in p["ops"])


def test_torch_worker_stays_free_of_paddle(bench):
    _, b, _ = bench
    if not b["torch"]["available"]:
        pytest.skip("torch not installed")
    assert b["torch"]["threads"] >= 1 and b["environments"]["torch"]["PADDLE_MNIST_TUNED"] == "0"


def test_eval_json_layout_and_sane_numbers(bench):
    out, _, e = bench
    assert (out / "eval.json").is_file() and e["command"].startswith("python -m paddle_mnist bench eval")
    assert e["settings"]["n"] == 30
    v = e["variants"]
    assert v["tuned_engine_in_fit"]["threads"] == (_env.train_threads() or 1)
    for key in ("tuned_engine_in_fit", "tuned_engine_evaluate", "tuned_one_tensor", "tuned_one_tensor_2threads", "tuned_batches_of_100",
                "as_installed_engine_evaluate"):
        assert _is_stats(v[key]), key
    assert _is_stats(e["flop_limit"]) and e["flop_limit"]["flops"] == 2 * 198_800 * 30
    assert _close(e["ratios"]["one_tensor_vs_engine_evaluate"],
                  v["tuned_one_tensor"]["median"] / v["tuned_engine_evaluate"]["median"])
    assert _close(e["ratios"]["two_threads_vs_one"],
                  v["tuned_one_tensor_2threads"]["median"] / v["tuned_one_tensor"]["median"])
    g = e["goals"]["under_40ms"]
    assert g["engine_evaluate"] == (v["tuned_engine_evaluate"]["median"] < 0.040)
    assert g["engine_in_fit"] == (v["tuned_engine_in_fit"]["median"] < 0.040)
    assert g["fastest_variant"] in v and e["peak_rss_mb"] > 0


def test_performance_section_renders_from_the_files(bench, tmp_path):
    from paddle_mnist.report.performance import section_performance

    out, b, e = bench
    md = section_performance(Context(tmp_path / "results", tmp_path / "figures", out, tmp_path))
    assert md.startswith("## Performance")
    assert "tiny=True" in md and b["command"] in md
    assert "| epoch | median | min – max | vs PyTorch | vs FLOP limit |" in md
    assert "| valid scoring | median |" in md and "| operator | calls/step |" in md
    assert f"{1000 * e['variants']['tuned_engine_evaluate']['median']:.1f} ms" in md
    assert ("**Goals missed in these figures:**" in md) or ("Every performance goal" in md)
    if not e["goals"]["under_40ms"]["engine_evaluate"]:
        assert "valid scoring through engine.evaluate" in md


def test_performance_section_without_files(tmp_path):
    from paddle_mnist.report.performance import section_performance

    md = section_performance(Context(tmp_path / "r", tmp_path / "f", tmp_path / "nothing", tmp_path))
    assert "python -m paddle_mnist bench train" in md and "python -m paddle_mnist bench eval" in md
    assert "missed" not in md


def test_worker_failure_names_the_worker(monkeypatch):
    monkeypatch.setenv("PADDLE_MNIST_DATA", os.devnull + "-missing")
    with pytest.raises(RuntimeError, match="benchmark worker loop"):
        bench_workers._spawn({"kind": "loop", "framework": "paddle", "cases": [["mlp", 100]], "seed": 0,
                              "data_path": None, "max_batches": 1, "warmup_batches": 1}, "tuned")


def test_peak_rss_is_the_childs_own_not_the_parents():
    """ru_maxrss survives fork+exec on Linux; the benchmarks' probes must report their own peak."""
    import subprocess
    import sys

    import numpy as np

    from paddle_mnist.bench.measure import peak_rss_mb

    ballast = np.ones(400 * 2**20 // 8)  # 400 MB resident in this (parent) process
    assert peak_rss_mb() > 400
    code = "from paddle_mnist.bench.measure import peak_rss_mb; print(peak_rss_mb())"
    child = float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
    assert 0 < child < 200, child
    del ballast


def test_ratio_spread_is_round_by_round_and_best_against_best():
    from paddle_mnist.report.performance import _spread

    case = {"engine": {"values": [1.0, 2.0, 1.5], "min": 1.0}, "torch": {"values": [2.0, 2.0, 1.0], "min": 1.0}}
    text = _spread(case)
    assert "round by round 0.50x – 1.50x" in text and "best epoch against best epoch 1.00x" in text
    assert _spread({"engine": case["engine"]}) == ""  # no PyTorch rows: nothing to say
    assert _spread({"engine": case["engine"], "torch": {"values": [1.0], "min": 1.0}}) == ""  # rounds unpaired


def test_committed_performance_section_says_each_case_once():
    """Each case gets one prose line, and 'not measured' only when PyTorch really has no rows."""
    from paddle_mnist.report.performance import CASE_TITLES, section_performance

    b = json.loads((REPO / "reports" / "bench" / "train.json").read_text())
    md = section_performance(Context(REPO / "reports" / "results", REPO / "reports" / "figures",
                                     REPO / "reports" / "bench", REPO))
    for name in b["cases"]:
        assert md.count(f"- **{CASE_TITLES[name]}**:") == 1, name
    assert ("PyTorch was not measured" in md) == (not b["torch"]["available"])
