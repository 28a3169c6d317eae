"""Report sections for the ``numpy`` and ``trajectories`` experiments (``init``: ``report.init``).

Each ``section_*(ctx)`` takes the ``report.context.Context`` and returns markdown; all
numbers in the prose come from the results records (``ctx.load``), figures are
drawn by ``plots.scratch`` into ``ctx.figure(...)``.

    python -m paddle_mnist report
"""
from __future__ import annotations

import numpy as np

from paddle_mnist.report.format import abs_points, missing, pct, pm, quick_note, sci, table

NAMES = {"sgd": "SGD", "momentum": "Momentum", "nesterov": "Nesterov", "adagrad": "AdaGrad", "rmsprop": "RMSProp",
         "adam": "Adam"}


def verdict(ours, ref) -> str:
    """'beat by X points' / 'missed by X points' / 'matched' (accuracies as fractions)."""
    if ours is None:
        return "no result"
    diff = ours - ref
    if abs(diff) < 5e-5:
        return "matched"
    return f"beat by {abs_points(diff)}" if diff > 0 else f"missed by {abs_points(diff)}"


def _gain(run: dict, last: int = 5) -> float | None:
    """Valid-accuracy gain over the last ``last`` history points (epochs of 500 iterations at full settings)."""
    acc = run["history"]["valid_acc"]
    if len(acc) < 2:
        return None
    return acc[-1] - acc[max(0, len(acc) - 1 - last)]


def _gain_span(run: dict, last: int = 5) -> str:
    """'the last N iterations' covered by ``_gain``."""
    it = run["history"]["iteration"]
    if len(it) < 2:
        return "the run"
    return f"the last {it[-1] - it[max(0, len(it) - 1 - last)]:,} iterations"


# =================================================================== numpy
def _assignment_part(ctx, rec: dict) -> str:
    from paddle_mnist.plots.scratch import plot_assignment_search

    s = rec["search"]
    g, c, e, b = s["grid"], s["choice"], s["eval"], s["baseline"]
    out = ["### The assignment's net: sigmoid, squared error, one output unit\n"]
    path, link = ctx.figure("numpy_assignment_search")
    plot_assignment_search(s, path)
    train_n = f"the first {g['train_subset']:,}" if g["train_subset"] else "all 50,000"
    valid_n = f"the first {g['valid_subset']:,}" if g["valid_subset"] else "all 10,000"
    ok = [r for r in s["runs"] if r["status"] == "ok"]
    at_end = [r for r in ok if r["best_epoch"] == g["max_epochs"]]
    failed = [r for r in s["runs"] if r["status"] != "ok"]
    out.append(
        f"The course's numpy net (section 1.2, tuned on `valid` as in 2.2: 784-h-h-1, sigmoid hidden layers, one "
        f"linear output regressing the "
        f"digit value, squared error, plain SGD with batch {g['batch_size']}; accuracy = the output rounded and "
        f"clipped to 0-9) was trained on {train_n} training images at every learning rate in "
        f"{', '.join(f'{v:g}' for v in g['lr'])} and hidden size in {', '.join(str(v) for v in g['hidden'])} for up "
        f"to {g['max_epochs']} epochs, scoring {valid_n} `valid` images after every epoch, so the number of epochs "
        f"is the third searched dimension. The point with the best valid accuracy was **lr {c['lr']:g}, "
        f"{c['hidden']} hidden units per layer, {c['epochs']} epochs** (valid {pct(c['valid_acc'])}, valid squared "
        f"error {c['valid_loss']:.3f}); only then were its weights scored on `eval`, once: "
        f"**{pct(e['acc'])}** (squared error {e['loss']:.3f}).\n")
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
          "between; the same numpy code with ten softmax outputs (below) does far better.\n")
    if at_end:
        out.append(f"{len(at_end)} of {len(ok)} grid points were still improving at epoch {g['max_epochs']} (their "
                   f"best epoch is the last), so more epochs would have raised every number here; the course's grid "
                   f"went to 20 epochs, which the 20-minute reproduction budget does not allow.\n")
    out.append("The course's own code took the gradient of the *half* squared error (`delta3 = y_pred - y_true`, "
               "divided by the batch size); `NumpyMLP` uses `mean((out - y)^2)`, whose gradient is twice as large, "
               "so a learning rate here equals twice that rate in the course's code. Its grid was lr 0-1, 50-700 "
               "hidden units and 1-20 epochs; its conclusion was lr 0.1 and 150-200 hidden units.\n")
    out.append(f"![assignment net search]({link})\n")
    rows = []
    for r in sorted(s["runs"], key=lambda r: (r["hidden"], r["lr"])):
        h = r["history"]
        i = (r["best_epoch"] - 1) if r["best_epoch"] else None
        chosen = r["lr"] == c["lr"] and r["hidden"] == c["hidden"]
        rows.append([f"{r['lr']:g}", r["hidden"], r["status"], r["best_epoch"] or "-",
                     ("**" + pct(r["best_valid_acc"]) + "**") if chosen else pct(r["best_valid_acc"]),
                     "n/a" if i is None else f"{h['valid_loss'][i]:.3f}",
                     f"{h['train_loss'][-1]:.3f}" if h["train_loss"] else "n/a", f"{r['seconds']:.1f} s"])
    out.append(table(["lr", "hidden", "status", "best epoch", "best valid acc", "valid sq. error at best",
                      "last train sq. error", "time"], rows) + "\n")
    return "\n".join(out)


