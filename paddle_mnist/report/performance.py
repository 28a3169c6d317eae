"""The performance section of ``reports/REPORT.md``, generated from ``reports/bench/{train,eval,data}.json``.

Every number comes from the JSON written by ``bench_train``/``bench_eval``
(``python -m paddle_mnist bench train``, ``... bench eval``); a goal that the
figures miss is said to be missed.

    python -m paddle_mnist report
"""
from __future__ import annotations

CASE_TITLES = {"mlp_b100": "MLP 784-200-200-10, batch 100", "mlp_b32": "MLP 784-200-200-10, batch 32",
               "softmax_b100": "softmax regression 784-10, batch 100"}
CONTENDERS = [("engine", "paddle_mnist engine at its defaults (tuned, default threads; progress bar, VisualDL, "
                         "checkpoints, valid scored)"),
              ("engine_train_loop", "  its training loop alone (metrics.csv seconds minus evaluation)"),
              ("engine_1thread", "paddle_mnist engine, tuned, `PADDLE_MNIST_THREADS=1` (as in each parallel worker)"),
              ("paddle_tuned", "plain Paddle loop, tuned settings"),
              ("paddle_tuned_2threads", "plain Paddle loop, tuned, 2 MKL threads"),
              ("paddle_as_installed", "plain Paddle loop, Paddle as installed"),
              ("torch", "PyTorch, default threads"),
              ("torch_1thread", "PyTorch, 1 thread"),
              ("flop_limit", "FLOP limit (numpy GEMMs of the epoch, 1 thread)")]


def _table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _s(x, unit: str = "s") -> str:
    if x is None:
        return "n/a"
    if unit == "ms":
        return f"{1000 * x:.1f} ms"
    return f"{x:.3f} s" if x < 10 else f"{x:.1f} s"


def _range(e, unit: str = "s") -> str:
    return "n/a" if e is None else f"{_s(e['min'], unit)} – {_s(e['max'], unit)}"


def _x(r) -> str:
    return "n/a" if r is None else f"{r:.2f}x"


def _verdict(ok) -> str:
    return "n/a" if ok is None else ("met" if ok else "**missed**")


def _median(case: dict, key: str):
    e = case.get(key)
    return None if e is None else e["median"]


def _machine_line(b: dict) -> str:
    m = b.get("machine", {})
    mkl = (m.get("mkl") or {}).get("version") or "unknown MKL"
    env = (b.get("environments") or {}).get("tuned") or m.get("env", {})
    threads = next(iter((b.get("cases") or {}).values()), {}).get("engine_mkl_threads", "?")

    torch = f", PyTorch {m['torch']} ({m.get('threads', {}).get('torch_default', '?')} threads by default)" \
        if m.get("torch") else ""
    return (f"Machine: {m.get('cpu', '?')}, {m.get('cores', '?')} cores; Paddle {m.get('paddle', '?')} with {mkl}"
            f"{torch}; numpy {m.get('numpy', '?')}. Environment of the tuned runs: "
            f"`MKL_DEBUG_CPU_TYPE={env.get('MKL_DEBUG_CPU_TYPE') or '(unset)'}`, "
            f"`MKL_CBWR={env.get('MKL_CBWR') or '(unset)'}`, "
            f"`PADDLE_MNIST_TUNED={env.get('PADDLE_MNIST_TUNED') or '(unset)'}`. "
            f"The engine trains on {threads} MKL threads "
            f"by default (`PADDLE_MNIST_THREADS` overrides); the plain Paddle loops run on Paddle's one thread "
            f"unless a row says otherwise.")


def _spread(case: dict, a: str = "engine", b: str = "torch") -> str:
    """How far the ratio ``a/b`` moves on a noisy machine: round by round, and best epoch against best epoch."""
    ea, eb = case.get(a), case.get(b)
    if not ea or not eb or len(ea.get("values", [])) != len(eb.get("values", [])) or not eb["values"]:
        return ""
    per_round = [x / y for x, y in zip(ea["values"], eb["values"]) if y]
    return (f"; round by round {_x(min(per_round))} – {_x(max(per_round))}, best epoch against best epoch "
            f"{_x(ea['min'] / eb['min'])}")


