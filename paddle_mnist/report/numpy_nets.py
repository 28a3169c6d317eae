"""Report section for the ``numpy`` experiment: the assignment's net and source 004's net with six numpy optimizers.

``section_numpy(ctx)`` returns markdown. Numbers are means ± std over the record's seeds;
every sentence that compares two numbers says whether the difference is beyond seed noise
(``report.claims.comparison_text``: the Welch t 95% interval over seeds, or against one
printed figure of source 004 the one-sample interval of ``claim_rules.compare_value``).

    python -m paddle_mnist report
"""
from __future__ import annotations

import numpy as np

from paddle_mnist.report.claims import comparison_text, verdict_text
from paddle_mnist.format import abs_points, missing, pct, pm, points, sci, table
from paddle_mnist.report.context import section, table_part
from paddle_mnist.studies.claim_rules_traj import NAMES
from paddle_mnist.studies.claim_rules import compare, compare_value, test_acc
from paddle_mnist.studies.claim_rules_more import NUMPY_PRINTED
from paddle_mnist.studies.claims import ARM_NAMES, claims_ledger
from paddle_mnist.studies.stats import mean, mean_std, ok_runs, per_epoch_mean, variants_in
from paddle_mnist.plots.scratch import plot_assignment_search, plot_numpy_optimizers
from paddle_mnist.studies.numpy_nets import SOURCE_004_CURVES, SOURCE_004_ITERATIONS


# ---------------------------------------------------------------- per-run numbers
def _per(runs: list[dict], fn) -> list[float]:
    """``fn(run)`` of every run where it is defined."""
    out = []
    for r in runs:
        try:
            v = fn(r)
        except (KeyError, IndexError, TypeError):
            v = None
        if v is not None:
            out.append(float(v))
    return out


def _gain(run: dict, last: int = 5):
    """Valid-accuracy gain over the last ``last`` history points (500 iterations apart at full settings)."""
    acc = run["history"]["valid_acc"]
    return acc[-1] - acc[max(0, len(acc) - 1 - last)] if len(acc) >= 2 else None


def _gain_span(run: dict, last: int = 5) -> str:
    it = run["history"]["iteration"]
    return f"the last {it[-1] - it[max(0, len(it) - 1 - last)]:,} iterations" if len(it) >= 2 else "the run"


def _last_rms(run: dict):
    return run["history"]["update_rms"][-1]


def _short(c: dict) -> str:
    """A table cell: ``+0.12 points [-0.30, +0.54]; within seed noise``."""
    if c["diff"] is None:
        return "n/a"
    if c["low"] is None:
        return f"{points(c['diff'])}; seed noise unknown"
    noise = "beyond seed noise" if c["beyond_noise"] else "within seed noise"
    return f"{points(c['diff'])} [{100 * c['low']:+.2f}, {100 * c['high']:+.2f}]; {noise}"


def _best_variant(rec: dict) -> str | None:
    """The variant with the best mean valid accuracy over its finished runs."""
    scored = {v: mean(_per(ok_runs(rec["runs"], v), lambda r: r["valid_acc"])) for v in variants_in(rec["runs"])}
    return max((v for v in scored if scored[v] is not None), key=lambda v: scored[v], default=None)


def _vs_source_004(runs: list[dict], ref: float) -> dict:
    return compare_value("test accuracy", "acc", f"ours ({len(runs)} seed(s))", _per(runs, test_acc),
                         "source 004 (one run)", ref)


