"""The claims ledger: the original report's claims, each with its measured evidence and a verdict from the numbers.

``claims_ledger(records)`` is decided here, once; ``report.studies`` and the
notebooks only render it. ``targets(records)`` checks the issue's accuracy targets.

    python -m paddle_mnist report
"""
from __future__ import annotations

import math

from paddle_mnist.report.format import num, pct, points
from paddle_mnist.studies.loss import DOUBLE_SOFTMAX_FLOOR

VERDICTS = ("reproduced", "not reproduced", "depends", "no data")


def _reach_text(a: dict, thr="0.97"):
    r = a["reach"][thr]
    if not r["n_reached"]:
        return "never"
    return (f"epoch {r['epoch_mean']:.1f} ({r['steps_mean']:.0f} it, {r['seconds_mean']:.1f} s; "
            f"{r['n_reached']}/{r['n']} runs)")


def _steps(a: dict, thr: str):
    r = a["reach"][thr]
    return r["steps_mean"] if r["n_reached"] == r["n"] and r["n"] else math.inf


def _claim(cid, source, claim, evidence, verdict):
    assert verdict in VERDICTS, verdict
    return {"id": cid, "source": source, "claim": claim, "evidence": evidence, "verdict": verdict}


def _loss_claims(rec):
    src = "000 §2.6.2"
    c1 = "Cross entropy converges faster than squared error."
    c2 = "Cross entropy gives a higher accuracy than squared error."
    c3 = "The double-softmax loss cannot fall below ln(1 + 9/e) ≈ 1.46."
    c4 = "The single-output squared-error regressor mostly learns the mean label."
    a = rec["analysis"] if rec else {}
    ce, oh, rg, ds = (a.get(k) for k in ("cross_entropy", "square_error_onehot", "square_error_regression",
                                         "double_softmax"))
    if not (ce and oh and rg):
        return [_claim(i, s, c, "no results of `loss`", "no data") for i, s, c in
                (("loss-speed", src, c1), ("loss-acc", src, c2), ("loss-floor", "README", c3),
                 ("loss-mean", "README", c4))]
    out = []
    def faster(o):  # at epoch resolution: never later, and earlier for at least one threshold
        pairs = [(_steps(ce, t), _steps(o, t)) for t in ("0.95", "0.97")]
        return all(a <= b for a, b in pairs) and any(a < b for a, b in pairs)

    e1 = (f"97% valid reached at: cross entropy {_reach_text(ce)}, squared error one-hot {_reach_text(oh)}, "
          f"single-output regression {_reach_text(rg)}; valid acc after epoch 1: {pct(ce['valid_acc_epoch1_mean'])} vs "
          f"{pct(oh['valid_acc_epoch1_mean'])} vs {pct(rg['valid_acc_epoch1_mean'])}")
    wins = [faster(oh), faster(rg)]
    v1 = "reproduced" if all(wins) else ("depends" if any(wins) else "not reproduced")
    out.append(_claim("loss-speed", src, c1, e1, v1))
    d_oh = (ce["test_acc_mean"] or 0) - (oh["test_acc_mean"] or 0)
    d_rg = (ce["test_acc_mean"] or 0) - (rg["test_acc_mean"] or 0)
    noise = max(ce["test_acc_std"] or 0, oh["test_acc_std"] or 0, 0.0005)
    e2 = (f"test acc: cross entropy {pct(ce['test_acc_mean'])} ± {pct(ce['test_acc_std'])}, one-hot squared error "
          f"{pct(oh['test_acc_mean'])} ({points(-d_oh)}), single-output regression {pct(rg['test_acc_mean'])} "
          f"({points(-d_rg)})")
    if d_rg > 0 and d_oh > 2 * noise:
        v2 = "reproduced"
    elif d_rg > 0:
        v2 = "depends"  # higher than the regressor, not clearly higher than the fair one-hot comparison
    else:
        v2 = "not reproduced"
    out.append(_claim("loss-acc", src, c2, e2, v2))
    if ds:
        lowest = ds["lowest_logged_loss_min"]
        window = rec["runs"][0]["config"]["log_every"]
        e3 = (f"lowest logged double-softmax train loss {lowest:.4f} (mean of {window}-step windows), final epoch "
              f"{ds['final_train_loss_mean']:.4f}; floor {DOUBLE_SOFTMAX_FLOOR:.4f}; test acc "
              f"{pct(ds['test_acc_mean'])} vs {pct(ce['test_acc_mean'])} with cross entropy on logits")
        out.append(_claim("loss-floor", "README / issue 4", c3, e3,
                          "reproduced" if lowest is not None and lowest >= DOUBLE_SOFTMAX_FLOOR - 1e-3
                          else "not reproduced"))
    lab = rec.get("reference", {}).get("labels", {})
    var = lab.get("variance")
    fin = rg["final_train_loss_mean"]
    if var and fin is not None:
        e4 = (f"first logged loss {rg['initial_loss_mean']:.2f} (≈ E[y²] = {lab['second_moment']:.2f}); "
              f"predicting the mean label would give the label variance {var:.2f} and "
              f"{pct(lab['constant_accuracy'])} accuracy; the regressor ends at train loss {fin:.3f} and "
              f"{pct(rg['test_acc_mean'])} test accuracy")
        v4 = "reproduced" if fin > 0.5 * var else ("depends" if (rg["test_acc_mean"] or 0) < 0.9 else "not reproduced")
        out.append(_claim("loss-mean", "README", c4, e4, v4))
    return out


