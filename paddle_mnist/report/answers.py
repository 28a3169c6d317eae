"""The first screen of ``reports/REPORT.md``: the assignment's questions answered from the results, and the glossary.

Each answer is one bullet whose numbers come from ``reports/results/*.json``; every
difference it states carries its 95% Welch interval over seeds and whether it is
beyond seed noise (``report.claims.noise_text``). ``GLOSSARY`` holds the one-sentence
definitions the report uses where a term first appears and again in its glossary.

    python -m paddle_mnist report
"""
from __future__ import annotations

from paddle_mnist.report.claims import noise_text
from paddle_mnist.format import pct, pm, points
from paddle_mnist.studies.claim_rules import NUMPY_LR_TO_SOURCE
from paddle_mnist.studies.stats import welch_from_summary
from paddle_mnist.engine.runner import headline_variant
from paddle_mnist.studies.loss import DOUBLE_SOFTMAX_FLOOR

GLOSSARY = {
    "seed": "A *seed* is the random seed that fixes a run's initial weights and batch order; each result is the mean "
            "± standard deviation over runs that differ only in it.",
    "valid and eval": "`valid` is the last 10,000 official training images, on which every choice is made; `eval` "
                      "is the official 10,000-image test set, scored once per run and never used to choose.",
    "seed noise": "A difference is *beyond seed noise* when its 95% Welch interval excludes zero, and *within seed "
                  "noise* otherwise (runs that differ only in their seed vary that much by chance).",
    "Welch interval": "The *95% Welch interval* of a difference of two means is the range that holds the true "
                      "difference with 95% confidence, computed from each group's mean, standard deviation and "
                      "number of seeds without assuming equal spreads (the exact Student t quantile at Welch's "
                      "degrees of freedom, from scipy).",
    "quoted": "A number marked *quoted* was not measured here: it is copied from the document named beside it.",
    "arm": "An *arm* is one kind of ledger row, counted apart: **as the source ran it** (the source's own experiment "
           "and settings, bugs included, as far as they can be rebuilt), **done right** (the project's corrected "
           "setup) or **the project's own test of a source's general statement** (an experiment the source did not "
           "run).",
    "verdict": "A claim's *verdict* is **reproduced**, **contradicted** or **inconclusive** (neither, with the reason "
               "beside it: within seed noise, the benchmark's rounds on both sides, the seeds split, or one "
               "deterministic run between the rule's two conditions) by the decision rule written beside it in the "
               "ledger, **untestable here** when its metric is one value in every run, or **not measured** (also when "
               "a run it needs did not train).",
    "provisional": "A verdict is *provisional* when it rests on fewer than 5 seeds per arm.",
}
# Figures from elsewhere, each with where it comes from; the report prints them marked as quoted.
BOOK = ("the PaddlePaddle book, chapter 02.recognize_digits, section \"Model Configuration\" (not one of the "
        "sources; its MLP is 784-128-64-10)")
QUOTED = {"softmax": (0.9234, BOOK), "mlp": (0.9766, BOOK)}


def _beyond(a: dict, b: dict, metric: str = "test_acc") -> bool | None:
    """Whether ``a`` − ``b`` of the mean ``metric`` is beyond seed noise (None: too few seeds to say)."""
    ci = welch_from_summary(a[f"{metric}_mean"], a[f"{metric}_std"], a["n_ok"], b[f"{metric}_mean"],
                            b[f"{metric}_std"], b["n_ok"])
    return None if not ci else ci["low"] > 0 or ci["high"] < 0


def _acc(s: dict) -> str:
    return f"**{pm(s['test_acc_mean'], s['test_acc_std'])}**"


def _seeds(n: int) -> str:
    return f"{n} seed{'s' * (n != 1)}"


def _accuracy(ctx, see) -> str | None:
    sm, ml = ctx.load("softmax"), ctx.load("mlp")
    if not sm or not ml:
        return None
    s = sm["summary"][headline_variant(sm["summary"])]
    v = headline_variant(ml["summary"])
    m = ml["summary"][v]
    return (f"**How accurate are the softmax classifier and the 3-layer net?** On `eval` the softmax classifier "
            f"scores {_acc(s)} over {_seeds(s['n_ok'])} {see('1.2.1')} and the 784-200-200-10 net {_acc(m)} over "
            f"{_seeds(m['n_ok'])} (its `{v}` variant, chosen on `valid`) {see('1.2.2')}: the hidden layers add "
            f"{noise_text(m, s)}. For comparison, *quoted* (copied, not measured here) from "
            f"{QUOTED['softmax'][1]}: about {pct(QUOTED['softmax'][0])} and {pct(QUOTED['mlp'][0])}.")


