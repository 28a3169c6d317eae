"""The performance section of ``reports/REPORT.md``, generated from ``reports/bench/{train,eval,data,apps}.json``
and the timing benchmark's batch-size and saving arms (``reports/bench/timing.json``).

Every number comes from the JSON written by ``bench_train``/``bench_eval``
(``python -m paddle_mnist bench train``, ``... bench eval``); a goal that the
figures miss is said to be missed.

    python -m paddle_mnist report
"""
from __future__ import annotations

from paddle_mnist.format import goal, ratio, seconds, seconds_range, table

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
    return (f"; round by round {ratio(min(per_round))} – {ratio(max(per_round))}, best epoch against best epoch "
            f"{ratio(ea['min'] / eb['min'])}")


def _case_line(name: str, case: dict, missed: list[str], stretch: list[str]) -> str:
    """One case's prose line; its missed goals go to ``missed`` and ``stretch``."""
    r, g = case["ratios"], case["goals"]
    eng = _median(case, "engine")
    torch = _median(case, "torch")
    title = CASE_TITLES.get(name, name)
    if torch is not None:
        line = (f"- **{title}**: the engine's epoch takes {seconds(eng)} against {seconds(torch)} for PyTorch, "
                f"**{ratio(r['engine_vs_torch'])}** (goal at most {g['engine_vs_torch_max']}x: "
                f"{goal(g['engine_vs_torch_met'])}{_spread(case)}; its training loop alone "
                f"{ratio(r['engine_train_loop_vs_torch'])}; against PyTorch on one thread "
                f"{ratio(r.get('engine_vs_torch_1thread'))}"
                + (f"; on one MKL thread the engine takes {seconds(_median(case, 'engine_1thread'))}, "
                   f"{ratio(r['engine_1thread_vs_torch'])} PyTorch"
                   if r.get("engine_1thread_vs_torch") is not None else "")
                + "). The tuned settings make the plain Paddle loop "
                f"{ratio(1 / r['tuned_vs_as_installed'] if r['tuned_vs_as_installed'] else None)} faster than "
                f"Paddle as installed ({seconds(_median(case, 'paddle_as_installed'))} → "
                f"{seconds(_median(case, 'paddle_tuned'))}); the engine is {ratio(r['engine_vs_flop_limit'])} the "
                f"FLOP limit of {seconds(_median(case, 'flop_limit'))} (stretch goal within 2x: "
                f"{goal(g['stretch_within_2x_flop_limit'])}).")
        if g["engine_vs_torch_met"] is False:
            missed.append(f"{title}: engine/PyTorch {ratio(r['engine_vs_torch'])}, goal {g['engine_vs_torch_max']}x")
    else:
        line = (f"- **{title}**: the engine's epoch takes {seconds(eng)}; PyTorch was not measured. "
                f"Tuned vs as installed {ratio(r['tuned_vs_as_installed'])}; engine vs FLOP limit "
                f"{ratio(r['engine_vs_flop_limit'])}.")
    if g.get("stretch_within_2x_flop_limit") is False:
        stretch.append(f"{title}: {ratio(r['engine_vs_flop_limit'])} the FLOP limit")
    if g.get("overhead_under_5pct") is False:
        missed.append(f"{title}: logging + checkpoint overhead "
                      f"{100 * case['engine_overhead_fraction']['median']:.1f}% of the epoch, goal < 5%")
    return line


def _case_tables(cases: dict) -> list[str]:
    """One table per case: every contender's epoch, against PyTorch and the FLOP limit."""
    out = []
    for name, case in cases.items():
        flop = _median(case, "flop_limit")
        torch = _median(case, "torch")
        rows = []
        for key, label in CONTENDERS:
            e = case.get(key)
            if e is None:
                continue
            rows.append([label, seconds(e["median"]), seconds_range(e),
                         ratio(e["median"] / torch) if torch else "n/a", ratio(e["median"] / flop) if flop else "n/a"])
        out.append(f"**{CASE_TITLES.get(name, name)}** ({case['steps']} steps, {case['samples']:,} samples, "
                   f"{case['gemm_flops'] / 1e9:.1f} GFLOP of matrix products; numpy reaches "
                   f"{case['gemm_gflops']['median']:.0f} GFLOP/s on these shapes)\n")
        out.append(table(["epoch", "median", "min – max", "vs PyTorch", "vs FLOP limit"], rows) + "\n")
    return out


