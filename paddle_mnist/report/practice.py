"""The report section on source 002's practices and source 000's k-fold remark (``practice``), and the saddle-point part
of the trajectories section (000 §2.7).

``section_practice(ctx)`` and ``saddle_part(ctx, rec)`` return markdown. Every number comes from the results
records; each comparison is the claim rule's Welch interval (``studies.claim_specs``), rendered by
``report.claims.comparison_text``, so every sentence that compares two numbers says whether the difference is
beyond seed noise. Figures are drawn by ``plots.practice`` and ``plots.scratch``.

    python -m paddle_mnist report
"""
from __future__ import annotations

from paddle_mnist.report.claims import comparison_text, verdict_text
from paddle_mnist.format import num, pct, pm, table
from paddle_mnist.report.context import section, table_part
from paddle_mnist.studies.claims import claims_ledger, decided
from paddle_mnist.studies.stats import mean_std, ok_runs
from paddle_mnist.plots.practice import (GD_ARMS, plot_ewa, plot_gd_batch, plot_input_standardise, plot_kfold,
                                         plot_lr_decay)
from paddle_mnist.plots.scratch import plot_saddle

EWA_IDS, GD_IDS, LR_IDS, INPUT_IDS, KFOLD_IDS = ("ewa-smooth", "ewa-bias"), ("gd-batch",), ("lr-decay",), \
    ("input-standardise", "standardise-speed"), ("hp-kfold",)


def _ms(values, digits: int = 3) -> str:
    """``mean ± std`` over seeds of plain numbers (``n/a`` without any)."""
    m, s = mean_std(values)
    return "n/a" if m is None else f"{m:.{digits}f} ± {s:.{digits}f}"


def _pm(values) -> str:
    """``mean ± std`` over seeds of accuracies, as percentages."""
    return pm(*mean_std(values))


def _fact(f: dict) -> str:
    v = f["value"]
    if f.get("unit") == "pct" and isinstance(v, float):
        return f"{f['label']}: {v:.2%}"
    return f"{f['label']}: {v:g}" if isinstance(v, (int, float)) and not isinstance(v, bool) else \
        f"{f['label']}: {v}"


def claim_block(records: dict, ids) -> str:
    """Each claim of ``ids``: its words, verdict and rule, then every comparison (with its interval) and fact."""
    lines = []
    for c, arm, res in decided(claims_ledger(records)):  # these claims have one row each (the project's own test)
        if c["id"] not in ids:
            continue
        lines.append(f"- **{c['claim']}** ({c['source']}: {c['original']}) — {verdict_text(res)}. "
                     f"*Measured:* {c['metric']}. *Rule:* {c['rule']}.")
        lines += [f"  - {comparison_text(x)}" for x in res["comparisons"]]
        lines += [f"  - {_fact(f)}" for f in res["facts"]]
        if res["verdict"] == "not measured":
            lines.append(f"  - needs {res['experiment']}")
    return "\n".join(lines) + "\n"


def _runs(rec, variant):
    return ok_runs(rec["runs"], variant)


# ------------------------------------------------------------------ parts
def _ewa_part(ctx, rec) -> list[str]:
    runs, setup = _runs(rec, "ewa"), rec["setup"]["ewa"]
    out = ["### Exponentially weighted averages (002 §7)\n"]
    if not runs:
        return out + ["_No ewa runs._\n"]
    se = runs[0]["season"]
    out.append(f"Each seed draws a year of daily temperatures: {se['mean']:g} − {se['amplitude']:g} cos(2π(d − "
               f"{se['coldest_day']})/365) °F plus Gaussian noise of std {se['noise_std']:g} °F. Each β averages "
               f"it as v_t = βv_(t−1) + (1 − β)θ_t from v_0 = 0, and divides by 1 − β^t for the corrected "
               f"average. *Roughness*: the mean |day-to-day change| of the corrected average over days "
               f"{setup['start']}-365; *lag*: the shift (0-{setup['max_shift']} days) that best aligns it with the "
               f"noise-free curve over the same days; *error of the first values*: the mean |average − noise-free "
               f"curve| over days 1-{setup['first']}. An uncorrected average starts near 0, so its early error "
               f"grows with the series' level (here about {se['mean']:g} °F).\n")
    out.append(ctx.draw("practice_ewa", plot_ewa, rec, "exponentially weighted averages"))
    betas = list(runs[0]["betas"])
    rows = [[f"β={b}", _ms([r["betas"][b]["roughness"] for r in runs]), _ms([r["betas"][b]["lag"] for r in runs], 1),
             _ms([r["betas"][b]["first_error"] for r in runs], 2),
             _ms([r["betas"][b]["first_error_corrected"] for r in runs], 2)] for b in betas]
    out.append(table(["β", "roughness (°F/day)", "lag (days)", f"error, days 1-{setup['first']}, uncorrected (°F)",
                      "corrected (°F)"], rows) + f"\n\nMean ± std over {len(runs)} seed(s).\n")
    return out + [claim_block({"practice": rec}, EWA_IDS)]