def _run(rec: dict, variant: str):
    return next((r for r in rec["runs"] if r["variant"] == variant), None)


def _optimizer_part(ctx, rec: dict) -> str:
    from paddle_mnist.plots.scratch import plot_numpy_optimizers
    from paddle_mnist.studies.numpy_nets import SEED_004_ITERATIONS

    runs = rec["runs"]
    out = ["### The proper numpy net with six numpy optimizers, against seed 004\n"]
    if not runs:
        return out[0] + "_No runs._\n"
    first = runs[0]
    path, link = ctx.figure("numpy_optimizers")
    plot_numpy_optimizers(rec, path)
    epochs = first["planned_iterations"] * first["batch_size"] / 50000
    out.append(
        f"A {'-'.join(str(v) for v in first['sizes'])} ReLU net with softmax cross entropy, written in numpy "
        f"({first['dtype']}), batch {first['batch_size']}, {first['planned_iterations']:,} iterations ({epochs:g} "
        f"epochs of the 50,000 training images), each optimizer of `numpy_optim` at seed 004's learning rate with "
        f"Paddle's other defaults. The final weights are scored on all of `valid` and, once, on `eval`; the curves "
        f"use the first {first['curve_valid']:,} valid images every {first['eval_every']} iterations. Seed 004 "
        f"differs in ways that matter: "
        f"it trained on 60,000 images (our train + valid), drew batches with replacement, started from N(0, 0.01) "
        f"weights (ours: Xavier uniform, Paddle's `Linear` default; the `momentum-init0.01` row repeats Momentum "
        f"from seed 004's initialisation), used its own optimizer constants (RMSProp decay 0.999 and epsilon 1e-7 "
        f"outside the root, where Paddle has rho 0.95 and 1e-6 inside; Adam epsilon 1e-7) and read its test "
        f"accuracy at iteration {SEED_004_ITERATIONS[-1]:,}.\n")
    out.append(f"![numpy optimizers]({link})\n")
    rows = []
    for r in runs:
        ref = r.get("reference_test_acc")
        rows.append([r["variant"], NAMES.get(r["optimizer"], r["optimizer"]), f"{r['lr']:g}", r["init"],
                     r["status"], f"**{pct(r['test_acc'])}**", pct(ref) if ref else "-",
                     verdict(r["test_acc"], ref) if ref else "-", pct(r["valid_acc"]), pct(r["train_acc"]),
                     "n/a" if _gain(r) is None else f"{100 * _gain(r):+.2f} ({_gain_span(r)[9:]})",
                     sci(r["history"]["update_rms"][-1] if r["history"]["update_rms"] else None),
                     f"{r['seconds']:.0f} s"])
    out.append(table(["run", "optimizer", "lr", "init", "status", "test (eval) acc", "seed 004 test acc",
                      "vs seed 004", "valid acc", f"train acc (first {first['train_acc_n']:,})",
                      "valid gain at the end (points)", "RMS parameter change per iteration at the end", "time"],
                     rows) + "\n")
    out.append("The RMS parameter change is the root-mean-square displacement of all weights between the last two "
               "curve points divided by the iterations between them: how far the optimizer still moves the net.\n")

    sgd, adam = _run(rec, "sgd"), _run(rec, "adam")
    lines = [line for line in (_run_line(rec, r, sgd, adam) for r in runs) if line is not None]
    out.append("\n".join(lines) + "\n")
    note = _best_run_note(runs)
    if note:
        out.append(note)
    return "\n".join(out)