def _dropout_claims(rec):
    src = "000 §2.6.4"
    c1 = "Dropout speeds up training."
    c2 = "Dropout lowers the loss."
    c3 = "Dropout reduces overfitting."
    c4 = "The overfitting reduction is not visible in this experiment."
    a = rec["analysis"] if rec else {}
    base = next((v for v in a.values() if v["dropout"] == 0.0), None)
    drops = [v for v in a.values() if v["dropout"] > 0]
    if not base or not drops:
        return [_claim(f"dropout-{i}", src, c, "no results of `dropout`", "no data")
                for i, c in enumerate((c1, c2, c3, c4), 1)]
    out = []
    name = {id(v): f"p={v['dropout']:g}" for v in a.values()}
    spe = ", ".join(f"{name[id(v)]} {v['seconds_per_epoch_mean']:.2f} s" for v in a.values())
    reach = ", ".join(f"{name[id(v)]} {_reach_text(v)}" for v in a.values())
    faster_epoch = [d["seconds_per_epoch_mean"] < base["seconds_per_epoch_mean"] * 0.97 for d in drops]
    faster_reach = [_steps(d, "0.97") < _steps(base, "0.97") for d in drops]
    slower_reach = [_steps(d, "0.97") > _steps(base, "0.97") for d in drops]
    v1 = ("reproduced" if all(faster_epoch) and not any(slower_reach) else
          "not reproduced" if not any(faster_epoch) and not any(faster_reach) else "depends")
    out.append(_claim("dropout-speed", src, c1, f"seconds per epoch: {spe}; 97% valid reached at: {reach}", v1))
    tr = ", ".join(f"{name[id(v)]} {v['final_train_loss']:.4f}" for v in a.values())
    va = ", ".join(f"{name[id(v)]} {v['final_valid_loss']:.4f} (min {v['min_valid_loss']:.4f} at epoch "
                   f"{v['min_valid_loss_epoch']})" for v in a.values())
    lower_train = all(d["final_train_loss"] < base["final_train_loss"] for d in drops)
    lower_valid = all(d["final_valid_loss"] < base["final_valid_loss"] for d in drops)
    v2 = ("reproduced" if lower_train and lower_valid else
          "depends" if lower_train or lower_valid else "not reproduced")
    out.append(_claim("dropout-loss", src, c2,
                      f"final-epoch train loss (measured with dropout active): {tr}; valid loss: {va}", v2))
    gaps = ", ".join(f"{name[id(v)]} {v['final_loss_gap']:+.4f} / {points(v['final_acc_gap'])}" for v in a.values())
    rises = ", ".join(f"{name[id(v)]} {v['valid_loss_rise']:+.4f}" for v in a.values())
    smaller = [d["final_loss_gap"] < base["final_loss_gap"] and d["valid_loss_rise"] <= base["valid_loss_rise"]
               for d in drops]
    v3 = "reproduced" if all(smaller) else ("depends" if any(smaller) else "not reproduced")
    out.append(_claim("dropout-overfit", src, c3,
                      f"final gap valid − train loss / train − valid acc: {gaps}; valid-loss rise from its minimum "
                      f"to the last epoch: {rises}", v3))
    visible = base["valid_loss_rise"] > 0.01 and any(smaller)
    drop_rises = ", ".join(f"{name[id(v)]} {v['valid_loss_rise']:+.4f}" for v in drops)
    e4 = (f"without dropout the valid loss rises {base['valid_loss_rise']:+.4f} from its minimum at epoch "
          f"{base['min_valid_loss_epoch']} while the train loss keeps falling; with dropout: {drop_rises}")
    out.append(_claim("dropout-visible", src, c4, e4, "not reproduced" if visible else "reproduced"))
    return out


