"""Check 3, training (parent side): the student's curve against the reference runs of the same configuration.

The reference runs are the records in ``reports/results/*.json`` whose configuration matches what
the student's run used (net, optimizer, learning rate, batch size, loss, softmax in ``forward``,
dropout). Their seed-to-seed band at each logged step is the 95% prediction interval
``mean ± t(n-1)·sd·sqrt(1 + 1/n)``: where one more seed would land. Runs only on the data file
the references were trained on (its md5 in ``reports/results/data.json``).

    python -m paddle_mnist check my_solution.py --steps 500
"""
from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np

from paddle_mnist.apps.check_source import line
from paddle_mnist.paths import RESULTS
from paddle_mnist.records import read_json
from paddle_mnist.studies.stats import mean_std, t975

CHECK = "train"
SCHEDULES = {"constant": "constant", "CosineAnnealingDecay": "cosine"}


def reference_records(results_dir=RESULTS) -> list[dict]:
    runs = []
    for path in sorted(Path(results_dir).glob("*.json")):
        record = read_json(path)
        if isinstance(record, dict) and isinstance(record.get("runs"), list):
            runs += [r for r in record["runs"] if isinstance(r, dict) and isinstance(r.get("config"), dict)]
    return runs


def same_data(data_file, results_dir=RESULTS) -> bool:
    ref = Path(results_dir) / "data.json"
    if not ref.is_file() or not Path(data_file).is_file():
        return False
    return hashlib.md5(Path(data_file).read_bytes()).hexdigest() == read_json(ref).get("md5")


def matches(run: dict, cfg: dict, steps: int) -> bool:
    c = run["config"]
    if cfg.get("last_activation"):
        return False  # every reference net ends in a plain Linear
    if run.get("status") != "ok" or c.get("train_subset") or (run.get("steps") or 0) < steps:
        return False
    if c.get("model") != cfg["role"] or (cfg["role"] == "mlp" and list(c.get("hidden", [])) != [200, 200]):
        return False
    if c.get("optimizer") != cfg["optimizer"] or not math.isclose(c.get("lr", -1), cfg["lr"] or -2, rel_tol=1e-6):
        return False
    if steps > run.get("steps_per_epoch", steps) and c.get("lr_schedule") != SCHEDULES.get(cfg["schedule"]):
        return False  # in the first epoch every per-epoch schedule is still at its initial rate
    after = "fc1" if cfg["dropout_layers"] == 1 else "all"
    return (c.get("batch_size") == cfg["batch_size"] and c.get("loss") == cfg["loss"]
            and bool(c.get("double_softmax")) == cfg["double_softmax"]
            and math.isclose(c.get("dropout", 0.0), cfg["dropout"], abs_tol=1e-9)
            and (cfg["dropout"] == 0 or c.get("dropout_after", "all") == after))


def matching_runs(cfg: dict, steps: int, results_dir=RESULTS) -> list[dict]:
    """Runs of the configuration, one per distinct curve (studies that share a configuration share runs)."""
    seen, out = set(), []
    for r in reference_records(results_dir):
        key = (r.get("seed"), tuple(r.get("iterations", {}).get("train_loss", [])[:5]))
        if key not in seen and matches(r, cfg, steps):
            seen.add(key)
            out.append(r)
    return out


def interval(values: list[float]) -> tuple[float, float, float]:
    """``(mean, low, high)``: the 95% prediction interval of one more seed."""
    m, sd = mean_std(values)
    n = len(values)
    half = t975(n - 1) * sd * math.sqrt(1 + 1 / n) if n > 1 else 0.0
    return m, m - half, m + half


def windows(losses: list[float], marks: list[int]) -> list[float]:
    """Mean loss since the previous mark, at each mark (mark 1 is the first step): as ``engine.fit`` logs it."""
    out, prev = [], 0
    for s in marks:
        out.append(float(np.mean(losses[prev:s])))
        prev = s
    return out


def describe(cfg: dict) -> str:
    extra = (", softmax in forward" if cfg["double_softmax"] else "") + (
        ", an activation on the last layer" if cfg.get("last_activation") else "") + (
        f", dropout {cfg['dropout']:g}" if cfg["dropout"] else "")
    return (f"{cfg['role'] or 'other net'}, {cfg['optimizer']} lr {cfg['lr']:g}, batch {cfg['batch_size']}, "
            f"{cfg['loss']}{extra}")


