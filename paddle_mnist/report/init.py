"""The report section on weight initialisation and activation functions (the ``init`` experiment).

``section_init(ctx)`` takes the ``report.context.Context`` and returns markdown;
every number in the prose comes from ``reports/results/init.json`` (``ctx.load``),
the figures are drawn by ``plots.scratch`` into ``ctx.figure(...)``.

    python -m paddle_mnist report
"""
from __future__ import annotations

import numpy as np

from paddle_mnist.format import abs_points, missing, pct, pm, quick_note, table
from paddle_mnist.plots.init_table import plot_init_table
from paddle_mnist.plots.scratch import plot_activation_functions, plot_init_accuracy, plot_init_histograms
from paddle_mnist.studies.claim_rules_traj import NAMES
from paddle_mnist.studies.claims import CLAIMS
from paddle_mnist.studies.claims_table import T1_SECTION
from paddle_mnist.studies.init import (GRID_NET, INIT_LABELS, MAJORITY_CLASS, NEAR_ZERO, TABLE1, grid_runs,
                                       table1_variant)
from paddle_mnist.studies.stats import mean_std


def _fmt_acc(r) -> str:
    if r is None:
        return "-"
    if r["status"] != "ok":
        step = r.get("diverged_step")
        return f"{r['status']}" + (f" (step {step})" if step else "")
    return pct(r["best_valid_acc"], 1)


def section_init(ctx) -> str:
    out = ["## Weight initialisation and activation functions (sources 001, 003)\n"]
    path, link = ctx.figure("activation_functions")
    plot_activation_functions(path)
    out.append("The four activation functions of source 001 with their derivatives (dashed). The sigmoid's slope is "
               "at most 0.25 and tanh's at most 1, both vanishing once |x| exceeds a few units; ReLU passes a slope "
               "of exactly 1 for positive inputs and 0 otherwise; softplus is a smooth ReLU whose derivative is the "
               "sigmoid.\n")
    out.append(f"![activation functions]({link})\n")
    rec = ctx.load("init")
    if rec is None:
        return "\n".join(out) + "\n" + missing("init")
    setup = rec.get("setup", {})
    hidden = setup.get("hidden", [])
    hists = rec.get("histograms", {})
    out.append(f"Each 784-{'-'.join(str(h) for h in hidden)}-10 net starts from one weight scheme (biases zero): "
               "zero, N(0, 1), N(0, 0.01), Xavier normal (std sqrt(2 / (fan_in + fan_out))) or MSRA / He normal "
               f"(std sqrt(2 / fan_in)). The histograms show every hidden layer's activations on "
               f"{setup.get('hist_images', 1000):,} training images before any training (ReLU: log10 of the "
               "positive values, the share of zeros in the corner); the same weights then train for "
               f"{setup.get('steps', '?')} steps of batch {setup.get('batch_size', 100)} through the Paddle engine "
               "with " + " and with ".join(f"{NAMES.get(o, o)} {lr:g}" for o, lr in setup.get("optimizers", []))
               + ", and are scored on `valid`.\n")
    if hists:
        out += _histogram_part(ctx, rec, hidden)
    runs = grid_runs(rec)
    path, link = ctx.figure("init_accuracy")
    plot_init_accuracy(rec, path)
    out.append(f"![accuracy after the short budget]({link})\n")
    out += _winners_part(runs)
    note = _sigmoid_note(runs, hidden)
    if note:
        out.append(note)
    out.append(_zero_prose(ctx, runs))
    note = _diverged_note(runs)
    if note:
        out.append(note)
    if rec.get("table1"):
        out += _table1_part(ctx, rec)
    out.append(quick_note(rec))
    return "\n".join(out)


def _find(runs: list[dict], opt: str, act: str, init: str):
    return next((r for r in runs if (r["optimizer"], r["activation"], r["init"]) == (opt, act, init)), None)


def _histogram_part(ctx, rec: dict, hidden: list) -> list[str]:
    """The activation histograms at initialisation: figure, table and prose."""
    out = []
    hists = rec.get("histograms", {})
    path, link = ctx.figure("init_histograms")
    plot_init_histograms(rec, path)
    out.append(f"![activation histograms at initialisation]({link})\n")
    rows = []
    for act, per_init in hists.items():
        for init, layers in per_init.items():
            key = "zero" if act == "relu" else "saturated"
            rows.append([act, INIT_LABELS.get(init, init), f"{layers[0]['std']:.3g}", f"{layers[-1]['std']:.3g}",
                         f"{layers[-1]['max']:.3g}",
                         " / ".join(f"{100 * h[key]:.0f}" for h in layers) + f"% {key}"])
    out.append(table(["activation", "init", "std, layer 1", f"std, layer {len(hidden)}",
                      f"max, layer {len(hidden)}", "per layer"], rows) + "\n")
    out.append(_histogram_prose(hists))
    return out