def _overhead_part(cases: dict) -> list[str]:
    """Where the engine's epoch goes beyond the training steps, per case."""
    rows = []
    for name, case in cases.items():
        rows.append([CASE_TITLES.get(name, name), seconds(_median(case, "engine")),
                     seconds(_median(case, "engine_eval"), "ms"), seconds(_median(case, "engine_logging"), "ms"),
                     seconds(_median(case, "engine_checkpoint"), "ms"),
                     f"{100 * case['engine_overhead_fraction']['median']:.1f}%",
                     ratio(case["ratios"]["engine_vs_tuned_loop"]),
                     f"{case['engine_peak_rss_mb']['max']:.0f} MB"])
    return ["Where the engine's epoch goes beyond the training steps: scoring `valid`, VisualDL logging and "
            "`metrics.csv`, and the two checkpoint writes (best weights and the resume checkpoint). "
            "Goal: logging and checkpointing under 5% of the epoch; peak memory of a training run under 1 GB.\n",
            table(["case", "engine epoch", "valid scoring", "logging", "checkpoints", "logging + checkpoints",
                   "engine / plain loop", "peak RSS"], rows) + "\n"]


def _profile_part(p: dict) -> list[str]:
    """The ``paddle.profiler`` summary of one training step: phases and top operators."""
    phases = ", ".join(f"{ph['name']} {ph['ms_per_step']:.2f} ms" for ph in p["phases"])
    rows = [[o["name"], f"{o['calls_per_step']:g}", f"{o['ms_per_step']:.3f} ms", f"{o['us_per_call']:.1f} µs",
             f"{100 * o['share']:.1f}%"] for o in p["ops"][:12]]
    return [f"`paddle.profiler` over {p['steps']} steps of {p['case']} doing exactly the engine's per-step "
            f"work ({p['step_ms']:.2f} ms per step unprofiled): {phases}. Top operators per step:\n",
            table(["operator", "calls/step", "time/step", "per call", "share of op time"], rows) + "\n"]


def _train_part(b: dict) -> tuple[list[str], list[str]]:
    """The training benchmark's prose and tables, and the goals it missed."""
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
    prose = [_case_line(name, case, missed, stretch) for name, case in cases.items()]
    out.append("\n".join(prose) + "\n")
    if b.get("notes"):
        out.append("Notes: " + "; ".join(b["notes"]) + ".\n")
    out += _case_tables(cases)
    out += _overhead_part(cases)
    if b["goals"].get("peak_rss_under_1gb") is False:
        missed.append(f"peak RSS {b['peak_rss_mb']:.0f} MB, goal under 1 GB")
    if stretch:
        out.append("Stretch goal (an epoch within 2x of the FLOP limit) missed: " + "; ".join(stretch) + ".\n")
    if b.get("profile"):
        out += _profile_part(b["profile"])
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
    rows = [[labels.get(k, k), seconds(x["median"], "ms"), seconds_range(x, "ms"), ratio(x["median"] / flop)]
            for k, x in v.items()]
    rows.append(["FLOP limit (numpy forward GEMMs, 1 thread)", seconds(flop, "ms"), seconds_range(e["flop_limit"], "ms"),
                 "1.00x"])

    g = e["goals"]["under_40ms"]
    fastest = labels.get(g["fastest_variant"], g["fastest_variant"])
    in_fit = g.get("engine_in_fit")
    out = [f"Scoring `valid` ({e['settings']['n']:,} images) with the MLP takes "
           f"{seconds(m('tuned_engine_in_fit'), 'ms')} as `fit` does it every epoch (the split kept as Paddle tensors, "
           f"the engine's threads); on one thread {seconds(m('tuned_engine_evaluate'), 'ms')} through `engine.evaluate` "
           f"from numpy arrays and {seconds(m('tuned_one_tensor'), 'ms')} "
           f"with the split kept as a Paddle tensor ({ratio(r['one_tensor_vs_engine_evaluate'])}); two MKL threads give "
           f"{seconds(m('tuned_one_tensor_2threads'), 'ms')} ({ratio(r['two_threads_vs_one'])}). Goal under 40 ms: "
           f"{goal(in_fit)} for the engine's own scoring, "
           f"{goal(g['engine_evaluate'])} for `engine.evaluate` from numpy on one thread, "
           f"{goal(g['fastest_met'])} for the fastest "
           f"variant ({fastest}). Medians of {e['settings']['rounds']} rounds x {e['settings']['calls_per_round']} "
           f"calls (`{e['command']}`).\n",
           table(["valid scoring", "median", "min – max", "vs FLOP limit"], rows) + "\n"]
    if in_fit is False:
        missed.append(f"valid scoring in the engine {seconds(m('tuned_engine_in_fit'), 'ms')}, goal < 40 ms")
    if g.get("engine_evaluate") is False:
        missed.append(f"`engine.evaluate` from numpy on one thread {seconds(m('tuned_engine_evaluate'), 'ms')}, "
                      f"goal < 40 ms")
    return out, missed