def _momentum_notes(rec: dict, r: dict, ref: float, sgd) -> list[str]:
    """Why Momentum and Nesterov at seed 004's rate land where they do."""
    from paddle_mnist.studies.numpy_nets import SEED_004_CURVES, SEED_004_ITERATIONS

    text = []
    gain = _gain(r)
    eff = r["lr"] / (1 - 0.9)
    text.append(f"Paddle's momentum (`v = 0.9 v + g; p -= lr * v`) moves by lr / (1 - 0.9) = {eff:g} "
                f"times the gradient once the velocity has built up, "
                + (f"a tenth of SGD's {sgd['lr']:g}" if sgd and abs(sgd["lr"] - 10 * eff) < 1e-12
                   else f"against SGD's {sgd['lr']:g}" if sgd else "")
                + f": a too-small step for {r['planned_iterations']:,} iterations.")
    if gain is not None and sgd and _gain(sgd) is not None:
        text.append(f"Its valid accuracy was still rising by {100 * gain:.2f} points over {_gain_span(r)} "
                    f"(SGD: {100 * _gain(sgd):+.2f}), and its weights were still moving by "
                    f"{sci(r['history']['update_rms'][-1])} (RMS) per iteration at the end against SGD's "
                    f"{sci(sgd['history']['update_rms'][-1])}.")
    slow = _run(rec, "momentum-init0.01")
    if slow and slow["status"] == "ok" and r["test_acc"] > ref and r["optimizer"] == "momentum":
        ours = ", ".join(f"{pct(a, 1)} at {i:,}" for i, a in
                         zip(slow["history"]["iteration"][:4], slow["history"]["valid_acc"][:4]))
        theirs = ", ".join(f"{pct(a, 1)} at {i:,}" for i, a in
                           zip(SEED_004_ITERATIONS[1:5], SEED_004_CURVES["momentum"][1:5]))
        text.append(f"What held seed 004 lower still is its N(0, 0.01) start: from those weights the signal "
                    f"reaching the output, and with it every gradient, is tiny, so the small step stalls "
                    f"for the first epochs. Our Momentum run from the same initialisation (`momentum-init0.01`)"
                    f" crawls just like seed 004's ({ours} iterations, against {theirs}) and ends at "
                    f"{pct(slow['test_acc'])} (seed 004: {pct(ref)}).")
    elif slow and slow["status"] == "ok" and r["test_acc"] > ref:
        gap = max(abs(a - b) for a, b in zip(SEED_004_CURVES["nesterov"], SEED_004_CURVES["momentum"]))
        text.append(f"Seed 004's Nesterov curve follows its Momentum curve to within {abs_points(gap)} at every "
                    f"printed iteration: the same N(0, 0.01) start held both back (see Momentum).")
    return text


def _adagrad_notes(r: dict, adam) -> list[str]:
    """AdaGrad's shrinking step."""
    text = []
    gain = _gain(r)
    u = r["history"]["update_rms"]
    if len(u) >= 2 and u[-1] > 0:
        text.append(f"AdaGrad divides the rate by the root of the *summed* squared gradients, so its step "
                    f"only shrinks: its RMS parameter change per iteration fell {u[0] / u[-1]:.0f}x from "
                    f"the first checkpoint to the last ({sci(u[0])} -> {sci(u[-1])})"
                    + (f", while Adam's ended at {sci(adam['history']['update_rms'][-1])}"
                       if adam and adam["history"]["update_rms"] else "")
                    + f". At {r['lr']:g} that is too small a step for {r['planned_iterations']:,} iterations"
                    + (f": valid accuracy was still gaining {100 * gain:.2f} points over {_gain_span(r)}."
                       if gain is not None else "."))
    return text