# ---------------------------------------------------------------- the assignment's net
def _assignment_part(ctx, rec: dict) -> str:
    s = rec["search"]
    g, c, e, b = s["grid"], s["choice"], s["eval"], s["baseline"]
    out = ["### The assignment's net: sigmoid, squared error, one output unit\n"]
    train_n = f"the first {g['train_subset']:,}" if g["train_subset"] else "all 50,000"
    valid_n = f"the first {g['valid_subset']:,}" if g["valid_subset"] else "all 10,000"
    reruns = [r for r in e.get("runs", []) if r.get("eval_acc") is not None]
    seeds = ", ".join(f"{pct(r['eval_acc'])} (seed {r['seed']})" for r in reruns)
    out.append(
        f"The course's numpy net (section 1.2, tuned on `valid` as in 2.2: 784-h-h-1, sigmoid hidden layers, one "
        f"linear output regressing the digit value, squared error, plain SGD with batch {g['batch_size']}; accuracy "
        f"= the output rounded and clipped to 0-9) was trained on {train_n} training images at every learning rate "
        f"in {', '.join(f'{v:g}' for v in g['lr'])} and hidden size in {', '.join(str(v) for v in g['hidden'])} for "
        f"up to {g['max_epochs']} epochs from seed {s.get('seed', 0)}, scoring {valid_n} `valid` images after every "
        f"epoch, so the number of epochs is the third searched dimension. The point with the best valid accuracy "
        f"was **lr {c['lr']:g}, {c['hidden']} hidden units per layer, {c['epochs']} epochs** (valid "
        f"{pct(c['valid_acc'])}, valid squared error {c['valid_loss']:.3f}); only then was that point trained from "
        + (f"each of {len(reruns)} seed(s) and scored on `test`, once per seed: **{pm(e['acc'], e.get('acc_std'))}** "
           f"({seeds}; squared error {e['loss']:.3f} on average)" if reruns else
           f"its weights scored on `test`, once: **{pct(e['acc'])}** (squared error {e['loss']:.3f})")
        + (". The rerun from the grid's seed ended on the grid's weights bit for bit." if s.get("rerun_matches_grid")
           else ".") + "\n")
    failed = [r for r in s["runs"] if r["status"] != "ok"]
    failures = ", ".join(f"lr {r['lr']:g} with {r['hidden']} hidden units {r['status']}"
                         + (f" after {len(r['history']['epoch'])} epoch(s)" if r["history"]["epoch"] else "")
                         for r in failed)
    out.append(
        f"For scale: always answering the mean train label ({b['mean_label']:.2f}) gives a valid squared error "
        f"of {b['valid_loss']:.2f}, which is where a collapsed regressor ends up; rounded to "
        f"{int(np.clip(np.rint(b['mean_label']), 0, 9))} it scores {pct(b['valid_acc'])} on valid"
        + (f" (squared error {b['valid_loss_rounded']:.2f})" if "valid_loss_rounded" in b else "")
        + (f" ({failures}). A run is stopped as `collapsed` once its valid squared error is no better than that "
           "after 2 epochs: too large a rate drives the sigmoid units into saturation, the hidden layers stop "
           "carrying information and the output settles on the mean" if failed else "")
        + ". Regressing the digit as one number is the wrong model for classification: a 3 mistaken for an 8 "
          "costs 25 times more than one mistaken for a 4, and the output has to pass through every digit in "
          "between. " + _against_softmax(rec, reruns) + "\n")
    out += _grid_notes(s)
    out.append(ctx.draw("numpy_assignment_search", plot_assignment_search, s, "assignment net search"))
    out.append(_grid_table(s) + "\n")
    return "\n".join(out)


def _against_softmax(rec: dict, reruns: list[dict]) -> str:
    """The regressor's eval accuracy next to the best softmax numpy net's (by mean valid accuracy)."""
    best = _best_variant(rec)
    if best is None or not reruns:
        return ""
    c = compare("test accuracy", "acc", f"the softmax numpy net `{best}` (below)",
                _per(ok_runs(rec["runs"], best), test_acc), "this regressor", _per(reruns, lambda r: r["eval_acc"]))
    return f"The same numpy code with ten softmax outputs: {comparison_text(c)}."


def _grid_notes(s: dict) -> list[str]:
    g = s["grid"]
    ok = [r for r in s["runs"] if r["status"] == "ok"]
    at_end = [r for r in ok if r["best_epoch"] == g["max_epochs"]]
    out = []
    if at_end:
        out.append(f"{len(at_end)} of {len(ok)} grid points were still improving at epoch {g['max_epochs']} (their "
                   f"best epoch is the last), so more epochs would have raised every number here; the course's grid "
                   f"went to 20 epochs, which the 40-minute budget of a full reproduction on 2 cores does not allow.\n")
    out.append("The course's own code took the gradient of the *half* squared error (`delta3 = y_pred - y_true`, "
               "divided by the batch size); `NumpyMLP` uses `mean((out - y)^2)`, whose gradient is twice as large, "
               "so a learning rate here equals twice that rate in the course's code. Its grid was lr 0-1, 50-700 "
               "hidden units and 1-20 epochs; its conclusion was lr 0.1 and 150-200 hidden units.\n")
    return out