def _winners_part(runs: list[dict]) -> list[str]:
    """Valid accuracy per (optimizer, activation, init) with each row's winner, and the winners per activation."""
    out = []
    opts = list(dict.fromkeys(r["optimizer"] for r in runs))
    acts = list(dict.fromkeys(r["activation"] for r in runs))
    inits = list(dict.fromkeys(r["init"] for r in runs))
    rows, winners = [], []
    for opt in opts:
        for act in acts:
            cells = {init: _find(runs, opt, act, init) for init in inits}
            ok = {i: r for i, r in cells.items() if r and r["status"] == "ok" and r["best_valid_acc"] is not None}
            win = max(ok, key=lambda i: ok[i]["best_valid_acc"]) if ok else None
            if win:
                runner_up = sorted((ok[i]["best_valid_acc"] for i in ok if i != win), reverse=True)
                winners.append((opt, act, win, ok[win]["best_valid_acc"], runner_up[0] if runner_up else None))
            rows.append([NAMES.get(opt, opt), act] + [("**" + _fmt_acc(cells[i]) + "**") if i == win
                                                       else _fmt_acc(cells[i]) for i in inits])
    out.append(table(["optimizer", "activation"] + [INIT_LABELS.get(i, i) for i in inits], rows) + "\n")
    lines = []
    for act in acts:
        parts = []
        for opt, a, win, acc, second in winners:
            if a == act:
                margin = f", {abs_points(acc - second)} ahead of the next scheme" if second is not None else ""
                parts.append(f"with {NAMES.get(opt, opt)} **{INIT_LABELS.get(win, win)}** ({pct(acc, 1)}{margin})")
        if parts:
            lines.append(f"- **{act}**: " + "; ".join(parts) + ".")
    if lines:
        out.append("Which scheme wins, per activation (valid accuracy after the budget; one seed, so gaps under "
                   "half a point are not meaningful):\n\n" + "\n".join(lines) + "\n")
    return out


def _sigmoid_note(runs: list[dict], hidden: list) -> str | None:
    """The vanishing gradient of the sigmoid nets under SGD, when the numbers show it."""
    inits = list(dict.fromkeys(r["init"] for r in runs))
    sig_sgd = {i: _find(runs, "sgd", "sigmoid", i) for i in inits}
    scaled = [sig_sgd.get(i) for i in ("xavier", "msra")]
    if all(r and r["status"] == "ok" and r["best_valid_acc"] < 0.2 for r in scaled):
        adam_best = max((r["best_valid_acc"] for r in runs if r["optimizer"] == "adam"
                         and r["activation"] == "sigmoid" and r["status"] == "ok"), default=None)
        return (f"The sigmoid row under SGD is the vanishing gradient of source 003's table: with Xavier or MSRA "
                f"weights the {len(hidden)}-layer sigmoid net is still at {pct(scaled[0]['best_valid_acc'], 1)} / "
                f"{pct(scaled[1]['best_valid_acc'], 1)} after the budget, because the sigmoid's slope (at most "
                f"0.25) shrinks the gradient at least fourfold per layer on its way back, so the first layers "
                f"barely move at lr {sig_sgd['xavier']['config']['lr']:g}; the ten times larger N(0, 1) weights "
                f"amplify the backward signal enough to make up for that in spite of their saturated units."
                + (f" Adam, which normalises each parameter's step, trains the same nets to "
                   f"{pct(adam_best, 1)}." if adam_best is not None else "") + "\n")
    return None


def _diverged_note(runs: list[dict]) -> str | None:
    """The runs whose loss became NaN or infinite."""
    diverged = [r for r in runs if r["status"] == "diverged"]
    if diverged:
        return ("Diverged (the loss became NaN or infinite): " + ", ".join(
            f"{NAMES.get(r['optimizer'])} / {r['activation']} / {INIT_LABELS.get(r['init'], r['init'])}"
            + (f" at step {r['diverged_step']}" if r.get("diverged_step") else "") for r in diverged)
            + ". N(0, 1) weights multiply the scale of a ReLU layer's output by about sqrt(fan_in / 2) per layer, "
              "so the logits start enormous.\n")
    return None