def _run_line(rec: dict, r: dict, sgd, adam) -> str | None:
    """One numpy run against seed 004 (None when seed 004 has no figure for it)."""
    from paddle_mnist.studies.numpy_nets import SEED_004_CURVES

    ref = r.get("reference_test_acc")
    if not ref or r["status"] != "ok":
        return f"- **{NAMES[r['optimizer']]} {r['lr']:g}**: {r['status']}, no accuracy to compare." if ref else None
    name = NAMES[r["optimizer"]]
    text = [f"**{name} {r['lr']:g}**: {pct(r['test_acc'])} against seed 004's {pct(ref)}, "
            f"{verdict(r['test_acc'], ref)}."]
    seed_curve = SEED_004_CURVES[r["optimizer"]]
    wobble = max(seed_curve[-6:]) - min(seed_curve[-6:])
    if r["optimizer"] in ("momentum", "nesterov"):
        text += _momentum_notes(rec, r, ref, sgd)
    elif r["optimizer"] == "adagrad":
        text += _adagrad_notes(r, adam)
    elif r["optimizer"] == "rmsprop":
        text.append(f"Paddle's RMSProp averages squared gradients over about 20 steps (rho 0.95) where seed 004 "
                    f"used about 1,000 (0.999), so its steps are noisier; seed 004's own RMSProp moved between "
                    f"{pct(min(seed_curve[-6:]))} and {pct(max(seed_curve[-6:]))} over its last six printed "
                    f"points.")
    if r["optimizer"] in ("adam", "sgd") and r["test_acc"] < ref:
        within = abs(r["test_acc"] - ref) <= wobble
        text.append(f"Seed 004's own {name} moved by {abs_points(wobble)} over its last six printed points "
                    f"(iterations 6,600-9,600), so this gap is "
                    + ("within that run-to-run wobble." if within else
                       "larger than that wobble; seed 004 also trained on 10,000 more images (our valid split)."))
    return "- " + " ".join(text)


def _best_run_note(runs: list[dict]) -> str | None:
    """The best numpy run by valid accuracy: memorised the training set, or still fitting it."""
    best = max((r for r in runs if r["status"] == "ok"), key=lambda r: r["valid_acc"], default=None)
    if best:
        gap = (best["train_acc"] or 0) - (best["test_acc"] or 0)
        return (f"By valid accuracy the best numpy run is `{best['variant']}` ({pct(best['valid_acc'])} valid, "
                f"{pct(best['test_acc'])} test) with {pct(best['train_acc'])} on the first "
                f"{best['train_acc_n']:,} training images: "
                + ("it has all but memorised the training set, so what is left of its test error is "
                   "generalisation, not optimisation.\n" if best["train_acc"] and best["train_acc"] >= 0.995 else
                   f"a train-test gap of {abs_points(gap)}, so it was still fitting the training set when "
                   "training stopped.\n"))
    return None


def _paddle_side(ctx, rec: dict) -> str:
    """The numpy runs next to the Paddle runs of the optimizer study (``optimizers`` results), when present."""
    pad = ctx.load("optimizers")
    out = ["### Next to the Paddle optimizer study\n"]
    if pad is None:
        return out[0] + ("_The Paddle optimizer study has no results yet: run "
                         "`python -m paddle_mnist train optimizers`._\n")
    summary = pad.get("summary") or {}
    info = {}
    for r in pad.get("runs", []):
        cfg = r.get("config") or {}
        if r.get("variant") in summary and r["variant"] not in info and cfg:
            info[r["variant"]] = cfg
    rows = []
    for r in rec["runs"]:
        if r["init"] != "xavier":
            continue
        paddle_cells = []
        for variant, cfg in info.items():
            s = summary[variant]
            if cfg.get("optimizer") == r["optimizer"] and s.get("test_acc_mean") is not None:
                hidden = "-".join(str(h) for h in cfg.get("hidden", []))
                paddle_cells.append(f"`{variant}` (lr {cfg.get('lr'):g}, 784-{hidden}-10, {cfg.get('epochs')} epochs): "
                                    f"{pm(s['test_acc_mean'], s['test_acc_std'])} over {s.get('n_ok', '?')} seed(s)")
        rows.append([NAMES.get(r["optimizer"], r["optimizer"]), f"{r['lr']:g}", pct(r["test_acc"]),
                     "<br>".join(paddle_cells) or "-"])
    out.append("The same optimizers in Paddle (`paddle.optimizer`, 784-200-200-10 net, the study's own epochs and "
               "learning rates, test = `eval` at the best-valid epoch): the numpy update rules are Paddle's, so the "
               "differences come from the net, the budget and the learning rate, not the formulas.\n")
    out.append(table(["optimizer", "numpy lr", "numpy test acc (10,000 iterations)", "Paddle runs (test acc)"], rows)
               + "\n")
    return "\n".join(out)