def _grid_table(s: dict) -> str:
    c, rows = s["choice"], []
    for r in sorted(s["runs"], key=lambda r: (r["hidden"], r["lr"])):
        h = r["history"]
        i = (r["best_epoch"] - 1) if r["best_epoch"] else None
        chosen = r["lr"] == c["lr"] and r["hidden"] == c["hidden"]
        rows.append([f"{r['lr']:g}", r["hidden"], r["status"], r["best_epoch"] or "-",
                     ("**" + pct(r["best_valid_acc"]) + "**") if chosen else pct(r["best_valid_acc"]),
                     "n/a" if i is None else f"{h['valid_loss'][i]:.3f}",
                     f"{h['train_loss'][-1]:.3f}" if h["train_loss"] else "n/a", f"{r['seconds']:.1f} s"])
    return table(["lr", "hidden", "status", "best epoch", "best valid acc", "valid sq. error at best",
                  "last train sq. error", "time"], rows)


# ---------------------------------------------------------------- the proper net x six optimizers
def _pin_note(rec: dict) -> str:
    pin = rec["settings"].get("numpy_pin")
    if not pin:
        return ("This record predates the pinned numpy environment (`perf.numpy_pin`): its numbers may move on "
                "another machine.\n")
    env = ", ".join(f"`{k}={v}`" for k, v in pin["env"].items())
    ran = "; ".join(f"OpenBLAS {t['openblas']['core']} kernels on {t['openblas']['threads']} thread(s) with numpy's "
                    f"{', '.join(t['simd_active']) or 'baseline'} loops" for t in pin.get("runtime", [])
                    if t.get("openblas"))
    return (f"Every numpy job ran in a process started with {env} (`perf.numpy_pin`), so its bits depend neither "
            f"on the thread count nor on which kernels this CPU would pick; the workers reported "
            f"{ran or 'nothing readable'}.\n")


def _seconds(group: list[dict]) -> str:
    """Mean wall-clock seconds per run, and the CPU seconds where the record has them."""
    cpu = mean(_per(group, lambda r: r.get("cpu_seconds")))
    return f"{mean([r['seconds'] for r in group]):.0f} s" + ("" if cpu is None else f" ({cpu:.0f} s CPU)")


def _optimizer_rows(rec: dict) -> list[list]:
    rows = []
    for v in variants_in(rec["runs"]):
        group = [r for r in rec["runs"] if r["variant"] == v]
        runs, first = ok_runs(rec["runs"], v), group[0]
        ref = first.get("reference_test_acc")
        (t, ts), (va, vs), (tr, trs) = (mean_std(_per(runs, k)) for k in (test_acc, lambda r: r["valid_acc"],
                                                                           lambda r: r["train_acc"]))
        rows.append([v, NAMES.get(first["optimizer"], first["optimizer"]), f"{first['lr']:g}", first["init"],
                     f"{len(runs)}/{len(group)}" + ("" if len(runs) == len(group) else
                                                    f" ({', '.join(sorted({r['status'] for r in group}))})"),
                     f"**{pm(t, ts)}**", pct(ref) if ref else "-", _short(_vs_source_004(runs, ref)) if ref else "-",
                     pm(va, vs), pm(tr, trs),
                     "n/a" if not runs else f"{100 * (mean(_per(runs, _gain)) or 0):+.2f} ({_gain_span(runs[0])[9:]})",
                     sci(mean(_per(runs, _last_rms))), _seconds(group)])
    return rows