def _apps_part(a: dict) -> list[str]:
    """The exported models' parity, the demo's time per drawing and one vs two training processes."""
    ex, demo, dist = a["export"], a["demo"], a["distributed"]
    parity = "; ".join(f"{name}: largest |logit difference| {m['max_abs_logit_diff']:.2g} over {m['images']:,} "
                       f"`test` images, accuracy {m['inference_acc']:.2%} exported vs {m['dygraph_acc']:.2%} dygraph"
                       for name, m in ex.items())
    one, two = dist["1_process"], dist["2_process"]
    return [f"Using the model (`{a['command']}`): the exported inference models against the dygraph ones, {parity}. "
            f"The demo page answers a drawing in {demo['server_ms']['median']:.1f} ms on the server (preprocessing "
            f"and both models; median of {demo['requests_per_round']} requests, median over "
            f"{demo['server_ms']['n']} rounds, range {demo['server_ms']['min']:.1f}-{demo['server_ms']['max']:.1f} "
            f"ms). One MLP epoch (batch 100) takes {seconds(one['median'])} in one process and "
            f"{seconds(two['median'])} in two data-parallel processes (`train --nproc 2`, gloo): "
            f"{dist['speedup']:.2f}x the speed of one process, medians of {one['n']} runs each. On one machine the "
            f"processes share its cores and exchange every gradient after each step; the data-parallel path is "
            f"there for more machines or GPUs (`--nproc`, `paddle.distributed.launch --ips`).\n"]


def _ms(e) -> str:
    """A statistics entry's median, min and max seconds in milliseconds (2 decimals)."""
    return f"{1000 * e['median']:.2f} ms ({1000 * e['min']:.2f} – {1000 * e['max']:.2f})"