def _loss(ctx, see) -> str | None:
    rec = ctx.load("loss")
    a = (rec or {}).get("analysis", {})
    ce, oh, rg = a.get("cross_entropy"), a.get("square_error_onehot"), a.get("square_error_regression")
    if not (ce and oh and rg):
        return None
    beyond = _beyond(oh, ce)
    same = ", as accurate here" if beyond is False else ""
    reach = [x["reach"]["0.97"]["epoch_mean"] for x in (ce, oh)]
    when = ("" if None in reach else f"; it reaches 97% `valid` at epoch {reach[1]:.1f} against "
            f"{reach[0]:.1f} (means over seeds)")
    verdict = ("With one seed this is not decided." if beyond is None else
               "Squared error does better here." if beyond and oh["test_acc_mean"] > ce["test_acc_mean"] else
               "Cross entropy on logits it is: no worse than the others, and what `F.cross_entropy` expects.")
    return (f"**Which loss, and why?** Cross entropy on logits (`F.cross_entropy`, which applies the softmax "
            f"itself): {_acc(ce)} {see('2.6.1')}. Squared error between the softmax output and one-hot targets "
            f"scores {pm(oh['test_acc_mean'], oh['test_acc_std'])} ({noise_text(oh, ce)}){same}{when}. The "
            f"assignment's single output unit regressing the digit, which treats the digits as points on a line "
            f"(a 3 read as 8 costs 25 times a 3 read as 4), scores {pm(rg['test_acc_mean'], rg['test_acc_std'])} "
            f"({noise_text(rg, ce)}). {verdict}")


def _dropout(ctx, see) -> str | None:
    rec, course = ctx.load("dropout"), ctx.load("course")
    a = (rec or {}).get("analysis", {})
    base = next((s for s in a.values() if s["dropout"] == 0.0), None)
    rates = sorted((s for s in a.values() if s["dropout"] > 0), key=lambda s: s["dropout"])
    if base is None or not rates:
        return None
    best = max(rates, key=lambda s: s["test_acc_mean"])
    gain = best["test_acc_mean"] - base["test_acc_mean"]
    beyond = _beyond(best, base)
    word = (f"Yes, a little (best at p = {best['dropout']:g})" if beyond and gain > 0 else "No" if beyond else
            "Not measurably" if beyond is False else "Unknown with one seed")
    each = "; ".join(f"p = {s['dropout']:g}: {pm(s['test_acc_mean'], s['test_acc_std'])} "
                     f"({noise_text(s, base)})" for s in rates)
    out = (f"**Does dropout help here?** {word}: without dropout the 784-200-200-10 net scores {_acc(base)}; "
           f"with dropout after each hidden layer, {each} {see('2.6.3')}.")
    c = (course or {}).get("analysis", {}).get("dropout", {})
    ds, fc1 = c.get("double_softmax"), c.get("dropout_fc1")
    if ds and fc1:
        out += (f" On the course's own setup (one Dropout after fc1, p = {fc1['dropout']:g}, double softmax) "
                f"{pm(fc1['test_acc_mean'], fc1['test_acc_std'])} against {pm(ds['test_acc_mean'], ds['test_acc_std'])}"
                f" ({noise_text(fc1, ds)}).")
    return out


def _optimizer(ctx, see) -> str | None:
    rec = ctx.load("optimizers")
    a = (rec or {}).get("analysis", {})
    tuned, best = a.get("tuned", {}), a.get("best_tuned")
    if not best or best not in tuned:
        return None
    b = tuned[best]
    others = {o: t for o, t in tuned.items() if o != best and t.get("test_acc_mean") is not None}
    near = [o for o, t in others.items() if _beyond(t, b) is False]
    far = [o for o, t in others.items() if _beyond(t, b)]
    listed = ", ".join(f"{o} {t['lr']:g}: {pct(t['test_acc_mean'])}" for o, t in others.items())
    out = (f"**Which optimizer and learning rate?** With each learning rate tuned on `valid` ({b['epochs']} "
           f"epochs), **{best} at lr {b['lr']:g}** is best with {_acc(b)} {see('2.7')}; {listed}. "
           + ("With one seed, seed noise is unknown." if not near and not far else
              f"All {len(others)} others are within seed noise of it." if not far else
              f"{len(near)} of the {len(others)} others are within seed noise of it ({', '.join(far)} not)."))
    report = {v: s for v, s in a.get("report", {}).items() if s.get("test_acc_mean") is not None}
    if report:
        lo = min(report, key=lambda v: report[v]["test_acc_mean"])
        hi = max(report, key=lambda v: report[v]["test_acc_mean"])
        out += (f" The learning rate matters more than the optimizer: at the {len(report)} settings of §2.7's study "
                f"the same net spans {pct(report[lo]['test_acc_mean'])} (`{lo}`) to "
                f"{pct(report[hi]['test_acc_mean'])} (`{hi}`).")
    return out