def section_numpy(ctx) -> str:
    rec = ctx.load("numpy")
    out = ["## Numpy from scratch: the assignment's net and the six optimizers (1.2.2, seed 004)\n"]
    if rec is None:
        return out[0] + missing("numpy")
    if rec.get("search"):
        out.append(_assignment_part(ctx, rec))
    out.append(_optimizer_part(ctx, rec))
    out.append(_paddle_side(ctx, rec))
    out.append(quick_note(rec))
    return "\n".join(out)


# ============================================================= trajectories
def section_trajectories(ctx) -> str:
    from paddle_mnist.plots.scratch import plot_trajectories
    from paddle_mnist.report.practice import saddle_part

    rec = ctx.load("trajectories")
    out = ["## Optimizer trajectories on z = x²/10 + y² (seed 003)\n"]
    if rec is None:
        return out[0] + missing("trajectories")
    runs = rec["runs"]
    path, link = ctx.figure("trajectories")
    plot_trajectories(rec, path)
    check = rec.get("check", {})
    start = runs[0]["start"] if runs else [-7, 2]
    out.append(f"Every optimizer starts at ({start[0]:g}, {start[1]:g}) and takes {runs[0]['steps']} steps on the "
               "elongated bowl z = x²/10 + y² (gradient (x/5, 2y)), once with `numpy_optim` and once with "
               "`paddle.optimizer` on a float64 parameter of shape [2]; every hyperparameter other than the learning "
               "rate is Paddle's default.\n")
    if check:
        sx, sy = check["sgd_final"]
        px, py = check["sgd_paddle_final"]
        ex, ey = check["expected"]
        out.append(f"**Exact check**: plain SGD at lr 0.95 multiplies x by 1 - 0.95/5 = 0.81 and y by 1 - 2 x 0.95 "
                   f"= -0.9 per step, so after 20 steps it must sit at (-7 x 0.81^20, 2 x 0.9^20) = ({ex}, {ey}). "
                   f"numpy ends at ({sx}, {sy}), Paddle at ({px}, {py}): "
                   f"**{'passed' if check['passed'] else 'FAILED'}**. Over all paths the numpy and Paddle points "
                   f"differ by at most {check['max_numpy_paddle_diff']:.1e}.\n")
    out.append(f"![trajectories]({link})\n")
    rows = []
    for r in runs:
        xs = [p[0] for p in r["numpy"]]
        crossings = sum(1 for a, b in zip(xs, xs[1:]) if a * b < 0)
        below = next((i for i, z in enumerate(r["loss_path"]) if z < 0.1), None)
        rows.append([NAMES.get(r["optimizer"], r["optimizer"]), f"{r['lr']:g}",
                     f"({r['final'][0]:.4f}, {r['final'][1]:.4f})",
                     f"({r['paddle_final'][0]:.4f}, {r['paddle_final'][1]:.4f})", f"{r['max_abs_diff']:.1e}",
                     f"{r['final_loss']:.4f}", "never" if below is None else below, crossings])
    out.append(table(["optimizer", "lr", "numpy end (x, y)", "Paddle end (x, y)", "max numpy-Paddle diff",
                      "z at the end", "first step with z < 0.1", "times x crossed 0"], rows) + "\n")
    ranked = sorted(runs, key=lambda r: r["final_loss"])
    if len(ranked) >= 2:
        overshoot = [r for r in runs if sum(1 for a, b in zip([p[0] for p in r["numpy"]],
                                                              [p[0] for p in r["numpy"]][1:]) if a * b < 0)]
        out.append(f"After {runs[0]['steps']} steps {NAMES.get(ranked[0]['optimizer'])} is closest to the minimum "
                   f"(z = {ranked[0]['final_loss']:.4f}) and {NAMES.get(ranked[-1]['optimizer'])} furthest "
                   f"(z = {ranked[-1]['final_loss']:.4f}). SGD at 0.95 zig-zags across the steep y direction "
                   f"(y flips sign every step) while creeping along x; "
                   + (", ".join(NAMES.get(r["optimizer"]) for r in overshoot) + " overshoot the centre along x"
                      if overshoot else "no optimizer overshoots the centre along x")
                   + "; the adaptive methods (AdaGrad, RMSProp, Adam) rescale each coordinate, so their first step "
                     "heads almost diagonally instead of along the steep y axis.\n")
    out.append(saddle_part(ctx, rec))
    out.append(quick_note(rec))
    return "\n".join(out)