def verdict(value: float, band, what: str, higher_is_better: bool, fmt) -> tuple[str, str]:
    """passed inside the band or on its better side; warned up to one band half-width worse; failed beyond."""
    m, lo, hi = band
    where = f"{what} {fmt(value)} against the reference band [{fmt(lo)}, {fmt(hi)}]"
    if lo <= value <= hi:
        return "passed", f"{where}: inside"
    better = value > hi if higher_is_better else value < lo
    gap = value - hi if value > hi else lo - value
    if better:
        return "passed", f"{where}: {fmt(gap)} better than the band"
    return ("warned" if gap <= max(hi - m, 1e-12) else "failed"), (
        f"{where}: {fmt(gap)} {'below' if value < lo else 'above'} it (worse than one more reference seed would be)")


def _fallback(run: dict, reason: str) -> dict:
    losses, k, subject = run["losses"], run["steps"], run["net"]
    marks = [1] + list(range(50, k + 1, 50)) if k >= 50 else [1, k]
    w = windows(losses, marks)
    fell = w[-1] < w[0]
    verb = "fell" if fell else "did not fall"
    curve = line(CHECK, "curve", "passed" if fell else "warned", f"{reason}; the loss {verb} from {w[0]:.3f} to "
                 f"{w[-1]:.3f} in {k} steps", "curve", subject)
    valid = line(CHECK, "valid", "passed", f"valid accuracy {run['valid_acc']:.2%} after {k} steps; no reference "
                 "to compare with", "curve", subject)
    return {"lines": [curve, valid], "figure": {"marks": marks, "student": w, "band": None, "net": subject,
                                                 "label": describe(run["config"])}}


def valid_line(run: dict, refs: list[dict]) -> dict:
    k, spe = run["steps"], refs[0].get("steps_per_epoch") or 0
    epoch = k // spe if spe and k % spe == 0 else 0
    accs = [r["history"]["valid_acc"][epoch - 1] for r in refs if epoch and len(r["history"]["valid_acc"]) >= epoch]
    if len(accs) < 2 or k != run["requested"]:
        return line(CHECK, "valid", "passed", f"valid accuracy {run['valid_acc']:.2%} after {k} steps; the "
                    f"references score valid once per epoch ({spe} steps), so none to compare with here", "curve",
                    run["net"])
    status, text = verdict(run["valid_acc"], interval(accs), f"valid accuracy after epoch {epoch}", True,
                           lambda v: f"{v:.2%}")
    return line(CHECK, "valid", status, f"{text} ({len(accs)} reference seeds)", "curve", run["net"])


def compare(run: dict, data_ok: bool, results_dir=RESULTS) -> dict:
    """Lines ``train.curve`` and ``train.valid`` for a run's record from the child, and the figure's data."""
    cfg, k = run["config"], run["steps"]
    if not data_ok:
        return _fallback(run, "the data file differs from the one the references were trained on")
    refs = matching_runs(cfg, k, results_dir) if cfg["role"] and cfg["optimizer"] else []
    if len(refs) < 2:
        return _fallback(run, f"no reference runs of this configuration ({describe(cfg)})")
    marks = [s for s in refs[0]["iterations"]["step"] if s <= k]
    points = [dict(zip(r["iterations"]["step"], r["iterations"]["train_loss"])) for r in refs]
    bands = [interval([p[s] for p in points if s in p]) for s in marks]
    student = windows(run["losses"], marks)
    status, text = verdict(student[-1], bands[-1], f"train loss at step {marks[-1]}", False, lambda v: f"{v:.4f}")
    inside = sum(lo <= v <= hi for v, (_, lo, hi) in zip(student, bands))
    curve = line(CHECK, "curve", status, f"{text}; {inside}/{len(marks)} logged points inside; {len(refs)} "
                 f"reference seeds of {describe(cfg)}", "curve", run["net"])
    figure = {"marks": marks, "student": student, "band": [list(b) for b in bands], "net": run["net"],
              "label": describe(cfg)}
    return {"lines": [curve, valid_line(run, refs)], "figure": figure}