OPT_SOURCE = "000 §2.7"
OPT_CLAIMS = {
    "sgd-small": "SGD with too small a learning rate (0.0001) converges slowly.",
    "sgd-large": "SGD with too large a learning rate (0.9) oscillates.",
    "adagrad": "Adagrad at 0.01 does not lower the loss, while 0.001 works well.",
    "adam": "Adam at 0.001 works better than at 0.01 (the same problem as Adagrad).",
    "momentum": "Momentum accelerates SGD (same learning rate 0.01).",
    "adam-fastest": "Adam usually converges fastest.",
    "advanced": "A more advanced optimizer is not always better.",
}
OPT_SOURCES = {"momentum": "002, 000 §2.7", "adam-fastest": "001", "advanced": "001"}


def _opt_desc(rep: dict, label: str) -> str:
    s = rep[label]
    if s["n_ok"] == 0:
        d = s["diverged"][0] if s["diverged"] else {}
        return f"{label}: diverged at step {d.get('step')} (last finite loss {d.get('last_finite_loss')})"
    div = f", {len(s['diverged'])} of {s['n_runs']} diverged" if s["diverged"] else ""
    return (f"{label}: loss {s['train_loss_epoch1_mean']:.3f} after epoch 1, {s['final_train_loss_mean']:.3f} "
            f"after {s['epochs']}, valid {pct(s['valid_acc_mean'])}, roughness {num(s['roughness_mean'])}{div}")


def _sgd_claims(rep: dict) -> list[dict]:
    """SGD at too small and too large a rate, against SGD at 0.01."""
    src, claims = OPT_SOURCE, OPT_CLAIMS
    s_ok, s_small, s_big = rep["sgd_0.01"], rep["sgd_0.0001"], rep["sgd_0.9"]
    slow = (s_small["final_train_loss_mean"] or math.inf) > (s_ok["train_loss_epoch1_mean"] or 0) and \
        (s_small["valid_acc_mean"] or 0) < (s_ok["valid_acc_mean"] or 0)
    out = [_claim("opt-sgd-small", src, claims["sgd-small"],
                  f"{_opt_desc(rep, 'sgd_0.0001')}; {_opt_desc(rep, 'sgd_0.01')}",
                  "reproduced" if slow else "not reproduced")]
    if s_big["diverged"]:
        v = "reproduced"
    elif (s_big["valid_acc_mean"] or 0) >= (s_ok["valid_acc_mean"] or 0) and \
            (s_big["final_train_loss_mean"] or math.inf) <= (s_ok["final_train_loss_mean"] or math.inf):
        rougher = (s_big["roughness_mean"] or 0) > 2 * (s_ok["roughness_mean"] or math.inf)
        v = "depends" if rougher else "not reproduced"
    else:
        v = "depends"
    out.append(_claim("opt-sgd-large", src, claims["sgd-large"],
                      f"{_opt_desc(rep, 'sgd_0.9')}; {_opt_desc(rep, 'sgd_0.01')}", v))
    return out