def _optimizer_part(ctx, rec: dict) -> str:
    runs = rec["runs"]
    out = ["### The proper numpy net with six numpy optimizers, against source 004\n"]
    if not runs:
        return out[0] + "_No runs._\n"
    first, seeds = runs[0], rec["settings"].get("seeds", [])
    epochs = first["planned_iterations"] * first["batch_size"] / 50000
    out.append(
        f"A {'-'.join(str(v) for v in first['sizes'])} ReLU net with softmax cross entropy, written in numpy "
        f"({first['dtype']}), batch {first['batch_size']}, {first['planned_iterations']:,} iterations ({epochs:g} "
        f"epochs of the 50,000 training images), each optimizer of `numpy_optim` at source 004's learning rate with "
        f"Paddle's other defaults, from each of {len(seeds)} seed(s) ({', '.join(map(str, seeds))}); numbers are "
        f"means ± std over them. The final weights are scored on all of `valid` and, once, on `test`; the curves "
        f"use the first {first['curve_valid']:,} valid images every {first['eval_every']} iterations. Source 004 "
        f"differs in ways that matter: it trained on 60,000 images (our train + valid), drew batches with "
        f"replacement, started from N(0, 0.01) weights (ours: Xavier uniform, Paddle's `Linear` default; the "
        f"`momentum-init0.01` row repeats Momentum from source 004's initialisation), used its own optimizer constants "
        f"(RMSProp decay 0.999 and epsilon 1e-7 outside the root, where Paddle has rho 0.95 and 1e-6 inside; Adam "
        f"epsilon 1e-7) and read its test accuracy at iteration {SOURCE_004_ITERATIONS[-1]:,}, from one run: its "
        f"figures are compared as exact numbers (the one-sample t interval of our mean minus theirs).\n")
    out.append("Every numpy job ran in a pinned environment, so its bits do not depend on the thread count or "
               "the CPU's kernels ([the appendix](APPENDIX.md#numpy-environment) lists it).\n")
    out.append(ctx.draw("numpy_optimizers", plot_numpy_optimizers, rec, "numpy optimizers"))
    out.append(table_part(["run", "optimizer", "lr", "init", "seeds ok", "test acc", "source 004 test acc",
                           "ours − source 004 (95% interval, points)", "valid acc",
                           f"train acc (first {first['train_acc_n']:,})", "valid gain at the end (points)",
                           "RMS parameter change per iteration at the end", "time per run"], _optimizer_rows(rec)))
    out.append("The RMS parameter change is the root-mean-square displacement of all weights between the last two "
               "curve points divided by the iterations between them: how far the optimizer still moves the net.\n")
    lines = [line for line in (_run_line(rec, v) for v in variants_in(runs)) if line is not None]
    out.append("\n".join(lines) + "\n")
    out.append(_best_note(rec))
    return "\n".join(out)


def _run_line(rec: dict, variant: str) -> str | None:
    """One optimizer against source 004 (None for a variant source 004 has no figure for)."""
    group = [r for r in rec["runs"] if r["variant"] == variant]
    ref, opt = group[0].get("reference_test_acc"), group[0]["optimizer"]
    runs, name = ok_runs(rec["runs"], variant), f"{NAMES[opt]} {group[0]['lr']:g}"
    if not ref:
        return None
    if not runs:
        return f"- **{name}**: {group[0]['status']}, no accuracy to compare."
    c = _vs_source_004(runs, ref)
    text = [f"**{name}**: {pm(*mean_std(_per(runs, test_acc)))} over {len(runs)} seed(s); {comparison_text(c)}."]
    if opt in ("momentum", "nesterov"):
        text += _momentum_notes(rec, variant, name, ref, c)
    elif opt == "adagrad":
        text += _adagrad_notes(rec, runs, name)
    elif opt == "rmsprop":
        tail = SOURCE_004_CURVES["rmsprop"][-6:]
        text.append(f"Paddle's RMSProp averages squared gradients over about 20 steps (rho 0.95) where source 004 "
                    f"used about 1,000 (0.999), so its steps are noisier; source 004's own RMSProp moved between "
                    f"{pct(min(tail))} and {pct(max(tail))} over its last six printed points (one run).")
    return "- " + " ".join(text)