def _gd_part(ctx, rec) -> list[str]:
    setup = rec["setup"]["gd"]
    n = next((r["batch_size"] for r in _runs(rec, "gd-batch")), None)
    out = ["### Batch, mini-batch and stochastic gradient descent (002 §3-5)\n",
           f"Softmax regression (784-10, numpy float32, one BLAS thread) trained by the same step code at "
           f"lr {setup['lr']:g} on {'all ' if not setup['train_subset'] else 'the first '}"
           f"{n or setup['train_subset']:,} training images, with batches of "
           + ", ".join(f"{size or 'the whole split'} for {epochs:g} epoch{'s' if epochs != 1 else ''}"
                       for _, size, epochs in setup["arms"])
           + f". The train loss is measured on every {setup['probe_every']}th training image at log-spaced "
           "steps; the seconds count training steps only, and seconds per epoch are the training seconds over "
           "the epochs done. *Jitter*: the mean |L(t+1) − 2L(t) + L(t−1)| of the "
           "per-step batch losses over each run's second half of steps (0 for a straight or smoothly bending "
           "descent).\n", ctx.draw("practice_gd_batch", plot_gd_batch, rec, "batch vs mini-batch vs stochastic")]
    rows = []
    for variant, label in GD_ARMS:
        runs = _runs(rec, variant)
        rows.append([label, runs[0]["steps"] if runs else "-",
                     _ms([r["history"]["epoch"][-1] for r in runs], 2), _ms([r["seconds_per_epoch"] for r in runs]),
                     _ms([r["history"]["train_loss"][-1] for r in runs]), _ms([r["jitter"] for r in runs], 4),
                     _ms([r["rise_share"] for r in runs], 3)])
    out.append(table_part(["batch size", "steps", "epochs", "training seconds per epoch", "train loss at the end",
                           "jitter", "share of steps whose loss rose"], rows))
    return out + [claim_block({"practice": rec, "timing": ctx.bench("timing")}, GD_IDS)]


def _lr_part(ctx, rec) -> list[str]:
    setup = rec["setup"]["lr"]
    out = ["### Learning-rate decay (002 §11)\n",
           f"Mini-batch SGD (batch {setup['batch_size']}) of softmax regression for {setup['epochs']} epochs "
           f"from α0 = {setup['lr0']:g}: constant, or 002's α = α0 / (1 + {setup['decay_rate']:g} × epoch) "
           "with epochs counted from 0 (the first epoch runs at α0). The final train loss is the cross entropy "
           "over the whole train split after the last epoch.\n",
           ctx.draw("practice_lr_decay", plot_lr_decay, rec, "learning-rate decay")]
    rows = [[label, _ms([r["final_train_loss"] for r in _runs(rec, v)], 4),
             _pm([r["test_acc"] for r in _runs(rec, v)])]
            for v, label in (("lr-constant", "constant"), ("lr-decayed", "decayed"))]
    out.append(table_part(["rate", "final train loss", "test accuracy"], rows))
    return out + [claim_block({"practice": rec}, LR_IDS)]


def _input_part(ctx, rec) -> list[str]:
    setup = rec["setup"]["input"]
    std = _runs(rec, "input-standardised")
    const = std[0]["constant_pixels"] if std else None
    out = ["### Input standardisation (002 §12)\n",
           f"A {'-'.join(str(v) for v in setup['sizes'])} sigmoid net (numpy float32, Xavier uniform) trained "
           f"by SGD {setup['lr']:g}, batch {setup['batch_size']}, for {setup['steps']} steps on the raw pixels "
           "or on pixels standardised with the train split's per-pixel mean and std"
           + (f" ({const} pixels are 0 in every training image: only centred)" if const is not None else "")
           + f". *Gradient imbalance*: |log10(RMS of fc1's weight gradient / RMS of the last layer's)| averaged "
           f"over the first {setup['early_steps']} steps; 0 would mean the input layer learns as fast as the "
           "output layer.\n", ctx.draw("practice_input", plot_input_standardise, rec, "input standardisation")]
    rows = []
    for v, label in (("input-raw", "raw"), ("input-standardised", "standardised")):
        runs = _runs(rec, v)
        layers = runs[0]["layers"] if runs else []
        rows.append([label] + [_ms([r["early_grad_rms"][i] * 1e4 for r in runs], 2) for i in range(len(layers))]
                    + [_ms([r["imbalance"] for r in runs]), _ms([r["final_train_loss"] for r in runs]),
                       _pm([r["test_acc"] for r in runs]), num(runs[0]["max_abs_input"] if runs else None, 1)])
    head = [k.split(".")[0] + " RMS grad (×1e-4)" for k in (std[0]["layers"] if std else [])]
    out.append(table_part(["inputs"] + head + ["imbalance", "train loss at the end", "test accuracy",
                                                "largest absolute input"], rows))
    return out + [claim_block({"practice": rec}, INPUT_IDS)]