def _rate_claims(rep: dict) -> list[dict]:
    """Adagrad and Adam at two rates, and Momentum against SGD at the same rate."""
    src, claims = OPT_SOURCE, OPT_CLAIMS
    out = []
    g1, g3 = rep["adagrad_0.01"], rep["adagrad_0.001"]
    stuck = g1["n_ok"] == 0 or (g1["final_train_loss_mean"] or math.inf) > 0.9 * (g1["initial_loss_mean"] or 0)
    good = (g3["valid_acc_mean"] or 0) > 0.95
    v = "reproduced" if stuck and good else ("depends" if stuck or not good else "not reproduced")
    if not stuck and (g1["valid_acc_mean"] or 0) >= (g3["valid_acc_mean"] or 0):
        v = "not reproduced"
    out.append(_claim("opt-adagrad", src, claims["adagrad"],
                      f"{_opt_desc(rep, 'adagrad_0.01')}; {_opt_desc(rep, 'adagrad_0.001')}", v))
    m3, m2 = rep["adam_0.001"], rep["adam_0.01"]
    d = (m3["test_acc_mean"] or 0) - (m2["test_acc_mean"] or 0)
    noise = max(m3["test_acc_std"] or 0, m2["test_acc_std"] or 0, 0.0005)
    v = "reproduced" if d > 2 * noise else ("not reproduced" if d < -2 * noise else "depends")
    out.append(_claim("opt-adam", src, claims["adam"],
                      f"test acc adam_0.001 {pct(m3['test_acc_mean'])} vs adam_0.01 {pct(m2['test_acc_mean'])} "
                      f"({points(d)}); {_opt_desc(rep, 'adam_0.001')}; {_opt_desc(rep, 'adam_0.01')}", v))
    mo, s_ok = rep["momentum_0.01"], rep["sgd_0.01"]
    faster = (mo["train_loss_epoch1_mean"] or math.inf) < (s_ok["train_loss_epoch1_mean"] or 0) and \
        (mo["valid_acc_mean"] or 0) > (s_ok["valid_acc_mean"] or 0)
    out.append(_claim("opt-momentum", OPT_SOURCES["momentum"], claims["momentum"],
                      f"{_opt_desc(rep, 'momentum_0.01')}; {_opt_desc(rep, 'sgd_0.01')}",
                      "reproduced" if faster else "not reproduced"))
    return out


def _tuned_claims(tuned: dict) -> list[dict]:
    """Adam fastest, and advanced optimizers not always better, from the tuned runs."""
    out = []
    e1 = {o: t["train_loss_epoch1_mean"] for o, t in tuned.items() if t["train_loss_epoch1_mean"] is not None}
    first = min(e1, key=e1.get) if e1 else None
    reach = {o: _steps(t, "0.97") for o, t in tuned.items()}
    fastest = min(reach.values()) if reach else math.inf
    tied = [o for o, s in reach.items() if s == fastest]
    ev = "tuned runs, train loss after epoch 1: " + ", ".join(
        f"{o} {e1[o]:.4f}" for o in sorted(e1, key=e1.get)) + "; 97% valid reached at: " + ", ".join(
        f"{o} {_reach_text(t)}" for o, t in tuned.items())
    v = ("reproduced" if first == "adam" and tied == ["adam"] else
         "depends" if first == "adam" or "adam" in tied else "not reproduced")
    out.append(_claim("opt-adam-fastest", OPT_SOURCES["adam-fastest"], OPT_CLAIMS["adam-fastest"], ev, v))
    scored = {o: t["test_acc_mean"] for o, t in tuned.items() if t["test_acc_mean"] is not None}
    if "adam" in scored:
        beat = [o for o in scored if o != "adam" and scored[o] >= scored["adam"]]
        runner_up = max((o for o in scored if o != "adam"), key=scored.get, default=None)
        noise = max([tuned[o]["test_acc_std"] or 0 for o in ("adam", runner_up) if o] + [0.0005])
        ev = "tuned test acc (mean ± std): " + ", ".join(
            f"{o} {pct(s)} ± {pct(tuned[o]['test_acc_std'])}"
            for o, s in sorted(scored.items(), key=lambda t: -t[1]))
        if beat:
            v, ev = "reproduced", ev + f"; {', '.join(beat)} match(es) or beat(s) Adam"
        elif runner_up and scored["adam"] - scored[runner_up] <= noise:
            v, ev = "depends", ev + f"; Adam leads {runner_up} by less than one seed std"
        else:
            v = "not reproduced"
        out.append(_claim("opt-advanced", OPT_SOURCES["advanced"], OPT_CLAIMS["advanced"], ev, v))
    return out


def _optimizer_claims(rec):
    a = rec["analysis"] if rec else {}
    rep, tuned = a.get("report", {}), a.get("tuned", {})
    need = ("sgd_0.01", "sgd_0.0001", "sgd_0.9", "momentum_0.01", "adagrad_0.01", "adagrad_0.001", "adam_0.001",
            "adam_0.01")
    if not rec or any(k not in rep for k in need):
        return [_claim(f"opt-{k}", OPT_SOURCES.get(k, OPT_SOURCE), c, "no results of `optimizers`", "no data")
                for k, c in OPT_CLAIMS.items()]
    return _sgd_claims(rep) + _rate_claims(rep) + (_tuned_claims(tuned) if tuned else [])