def _timing_part(t: dict) -> list[str]:
    """The timing benchmark's batch sizes around powers of 2 (source 002 §6) and its two ways to save (source 001):
    medians of the rounds (min – max), per-round ratios; the ledger's verdicts are in the claims section."""
    out = []
    groups = t.get("batch_sizes") or {}
    if groups:
        rows = []
        for g in groups.values():
            for n, s in g["sizes"].items():
                r = g["ratios"].get(n)
                rows.append([n, _ms(s["cpu_s_per_1000"]), _ms(s["wall_s_per_1000"]),
                             "—" if r is None else f"{r['cpu']['median']:.3f} ({r['cpu']['min']:.3f} – "
                             f"{r['cpu']['max']:.3f})"])
        out += [f"Mini-batch sizes around powers of 2 (source 002 §6, `{t['command']}`): the `mlp` study's MLP, one MKL "
                "thread, a fixed number of samples per size, the three sizes of each k interleaved chunk by chunk in "
                f"one fresh process per round; medians of {t['repeats']} rounds (min – max). A ratio above 1: the "
                "power of 2 took fewer CPU seconds per sample than that neighbour.\n",
                table(["batch", "CPU per 1,000 samples", "wall per 1,000 samples", "CPU ratio to 2^k, per round"],
                      rows) + "\n"]
    arms = t.get("arms", {})
    if "save-params" in arms and "save-whole" in arms:
        r = t["ratios"]["save whole / parameters"]["cpu"]
        rows = [[label, _ms(arms[a]["cpu_s_per_save"]), _ms(arms[a]["wall_s_per_save"]),
                 f"{1000 * arms[a]['first_cpu_s']['median']:.1f} ms", f"{arms[a]['bytes']['median']:,.0f}"]
                for a, label in (("save-params", "parameters: `paddle.save(model.state_dict(), path)`"),
                                 ("save-whole", "whole network: `paddle.jit.save(model, prefix, input_spec=...)`"))]
        out += [f"Saving the MLP (source 001's two ways, in Paddle): each save to fresh files in a temporary folder, "
                f"medians of {t['repeats']} rounds (min – max) of the best chunk's seconds per save after an untimed "
                f"first save; the whole network's save takes {r['median']:.1f}x the parameters' CPU time (per round "
                f"{r['min']:.1f}x – {r['max']:.1f}x).\n",
                table(["saved", "CPU per save", "wall per save", "first save (CPU)", "bytes"], rows) + "\n"]
    return out


def missed_goals(ctx) -> list[str] | None:
    """The performance goals the benchmark files miss (stretch goals apart); None when none was measured."""
    b, e = ctx.bench("train"), ctx.bench("eval")
    if b is None and e is None:
        return None
    return (_train_part(b)[1] if b else []) + (_eval_part(e)[1] if e else [])


def section_speed(ctx) -> str:
    """``## Speed and memory``: the goals' outcome in one paragraph; the figures are in the appendix."""
    out = ["## Speed and memory\n"]
    missed = missed_goals(ctx)
    if missed is None:
        return out[0] + "_No benchmarks yet: run `python -m paddle_mnist bench all`._\n"
    b = ctx.bench("train")
    first = next(iter(b["cases"].items()), None) if b else None
    line = (f"One epoch of the {CASE_TITLES.get(first[0], first[0])} takes {seconds(_median(first[1], 'engine'))} "
            f"in the engine ({ratio(first[1]['ratios']['engine_vs_torch'])} PyTorch's time). " if first and
            first[1]["ratios"].get("engine_vs_torch") is not None else "")
    verdict = ("Every performance goal that was measured is met (stretch goals apart)." if not missed else
               f"{len(missed)} performance goal{'s' * (len(missed) != 1)} missed: " + "; ".join(missed) + ".")
    out.append(line + verdict + " The figures, the profiler's tables and the environment they ran in are in "
               "[the appendix](APPENDIX.md#performance).\n")
    return "\n".join(out)


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
                   f"{seconds(d['ours_epoch_s']['median'], 'ms')} against {seconds(d['assignment_epoch_s']['median'])} for the "
                   f"assignment's loader ({d['ratios']['epoch_speedup']:.0f}x), a warm `load_data` call "
                   f"{seconds(d['ours_warm_load_s']['median'], 'ms')} against {seconds(d['assignment_load_s']['median'])} "
                   f"({d['ratios']['warm_load_speedup']:,.0f}x).\n")
    a = ctx.bench("apps")
    if a is not None:
        out += _apps_part(a)
    t = ctx.bench("timing")
    if t is not None:
        out += _timing_part(t)
    if b is not None or e is not None:
        if missed:
            out.append("**Goals missed in these figures:** " + "; ".join(missed) + ".\n")
        else:
            out.append("Every performance goal that was measured is met in these figures (stretch goals apart).\n")
    return "\n".join(out) + "\n"