def _momentum_notes(rec: dict, variant: str, name: str, ref: float, vs_004: dict) -> list[str]:
    """Why Momentum and Nesterov at source 004's rate land where they do."""
    runs, sgd = ok_runs(rec["runs"], variant), ok_runs(rec["runs"], "sgd")
    eff = runs[0]["lr"] / (1 - 0.9)
    text = [f"Paddle's momentum (`v = 0.9 v + g; p -= lr * v`) moves by lr / (1 - 0.9) = {eff:g} times the gradient "
            f"once the velocity has built up" + (f", against SGD's {sgd[0]['lr']:g}" if sgd else "")
            + f": a small step for {runs[0]['planned_iterations']:,} iterations."]
    if sgd:
        text.append(comparison_text(compare(f"valid-accuracy gain over {_gain_span(runs[0])}", "acc", name,
                                            _per(runs, _gain), "SGD", _per(sgd, _gain))) + "; "
                    + comparison_text(compare("RMS parameter change per iteration at the end", "sci", name,
                                              _per(runs, _last_rms), "SGD", _per(sgd, _last_rms))) + ".")
    slow = ok_runs(rec["runs"], "momentum-init0.01")
    if not slow or vs_004["low"] is None or vs_004["low"] <= 0:
        return text
    if variant == "momentum":
        curve = per_epoch_mean(slow, "valid_acc")
        ours = ", ".join(f"{pct(a, 1)} at {i:,}" for i, a in zip(slow[0]["history"]["iteration"][:4], curve[:4]))
        theirs = ", ".join(f"{pct(a, 1)} at {i:,}" for i, a in
                           zip(SOURCE_004_ITERATIONS[1:5], SOURCE_004_CURVES["momentum"][1:5]))
        text.append(f"What held source 004 lower is its N(0, 0.01) start: from those weights the signal reaching the "
                    f"output, and with it every gradient, is tiny, so the small step stalls for the first epochs. "
                    f"Our Momentum runs from the same initialisation (`momentum-init0.01`) crawl like source 004's "
                    f"(mean valid accuracy {ours} iterations, against {theirs}); "
                    + comparison_text(compare_value("test accuracy", "acc", "momentum-init0.01", _per(slow, test_acc),
                                                    "source 004's Momentum (one run)", ref)) + ".")
    else:
        gap = max(abs(a - b) for a, b in zip(SOURCE_004_CURVES["nesterov"], SOURCE_004_CURVES["momentum"]))
        text.append(f"Source 004's Nesterov curve follows its Momentum curve to within {abs_points(gap)} at every "
                    f"printed iteration (one run each): the same N(0, 0.01) start held both back (see Momentum).")
    return text


def _adagrad_notes(rec: dict, runs: list[dict], name: str) -> list[str]:
    """AdaGrad's shrinking step."""
    adam, last = ok_runs(rec["runs"], "adam"), _per(runs, _last_rms)
    parts = [comparison_text(compare("RMS parameter change per iteration", "sci", "first checkpoint",
                                     _per(runs, lambda r: r["history"]["update_rms"][0]), "last checkpoint", last))]
    if adam:
        parts.append(comparison_text(compare("RMS parameter change per iteration at the end", "sci", "Adam",
                                             _per(adam, _last_rms), name, last)))
    parts.append(comparison_text(compare_value(f"valid-accuracy gain over {_gain_span(runs[0])}", "acc", name,
                                               _per(runs, _gain), "no gain", 0.0)))
    return ["AdaGrad divides the rate by the root of the *summed* squared gradients, so its step only shrinks: "
            + "; ".join(parts) + "."]


def _best_note(rec: dict) -> str:
    """The best variant by mean valid accuracy: its train accuracy against its test accuracy."""
    best = _best_variant(rec)
    if best is None:
        return ""
    runs = ok_runs(rec["runs"], best)
    test, train = _per(runs, test_acc), _per(runs, lambda r: r["train_acc"])
    c = compare("accuracy", "acc", f"train (first {runs[0]['train_acc_n']:,} images)", train, "test", test)
    return (f"By mean valid accuracy the best numpy run is `{best}` "
            f"({pm(*mean_std(_per(runs, lambda r: r['valid_acc'])))} valid, {pm(*mean_std(test))} test); "
            f"{comparison_text(c)}: the difference is what it knows of its training images beyond new ones.\n")


