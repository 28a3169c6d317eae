"""Source 003's toy-loss paths for the ledger: ``traj_runs`` (the paths a row reads, none decided from a path that
left the finite numbers); the zig-zag, turn, overshoot, steps-order, RMSProp-speed and AdaGrad-rate rows are generic
rules (``claim_specs``) over measurements in ``claim_measures``.

The ``trajectories`` record (``studies.trajectories``) holds one deterministic numpy path per optimizer on
z = x²/10 + y² from (-7, 2), so a rule compares numbers with thresholds (no seeds, no intervals).

    python -c "from paddle_mnist.studies.claim_rules_traj import traj_runs; print(traj_runs({}, 'sgd')[1]['verdict'])"
"""
from __future__ import annotations

from paddle_mnist.studies.claim_rules import fact, not_measured

TRAJ_MISSING = "the `trajectories` study (python -m paddle_mnist reproduce --only trajectories)"
NAMES = {"sgd": "SGD", "momentum": "Momentum", "rmsprop": "RMSProp", "adam": "Adam", "adagrad": "AdaGrad",
         "nesterov": "Nesterov", "adadelta": "AdaDelta"}


def traj_runs(records, *names):
    """``({optimizer: run}, None)`` when every run of ``names`` is there and finite, else ``(None, verdict)``."""
    rec = records.get("trajectories") or {}
    runs = {r["optimizer"]: r for r in rec.get("runs", [])}
    if not all(n in runs and "words" in runs[n] for n in names):
        return None, not_measured(TRAJ_MISSING)
    bad = [fact(f"{NAMES[n]} lr {runs[n]['lr']:g}", f"{runs[n]['status']}, so it decides nothing", "text")
           for n in names if runs[n]["status"] != "ok"]
    return (None, not_measured("a path that stays finite at this setting", facts=bad)) if bad else (runs, None)