def _hparams_claims(rec):
    src = "000 §2.2"
    c1 = "A learning rate of 0.1 suits this task."
    c2 = "150-200 hidden units suit this task."
    a = rec["analysis"] if rec else {}
    table = [t for t in a.get("grid", []) if t["valid_acc"] is not None]
    choice = a.get("choice")
    if not table or not choice:
        return [_claim("hp-lr", src, c1, "no results of `hparams`", "no data"),
                _claim("hp-hidden", src, c2, "no results of `hparams`", "no data")]
    best = choice["valid_acc"]

    def verdict(gap):
        return "reproduced" if gap <= 0.002 else ("depends" if gap <= 0.005 else "not reproduced")

    out = []
    at01 = [t["valid_acc"] for t in table if abs(t["lr"] - 0.1) < 1e-12]
    if at01:
        g = best - max(at01)
        out.append(_claim("hp-lr", src, c1, f"best valid at lr 0.1 {pct(max(at01))}; best of the grid {pct(best)} at "
                          f"lr {choice['lr']:g}, hidden {choice['hidden']}, {choice['epochs']} epoch(s) ({points(-g)})",
                          verdict(g)))
    else:
        out.append(_claim("hp-lr", src, c1, "lr 0.1 not in the grid", "no data"))
    mid = [t["valid_acc"] for t in table if 150 <= t["hidden"] <= 200 and abs(t["lr"] - choice["lr"]) < 1e-12]
    if mid:
        g = best - max(mid)
        out.append(_claim("hp-hidden", src, c2, f"best valid with 150-200 units at lr {choice['lr']:g}: "
                          f"{pct(max(mid))}; "
                          f"best of the grid {pct(best)} with {choice['hidden']} units ({points(-g)})", verdict(g)))
    else:
        out.append(_claim("hp-hidden", src, c2, "150-200 units not in the grid at the chosen lr", "no data"))
    return out


def claims_ledger(records: dict) -> list[dict]:
    """Every claim with its measured evidence and a verdict computed from the numbers.

    ``records``: results records by experiment name (``loss``, ``dropout``, ``optimizers``, ``hparams``;
    a missing one gives ``no data`` verdicts).
    """
    return (_loss_claims(records.get("loss")) + _dropout_claims(records.get("dropout"))
            + _optimizer_claims(records.get("optimizers")) + _hparams_claims(records.get("hparams")))


def targets(records: dict) -> list[dict]:
    """The issue's targets on the eval split, each with the measured value and whether it is met."""
    out = []
    loss = (records.get("loss") or {}).get("analysis", {})
    ce = loss.get("cross_entropy")
    if ce:
        m = ce["test_acc_mean"]
        out.append({"target": "cross entropy MLP ≥ 98.0%", "measured": f"{pct(m)} ± {pct(ce['test_acc_std'])}",
                    "met": m is not None and m >= 0.98})
        for key, text, ok in (
                ("square_error_onehot", "squared error (one-hot) within 1 point of cross entropy",
                 lambda d: d <= 0.01),
                ("square_error_regression", "single-output regressor visibly worse (≥ 1 point)", lambda d: d >= 0.01),
                ("double_softmax", "double softmax visibly worse (≥ 1 point)", lambda d: d >= 0.01)):
            v = loss.get(key)
            if v and v["test_acc_mean"] is not None and m is not None:
                d = m - v["test_acc_mean"]
                out.append({"target": text, "measured": f"{pct(v['test_acc_mean'])} ({points(-d)})", "met": ok(d)})
    drop = (records.get("dropout") or {}).get("analysis", {})
    d0 = next((v for v in drop.values() if v["dropout"] == 0.0), None)
    d2 = next((v for v in drop.values() if abs(v["dropout"] - 0.2) < 1e-9), None)
    if d0 and d2 and d0["test_acc_mean"] is not None and d2["test_acc_mean"] is not None:
        out.append({"target": "dropout 0.2 at least as good as none",
                    "measured": f"{pct(d2['test_acc_mean'])} ± {pct(d2['test_acc_std'])} vs "
                                f"{pct(d0['test_acc_mean'])} ± {pct(d0['test_acc_std'])}",
                    "met": d2["test_acc_mean"] >= d0["test_acc_mean"]})
    tuned = (records.get("optimizers") or {}).get("analysis", {}).get("tuned", {})
    for opt, t in tuned.items():
        if t.get("gap_to_best") is not None:
            out.append({"target": f"{opt} (tuned lr {t['lr']:g}) within 0.5 points of the best tuned optimizer",
                        "measured": f"{pct(t['test_acc_mean'])} ({points(-t['gap_to_best'])})",
                        "met": t["gap_to_best"] <= 0.005})
    return out