def _kfold_part(ctx, rec) -> list[str]:
    setup, runs = rec["setup"]["kfold"], _runs(rec, "kfold")
    out = ["### k-fold cross-validation instead of a validation split (000 §2.2)\n",
           f"Per seed a different {setup['n']:,}-image subset of train; the learning rate of softmax "
           f"regression (SGD, batch {setup['batch_size']}, {setup['epochs']} epochs) is chosen from "
           f"{', '.join(f'{v:g}' for v in setup['lrs'])} by {setup['k']}-fold cross-validation (then "
           f"retrained on all {setup['n']:,}) or on one {setup['n_valid']}-image held-out split (its model "
           f"keeps the {setup['n'] - setup['n_valid']} images it was trained on: the validation images never "
           "train). Both final models are scored once on `test`; every rate retrained on the whole subset is "
           "scored too, only to say afterwards which choice was best.\n",
           ctx.draw("practice_kfold", plot_kfold, rec, "k-fold vs held-out")]
    rows = [[r["seed"], f"{r['lrs'][r['kfold_choice']]:g}", f"{r['lrs'][r['holdout_choice']]:g}",
             f"{r['lrs'][r['grid_best']]:g}", pct(r["kfold_test_acc"]), pct(r["holdout_test_acc"]),
             pct(r["holdout_refit_test_acc"])] for r in runs]
    out.append(table_part(["seed", "5-fold choice", "hold-out choice", "best rate on test (afterwards)",
                           "5-fold final test acc", "hold-out final test acc", "hold-out choice retrained on all"],
                          rows))
    return out + [claim_block({"practice": rec}, KFOLD_IDS)]


def _practice(ctx, rec) -> list[str]:
    out = [f"{rec['description']} Seeds {', '.join(map(str, rec['settings']['seeds']))}; each comparison below is "
           "the Welch 95% interval of the difference of the means over seeds.\n"]
    for part in (_ewa_part, _gd_part, _lr_part, _input_part, _kfold_part):
        out += part(ctx, rec)
    failed = [r["name"] for r in rec["runs"] if r["status"] != "ok"]
    return out + ([f"Runs not ok: {', '.join(failed)}.\n"] if failed else [])


def section_practice(ctx) -> str:
    return section(ctx, "practice", "Source 002's practices and k-fold cross-validation (sources 002, 000 §2.2)",
                   _practice, blank_end=True)


# ------------------------------------------------------------------ 000 §2.7 (in the trajectories section)
def saddle_part(ctx, rec) -> str:
    """SGD vs Momentum near the saddle of z = x² + y⁴/4 − y²/2 (the ``trajectories`` record's ``saddle``)."""
    out = ["### A saddle point: SGD vs Momentum (000 §2.7)\n"]
    sad = rec.get("saddle")
    if not sad or not sad.get("runs"):
        return out[0] + "_No saddle runs in these results: run `python -m paddle_mnist train trajectories`._\n"
    st = sad["settings"]
    out.append(f"z = x² + y⁴/4 − y²/2 curves up along x and down along y at the origin, a saddle (z = 0) between "
               f"the minima (0, ±1) (z = −1/4). From one seeded start per seed (|x| < {st['x_range']:g}, |y| "
               f"between {st['y_range'][0]:g} and {st['y_range'][1]:g}) numpy SGD and Momentum "
               f"({st['momentum']:g}) step at the same lr {st['lr']:g}. *Leaving the saddle*: the first step at "
               f"which the point is farther than {st['radius']:g} from it; *escaped*: the distance after "
               f"{st['steps']} steps.\n")
    out.append(ctx.draw("trajectories_saddle", plot_saddle, rec, "saddle point"))
    rows = []
    for seed in sorted({r["seed"] for r in sad["runs"]}):
        by = {r["optimizer"]: r for r in sad["runs"] if r["seed"] == seed}
        sgd, mom = by.get("sgd"), by.get("momentum")
        if sgd and mom:
            rows.append([seed, f"({sgd['start'][0]:.3f}, {sgd['start'][1]:.1e})",
                         sgd["escape_step"] or "never", mom["escape_step"] or "never",
                         f"{sgd['distance']:.2e}", f"{mom['distance']:.3f}"])
    out += [table_part(["seed", "start (x, y)", "SGD leaves at step", "Momentum leaves at step",
                        f"SGD distance after {st['steps']}", f"Momentum distance after {st['steps']}"], rows),
            claim_block({"trajectories": rec}, ("opt-momentum-saddle",))]
    return "\n".join(out)