def _histogram_prose(hists: dict) -> str:
    parts = []
    sig, tanh, relu = hists.get("sigmoid", {}), hists.get("tanh", {}), hists.get("relu", {})
    if "normal" in sig and "normal" in tanh:
        parts.append(f"With N(0, 1) weights the sum over 784 inputs is large, so "
                     f"{100 * np.mean([h['saturated'] for h in sig['normal']]):.0f}% of sigmoid and "
                     f"{100 * np.mean([h['saturated'] for h in tanh['normal']]):.0f}% of tanh activations sit at the "
                     f"flat ends (the U-shaped histograms of source 003), where the derivative is almost 0.")
    if "normal_small" in tanh and "normal_small" in relu:
        parts.append(f"With N(0, 0.01) the signal shrinks layer by layer: the std of tanh activations falls from "
                     f"{tanh['normal_small'][0]['std']:.2g} in layer 1 to {tanh['normal_small'][-1]['std']:.2g} in "
                     f"the last layer, ReLU's from {relu['normal_small'][0]['std']:.2g} to "
                     f"{relu['normal_small'][-1]['std']:.2g}; every sigmoid unit outputs about 0.5 (std "
                     f"{sig.get('normal_small', [{'std': float('nan')}])[-1]['std']:.2g}).")
    if "xavier" in relu and "msra" in relu:
        parts.append(f"Xavier keeps tanh well spread (std {tanh['xavier'][0]['std']:.2f} -> "
                     f"{tanh['xavier'][-1]['std']:.2f}) but lets ReLU activations shrink with depth (std "
                     f"{relu['xavier'][0]['std']:.2f} -> {relu['xavier'][-1]['std']:.2f}), because ReLU zeroes half "
                     f"of its inputs; MSRA's extra factor 2 compensates exactly (std {relu['msra'][0]['std']:.2f} -> "
                     f"{relu['msra'][-1]['std']:.2f}), the pattern of source 003's table.")
    return (" ".join(parts) + "\n") if parts else ""


def _zero_prose(ctx, runs) -> str:
    zero = [r for r in runs if r["init"] == "zero" and r["status"] == "ok" and r["best_valid_acc"] is not None]
    if not zero:
        return ""
    best = max(r["best_valid_acc"] for r in zero)
    data = ctx.load("data")
    share = None
    if data and "valid" in data.get("splits", {}):
        counts = data["splits"]["valid"]["label_counts"]
        share = max(counts) / sum(counts)
    ref = f"the most frequent valid class is {pct(share)} of the images" if share else "chance is 10%"
    return (f"**Zero initialisation stays at chance**: its best valid accuracy over every activation and optimizer "
            f"is {pct(best)} ({ref}). With tanh and ReLU every hidden activation is exactly 0, so every hidden "
            f"weight's gradient is 0 and only the output bias learns (the class prior); with sigmoid every hidden "
            f"unit outputs 0.5 and receives the same gradient, so each layer stays a copy of a single unit and the "
            f"network cannot separate ten classes.\n")


# ---------------------------------------------------------------- source 003's 表1, side by side
def _shape_cell(rec: dict, row: int) -> str:
    """Row ``row``'s measured activation shape at initialisation (mean over seeds), or "-" for rows 1-3."""
    net, act, init = TABLE1[row - 1]
    shapes = rec["table1"]["shapes"].get(f"{act}/{init}") if net == GRID_NET else None
    if not shapes:
        return "-"
    first, last = ([s["layers"][k] for s in shapes] for k in (0, -1))
    n, depth = len(shapes), len(shapes[0]["layers"])
    if row == 4:
        ends, mid = (np.mean([x[k] for x in last]) for k in ("edge", "centre"))
        held = sum(x["edge"] > x["centre"] for x in last)
        return f"layer {depth}: {ends:.2f} at the ends vs {mid:.2f} in the middle (U-shaped in {held}/{n} seeds)"
    if row == 6:
        a, b = (np.mean([x["near_zero"] for x in xs]) for xs in (first, last))
        return f"share near 0, layer 1 -> {depth}: {a:.2f} -> {b:.2f} ({b - a:+.2f})"
    ratio = np.mean([y["std"] / x["std"] for x, y in zip(first, last)])
    extra = ""
    if act == "relu":
        a, b = (np.mean([x["near_zero"] for x in xs]) for xs in (first, last))
        extra = f"; share near 0 {a:.2f} -> {b:.2f}"
    return f"std layer {depth} / layer 1: {ratio:.2f}{extra}"