def _claim(rec: dict) -> str:
    """Source 004's printed accuracies (Adam's, then the five others') as the ledger decides them from this record."""
    ledger = {c["id"]: c for c in claims_ledger({"numpy": rec})}
    row, res = ledger["numpy-adam"], ledger["numpy-adam"]["arms"]["right"]
    if res["verdict"] == "not measured":
        return ""
    out = [f"Source 004's claim \"{row['claim']}\" ({row['rule']}): {verdict_text(res)}; "
           f"{comparison_text(res['comparisons'][0])}.\n"]
    others = [(ledger[i], a, v) for i in NUMPY_PRINTED for a, v in ledger[i]["arms"].items()
              if v is not None and v["verdict"] != "not measured"]
    if others:
        out.append(f"Its five other printed accuracies, each judged by {others[0][0]['rule']}:\n")
        out += [f"- {c['claim']} ({c['original']}) — {ARM_NAMES[a]}: {verdict_text(v)}; "
                f"{comparison_text(v['comparisons'][0])}." for c, a, v in others]
    return "\n".join(out) + "\n"


def _paddle_cell(variant: str, cfg: dict, s: dict) -> str:
    """One Paddle run of the optimizer study: its setting and test accuracy over seeds."""
    return (f"`{variant}` (lr {cfg.get('lr'):g}, 784-{'-'.join(str(h) for h in cfg.get('hidden', []))}-10, "
            f"{cfg.get('epochs')} epochs): {pm(s['test_acc_mean'], s['test_acc_std'])} over "
            f"{s.get('n_ok', '?')} seed(s)")


def _paddle_side(ctx, rec: dict) -> str:
    """The numpy runs next to the Paddle runs of the optimizer study (``optimizers`` results), when present."""
    pad = ctx.load("optimizers")
    out = ["### Next to the Paddle optimizer study\n"]
    if pad is None:
        return out[0] + ("_The Paddle optimizer study has no results yet: run "
                         "`python -m paddle_mnist train optimizers`._\n")
    summary, info = pad.get("summary") or {}, {}
    for r in pad.get("runs", []):
        if r.get("variant") in summary and r.get("config"):
            info.setdefault(r["variant"], r["config"])
    rows = []
    for v in variants_in(rec["runs"]):
        first, runs = next(r for r in rec["runs"] if r["variant"] == v), ok_runs(rec["runs"], v)
        if first["init"] == "xavier":
            rows.append([NAMES.get(first["optimizer"], first["optimizer"]), f"{first['lr']:g}",
                         f"{pm(*mean_std(_per(runs, test_acc)))} over {len(runs)} seed(s)",
                         "<br>".join(_paddle_cell(variant, cfg, summary[variant]) for variant, cfg in info.items()
                                     if cfg.get("optimizer") == first["optimizer"]
                                     and summary[variant].get("test_acc_mean") is not None) or "-"])
    out.append("The same optimizers in Paddle (`paddle.optimizer`, 784-200-200-10 net, the study's own epochs and "
               "learning rates, `test` at the best-valid epoch): the numpy update rules are Paddle's, so the "
               "differences come from the net, the budget and the learning rate, not the formulas.\n")
    out.append(table_part(["optimizer", "numpy lr", "numpy test acc (10,000 iterations)", "Paddle runs (test acc)"],
                          rows))
    return "\n".join(out)


def section_numpy_environment(ctx) -> str:
    """``## Numpy environment`` (appendix): the variables every numpy worker was started with, and what it ran on."""
    rec = ctx.load("numpy")
    out = ["## Numpy environment\n"]
    return out[0] + (missing("numpy") if rec is None else _pin_note(rec))


def _numpy(ctx, rec: dict) -> list[str]:
    return [_assignment_part(ctx, rec) if rec.get("search") else "", _optimizer_part(ctx, rec), _claim(rec),
            _paddle_side(ctx, rec)]


def section_numpy(ctx) -> str:
    return section(ctx, "numpy", "Numpy from scratch: the assignment's net and the six optimizers (1.2.2, source 004)",
                   _numpy, blank_end=True)