def _hidden(ctx, see, ledger) -> str | None:
    rec = ctx.load("hparams")
    a = (rec or {}).get("analysis", {})
    c, f = a.get("choice"), a.get("final")
    if not c:
        return None
    out = (f"**Which hidden size?** Searched on `valid` (one seed per grid point), the best point "
           f"is **{c['hidden']} units per layer at lr {c['lr']:g}, {c['epochs']} epochs** (valid {pct(c['valid_acc'])})"
           f" {see('2.2')}")
    row = next((r for r in ledger if r["id"] == "hp-hidden"), None)
    cmp = (row["arms"].get("right") or {}).get("comparisons", []) if row else []
    if cmp and cmp[0]["low"] is not None:
        k = cmp[0]
        noise = "beyond" if k["beyond_noise"] else "within"
        out += (f"; the source's 150-200 units get {pct(k['mean_b'])} on `valid` ({points(-k['diff'])}, 95% interval "
                f"[{points(-k['high'])}, {points(-k['low'])}] from the chosen point's spread over seeds, {noise} "
                f"seed noise)")
    if f:
        out += f". Trained over {_seeds(f['n_ok'])} the chosen point scores {_acc(f)} on `eval`"
    return out + "."


def _course(ctx, see) -> str | None:
    rec = ctx.load("course")
    a = (rec or {}).get("analysis", {}).get("loss", {})
    ds, lg = a.get("double_softmax"), a.get("logits")
    if not (ds and lg):
        return None
    runs = sorted((r for r in rec["runs"] if r["variant"] == "double_softmax" and r.get("test_acc") is not None),
                  key=lambda r: r["test_acc"])
    spread = (f": from {pct(runs[0]['test_acc'])} (seed {runs[0]['seed']}) to {pct(runs[-1]['test_acc'])} "
              f"(seed {runs[-1]['seed']})" if len(runs) > 1 else "")
    cfg = runs[0]["config"] if runs else {}
    setup = ("**What does the course's own setup get, and what does fixing the double softmax change?** Its "
             "784-200-200-10 net with a softmax in `forward` before `F.cross_entropy` "
             f"(SGD lr {ds['lr']:g}, batch {cfg.get('batch_size', '?')}, {cfg.get('epochs', '?')} epochs)")
    floor = (f"its loss never falls below ln(1 + 9/e) = {DOUBLE_SOFTMAX_FLOOR:.4f} (lowest logged "
             f"window over all seeds {ds['lowest_logged_loss_min']:.4f})")
    fix = f"Removing the extra softmax alone gives {_acc(lg)}: {noise_text(lg, ds)}."
    return f"{setup} scores {_acc(ds)} over {_seeds(ds['n_ok'])}{spread} {see('course')}; {floor}. {fix}"


def _numpy(ctx, see) -> str | None:
    rec = ctx.load("numpy")
    if not rec or not rec.get("search") or not rec.get("summary"):
        return None
    s = rec["search"]
    e, c = s["eval"], s["choice"]
    best = max(rec["summary"], key=lambda v: rec["summary"][v]["valid_acc_mean"] or 0)
    b = rec["summary"][best]
    return (f"**And the numpy net from scratch?** The assignment's own (sigmoid hidden layers, one output regressing "
            f"the digit, squared error), at its best `valid` point (lr {c['lr']:g}, which is the source's "
            f"{c['lr'] * NUMPY_LR_TO_SOURCE:g}: its loss gradient is 2(y − t)/n where the source's code uses "
            f"(y − t)/n; {c['hidden']} units, {c['epochs']} epochs), scores **{pm(e['acc'], e.get('acc_std'))}** on `eval` over {_seeds(e['n'])}; the "
            f"same numpy code with ten softmax outputs and `{best}` (best on `valid`) scores {_acc(b)} "
            f"{see('numpy')}.")


def answers(ctx, see, ledger: list[dict]) -> str:
    """``## Answers to the assignment``: one bullet per question, each linked (``see(key)``) to its section."""
    out = ["## Answers to the assignment\n",
           " ".join(GLOSSARY[k] for k in ("seed", "valid and eval", "seed noise", "Welch interval")) + "\n"]
    parts = [_accuracy(ctx, see), _loss(ctx, see), _dropout(ctx, see), _optimizer(ctx, see),
             _hidden(ctx, see, ledger), _course(ctx, see), _numpy(ctx, see)]
    out += [f"- {p}" for p in parts if p]
    if not any(parts):
        out.append("_No results yet: run `python -m paddle_mnist reproduce`._")
    return "\n".join(out) + "\n"


def glossary() -> str:
    """``## Glossary``: the report's terms, one sentence each."""
    return "## Glossary\n\n" + "\n".join(f"- {text}" for text in GLOSSARY.values()) + "\n"