def _acc_cell(rec: dict, row: int) -> str:
    accs = [r["test_acc"] for r in rec["runs"] if r["variant"] == table1_variant(*TABLE1[row - 1])
            and r["status"] == "ok" and r.get("test_acc") is not None]
    bad = sum(r["status"] != "ok" for r in rec["runs"] if r["variant"] == table1_variant(*TABLE1[row - 1]))
    m, sd = mean_std(accs)
    return f"{pm(m, sd)} (n = {len(accs)})" + (f", {bad} did not train" if bad else "")


def _verdict_cell(v: dict) -> str:
    parts = []
    for c in v["comparisons"]:
        if c["low"] is not None:
            parts.append(f"{c['a']} − {c['b']}: {100 * c['diff']:+.1f} [{100 * c['low']:+.1f}, {100 * c['high']:+.1f}]")
    return f"**{v['verdict']}**" + (" (provisional)" if v["provisional"] else "") + \
        (": " + "; ".join(parts) + " points" if parts else "")


def _table1_part(ctx, rec: dict) -> list[str]:
    """Source 003's 表1 next to our measurements and the ledger's verdict (``claim_rules_init``), with the figure."""
    claims = [c for c in CLAIMS if c.section == T1_SECTION]
    rows = []
    for i, c in enumerate(claims, start=1):
        _, depth, init, act, words = c.original.strip("|").split("|")
        net, our_act, our_init = TABLE1[i - 1]
        ours = f"{net}, {'no activation' if our_act == 'none' else our_act}, {INIT_LABELS.get(our_init, our_init)}"
        rows.append([i, f"{depth} / {init} / {act}", words, ours, _acc_cell(rec, i), _shape_cell(rec, i),
                     _verdict_cell(c.arms({"init": rec})[c.arm])])
    t1 = rec["table1"]
    out = [f"### Source 003's 表1 (几种初始化方法的应用场景), side by side\n",
           f"Source 003 sums up its initialisation experiments in a seven-row table without naming data, net or "
           f"optimizer. Each row's net here is trained with SGD {t1['optimizer'][1]:g} for one epoch (500 steps of "
           f"batch 100) at {len(t1['seeds'])} seeds; 单层 is softmax regression (784-10), 双层 784-100-10, 多层 "
           f"784-100x5-10 (the first seed's multi-layer runs are the grid's above); 随机初始化 is N(0, 1). "
           f"Accuracy is on the eval split (mean ± sd over seeds; chance, the most frequent class, is "
           f"{pct(MAJORITY_CLASS)}); the activation shapes are those of each seed's initial weights on "
           f"{rec.get('setup', {}).get('hist_images', 1000):,} training images. Verdicts are the ledger's "
           "(the project's own tests of 表1; intervals are 95% Welch / one-sample t, in points).\n",
           table(["表1", "depth / init / activation (source)", "说明 (source)", "our net", "test acc after one epoch",
                  "activations at init (mean over seeds)", "verdict"], rows) + "\n",
           "How each word is measured: **可以** (and the accuracy half of **正确**): test accuracy after one epoch "
           f"above {pct(MAJORITY_CLASS)} beyond seed noise; **错误，不能进行正确的反向传播**: the zero-initialised "
           "784-100-10 net below the same net from N(0, 1) weights beyond seed noise; **凹形**: the deepest sigmoid "
           "layer holds more of its activations in [0, 0.1) ∪ (0.9, 1] than in [0.4, 0.6] (bands of equal width), in "
           f"every seed; **偏向0**: the share of ReLU activations at or below {NEAR_ZERO:g} x the first hidden "
           "layer's std (zeros included) is at least 5 points higher in the deepest layer than in the first, in "
           "every seed; **正确** (the activations): the deepest layer's std within a factor 2 of the first's, in "
           "every seed; **不利于反向传播**: accuracy after one epoch below the 正确 nets (row 4 against rows 5 "
           "and 7, row 6 against row 7) beyond seed noise.\n"]
    path, link = ctx.figure("init_table1")
    plot_init_table(rec, path)
    out.append(f"![source 003's table 1, measured]({link})\n")
    return out