def _train_part(b: dict) -> list[str]:
    out = []
    s = b["settings"]
    cases = b["cases"]
    if s.get("tiny"):
        out.append("_These figures come from `tiny=True` settings (a few batches per epoch): they test the "
                   "benchmark code, not the speed._\n")
    out.append(f"Each figure is the median of {s['repeats']} rounds (min – max beside it); in every round each "
               "contender ran one epoch in a fresh process after a warm-up, with the same batches in the same "
               f"order (seed {s['seed']}), so every ratio below comes from the same run of `{b['command']}`. "
               + _machine_line(b) + "\n")
    missed, stretch = [], []
    prose = []
    for name, case in cases.items():
        r, g = case["ratios"], case["goals"]
        eng = _median(case, "engine")
        torch = _median(case, "torch")
        title = CASE_TITLES.get(name, name)
        if torch is not None:
            prose.append(f"- **{title}**: the engine's epoch takes {_s(eng)} against {_s(torch)} for PyTorch, "
                         f"**{_x(r['engine_vs_torch'])}** (goal at most {g['engine_vs_torch_max']}x: "
                         f"{_verdict(g['engine_vs_torch_met'])}{_spread(case)}; its training loop alone "
                         f"{_x(r['engine_train_loop_vs_torch'])}; against PyTorch on one thread "
                         f"{_x(r.get('engine_vs_torch_1thread'))}"
                         + (f"; on one MKL thread the engine takes {_s(_median(case, 'engine_1thread'))}, "
                            f"{_x(r['engine_1thread_vs_torch'])} PyTorch"
                            if r.get("engine_1thread_vs_torch") is not None else "")
                         + "). The tuned settings make the plain Paddle loop "

                         f"{_x(1 / r['tuned_vs_as_installed'] if r['tuned_vs_as_installed'] else None)} faster than "
                         f"Paddle as installed ({_s(_median(case, 'paddle_as_installed'))} → "
                         f"{_s(_median(case, 'paddle_tuned'))}); the engine is {_x(r['engine_vs_flop_limit'])} the "
                         f"FLOP limit of {_s(_median(case, 'flop_limit'))} (stretch goal within 2x: "
                         f"{_verdict(g['stretch_within_2x_flop_limit'])}).")
            if g["engine_vs_torch_met"] is False:
                missed.append(f"{title}: engine/PyTorch {_x(r['engine_vs_torch'])}, goal {g['engine_vs_torch_max']}x")
        else:
            prose.append(f"- **{title}**: the engine's epoch takes {_s(eng)}; PyTorch was not measured. "
                         f"Tuned vs as installed {_x(r['tuned_vs_as_installed'])}; engine vs FLOP limit "
                         f"{_x(r['engine_vs_flop_limit'])}.")
        if g.get("stretch_within_2x_flop_limit") is False:
            stretch.append(f"{title}: {_x(r['engine_vs_flop_limit'])} the FLOP limit")
        if g.get("overhead_under_5pct") is False:
            missed.append(f"{title}: logging + checkpoint overhead "
                          f"{100 * case['engine_overhead_fraction']['median']:.1f}% of the epoch, goal < 5%")
    out.append("\n".join(prose) + "\n")
    if b.get("notes"):
        out.append("Notes: " + "; ".join(b["notes"]) + ".\n")
    # one table per case
    for name, case in cases.items():
        flop = _median(case, "flop_limit")
        torch = _median(case, "torch")
        rows = []
        for key, label in CONTENDERS:
            e = case.get(key)
            if e is None:
                continue
            rows.append([label, _s(e["median"]), _range(e), _x(e["median"] / torch) if torch else "n/a",
                         _x(e["median"] / flop) if flop else "n/a"])
        out.append(f"**{CASE_TITLES.get(name, name)}** ({case['steps']} steps, {case['samples']:,} samples, "
                   f"{case['gemm_flops'] / 1e9:.1f} GFLOP of matrix products; numpy reaches "
                   f"{case['gemm_gflops']['median']:.0f} GFLOP/s on these shapes)\n")
        out.append(_table(["epoch", "median", "min – max", "vs PyTorch", "vs FLOP limit"], rows) + "\n")
    # engine overhead
    rows = []
    for name, case in cases.items():
        rows.append([CASE_TITLES.get(name, name), _s(_median(case, "engine")), _s(_median(case, "engine_eval"), "ms"),
                     _s(_median(case, "engine_logging"), "ms"), _s(_median(case, "engine_checkpoint"), "ms"),
                     f"{100 * case['engine_overhead_fraction']['median']:.1f}%",
                     _x(case["ratios"]["engine_vs_tuned_loop"]),
                     f"{case['engine_peak_rss_mb']['max']:.0f} MB"])
    out.append("Where the engine's epoch goes beyond the training steps: scoring `valid`, VisualDL logging and "
               "`metrics.csv`, and the two checkpoint writes (best weights and the resume checkpoint). "
               "Goal: logging and checkpointing under 5% of the epoch; peak memory of a training run under 1 GB.\n")
    out.append(_table(["case", "engine epoch", "valid scoring", "logging", "checkpoints", "logging + checkpoints",
                       "engine / plain loop", "peak RSS"], rows) + "\n")
    rss_ok = b["goals"].get("peak_rss_under_1gb")
    if rss_ok is False:
        missed.append(f"peak RSS {b['peak_rss_mb']:.0f} MB, goal under 1 GB")
    if stretch:
        out.append("Stretch goal (an epoch within 2x of the FLOP limit) missed: " + "; ".join(stretch) + ".\n")
    # profile
    p = b.get("profile")
    if p:
        phases = ", ".join(f"{ph['name']} {ph['ms_per_step']:.2f} ms" for ph in p["phases"])
        out.append(f"`paddle.profiler` over {p['steps']} steps of {p['case']} doing exactly the engine's per-step "
                   f"work ({p['step_ms']:.2f} ms per step unprofiled): {phases}. Top operators per step:\n")
        rows = [[o["name"], f"{o['calls_per_step']:g}", f"{o['ms_per_step']:.3f} ms", f"{o['us_per_call']:.1f} µs",
                 f"{100 * o['share']:.1f}%"] for o in p["ops"][:12]]
        out.append(_table(["operator", "calls/step", "time/step", "per call", "share of op time"], rows) + "\n")
    return out, missed


def _eval_part(e: dict) -> tuple[list[str], list[str]]:
    v = e["variants"]
    r = e["ratios"]
    missed = []

    def m(key):
        return v[key]["median"] if key in v else None

    labels = {"tuned_engine_in_fit": (f"`engine.evaluate` as `fit` calls it each epoch (kept tensors, one batch, "
                                      f"{v.get('tuned_engine_in_fit', {}).get('threads', '?')} MKL threads)"),
              "tuned_engine_evaluate": "`engine.evaluate` on numpy arrays (converted each call), one thread",
              "tuned_one_tensor": "the split kept as a Paddle tensor, one batch, `no_grad`",
              "tuned_one_tensor_2threads": "the same with 2 MKL threads",
              "tuned_batches_of_100": "`engine.evaluate(batch_size=100)`",
              "as_installed_engine_in_fit": "`engine.evaluate` on kept tensors, Paddle as installed",
              "as_installed_engine_evaluate": "`engine.evaluate` on numpy arrays, Paddle as installed",
              "as_installed_one_tensor": "kept tensor, Paddle as installed",
              "as_installed_one_tensor_2threads": "kept tensor, 2 threads, Paddle as installed",
              "as_installed_batches_of_100": "batches of 100, Paddle as installed",
              "torch_one_batch": "PyTorch, one batch, default threads"}
    flop = e["flop_limit"]["median"]
    rows = [[labels.get(k, k), _s(x["median"], "ms"), _range(x, "ms"), _x(x["median"] / flop)]
            for k, x in v.items()]
    rows.append(["FLOP limit (numpy forward GEMMs, 1 thread)", _s(flop, "ms"), _range(e["flop_limit"], "ms"),
                 "1.00x"])

    g = e["goals"]["under_40ms"]
    fastest = labels.get(g["fastest_variant"], g["fastest_variant"])
    in_fit = g.get("engine_in_fit")
    out = [f"Scoring `valid` ({e['settings']['n']:,} images) with the MLP takes "
           f"{_s(m('tuned_engine_in_fit'), 'ms')} as `fit` does it every epoch (the split kept as Paddle tensors, "
           f"the engine's threads); on one thread {_s(m('tuned_engine_evaluate'), 'ms')} through `engine.evaluate` "
           f"from numpy arrays and {_s(m('tuned_one_tensor'), 'ms')} "
           f"with the split kept as a Paddle tensor ({_x(r['one_tensor_vs_engine_evaluate'])}); two MKL threads give "
           f"{_s(m('tuned_one_tensor_2threads'), 'ms')} ({_x(r['two_threads_vs_one'])}). Goal under 40 ms: "
           f"{_verdict(in_fit)} for the engine's own scoring, "
           f"{_verdict(g['engine_evaluate'])} for `engine.evaluate` from numpy on one thread, "
           f"{_verdict(g['fastest_met'])} for the fastest "
           f"variant ({fastest}). Medians of {e['settings']['rounds']} rounds x {e['settings']['calls_per_round']} "
           f"calls (`{e['command']}`).\n",
           _table(["valid scoring", "median", "min – max", "vs FLOP limit"], rows) + "\n"]
    if in_fit is False:
        missed.append(f"valid scoring in the engine {_s(m('tuned_engine_in_fit'), 'ms')}, goal < 40 ms")
    return out, missed


def section_performance(ctx) -> str:
    """``## Performance``: engine vs Paddle as installed vs PyTorch vs FLOP limit, valid scoring, memory, profile."""
    out = ["## Performance\n"]
    b, e, d = ctx.bench("train"), ctx.bench("eval"), ctx.bench("data")
    missed = []
    if b is None:
        out.append("_No training benchmark yet: run `python -m paddle_mnist bench train`._\n")
    else:
        part, miss = _train_part(b)
        out += part
        missed += miss
    if e is None:
        out.append("_No evaluation benchmark yet: run `python -m paddle_mnist bench eval`._\n")
    else:
        part, miss = _eval_part(e)
        out += part
        missed += miss
    if d is not None and "ratios" in d:
        out.append(f"Data loading (`{d['command']}`): one epoch of batches from `load_data` takes "
                   f"{_s(d['ours_epoch_s']['median'], 'ms')} against {_s(d['assignment_epoch_s']['median'])} for the "
                   f"assignment's loader ({d['ratios']['epoch_speedup']:.0f}x), a warm `load_data` call "
                   f"{_s(d['ours_warm_load_s']['median'], 'ms')} against {_s(d['assignment_load_s']['median'])} "
                   f"({d['ratios']['warm_load_speedup']:,.0f}x).\n")
    if b is not None or e is not None:
        if missed:
            out.append("**Goals missed in these figures:** " + "; ".join(missed) + ".\n")
        else:
            out.append("Every performance goal that was measured is met in these figures (stretch goals apart).\n")
    return "\n".join(out) + "\n"
