"""Check 2, the nets: each ``paddle.nn.Layer`` of the student's solution, probed at run time.

Runs in the child process of ``check``. On 100 real ``valid`` images: the parameter count against
784-10 (7,850) and 784-200-200-10 (199,210); outputs that are logits (rows summing to 1 mean a
softmax inside ``forward``); an activation on the last layer (outputs all >= 0, or bounded even for
inputs scaled 1000 times); dropout inactive after ``model.eval()`` (the same output twice) and
dropout rates above 0.5.

    python -m paddle_mnist check my_solution.py --net MLP
"""
from __future__ import annotations

import numpy as np

from paddle_mnist.apps.check_source import build_net, error_text, line
from paddle_mnist.datafile.store import read_arrays
# deferred: paddle (loaded on first use, so importing this module stays light)

CHECK = "nets"
COURSE_SIZES = {7850: "784-10", 199210: "784-200-200-10"}
INPUT_SHAPES = ([-1, 784], [-1, 1, 28, 28], [-1, 28, 28])


def forward(model, x: np.ndarray, shape=None):
    """The model's output as numpy for images ``[B, 784]``; the input shape that worked."""
    import paddle

    errors = []
    for s in ([shape] if shape else INPUT_SHAPES):
        try:
            with paddle.no_grad():
                out = model(paddle.to_tensor(np.ascontiguousarray(x.reshape(s)), dtype="float32"))
            return np.asarray(out.numpy(), dtype=np.float64), s
        except Exception as exc:  # the student's forward
            errors.append(error_text(exc))
    raise RuntimeError(f"forward failed on images [B, 784] and [B, 1, 28, 28]: {errors[0]}")


def dropout_rates(model) -> list[float]:
    import paddle.nn as nn

    kinds = tuple(k for k in (getattr(nn, n, None) for n in ("Dropout", "Dropout2D", "Dropout3D", "AlphaDropout"))
                  if k is not None)
    return [float(layer.p) for layer in model.sublayers(include_self=True) if isinstance(layer, kinds)]


def check_params(name: str, n: int) -> list:
    if n in COURSE_SIZES:
        return [line(CHECK, "params", "passed", f"{n:,} parameters: the course's {COURSE_SIZES[n]} net", "nets",
                     name)]
    return [line(CHECK, "params", "warned", f"{n:,} parameters; the course's nets have 7,850 (784-10) and 199,210 "
                 "(784-200-200-10), so no reference run matches this net", "nets", name)]


def softmax_cost(ctx: dict) -> str:
    ref = ctx.get("double_softmax") or {}
    if not ref:
        return ""
    return (f" (the reference's double-softmax MLP under SGD 0.1: loss floor {ref['floor']:.4f}, lowest logged loss "
            f"(lowest seed) {ref['lowest']:.4f}, test accuracy {ref['acc']:.2%} against {ref['acc_logits']:.2%} on logits)")


def check_outputs(name: str, model, x: np.ndarray, shape, ctx: dict) -> list:
    """Logits, not probabilities; no activation that bounds or rectifies the last layer."""
    out, _ = forward(model, x, shape)
    rows_one = bool(np.all(out >= -1e-6) and np.allclose(out.sum(axis=1), 1.0, atol=1e-3))
    if rows_one:
        lines = [line(CHECK, "logits", "failed", "rows sum to 1: softmax inside forward, and F.cross_entropy applies "
                      "softmax again, so the loss cannot fall below ln(1 + 9/e) and learning slows"
                      + softmax_cost(ctx) + "; return logits", "double_softmax", name)]
        return lines + [line(CHECK, "last_activation", "passed", "see logits (a softmax)", "double_softmax", name)]
    lines = [line(CHECK, "logits", "passed", f"outputs are logits (range {out.min():.2f} to {out.max():.2f})",
                  "double_softmax", name)]
    big = np.concatenate([forward(model, x * s, shape)[0] for s in (1000.0, -1000.0)])
    if np.all(out >= 0) and np.all(big >= 0):
        return lines + [line(CHECK, "last_activation", "failed", "outputs are all >= 0: an activation (ReLU, sigmoid) "
                             "on the last layer; the last Linear should return raw logits", "double_softmax", name)]
    if np.all(np.abs(big) <= 1 + 1e-6):
        return lines + [line(CHECK, "last_activation", "failed", "outputs stay within [-1, 1] even for inputs scaled "
                             "1000 times: a bounding activation (tanh) on the last layer; return raw logits",
                             "double_softmax", name)]
    return lines + [line(CHECK, "last_activation", "passed", "no activation on the last layer", "double_softmax",
                         name)]


def dropout_cost(ctx: dict) -> str:
    ref = ctx.get("dropout") or {}
    if not ref:
        return ""
    accs = ", ".join(f"{acc:.2%} at p = {p}" for p, acc in sorted(ref.items(), key=lambda kv: float(kv[0])))
    return f"; the reference MLP's test accuracy: {accs}"


def check_dropout(name: str, model, x: np.ndarray, shape, ctx: dict) -> list:
    model.train()
    t1, t2 = forward(model, x, shape)[0], forward(model, x, shape)[0]
    model.eval()
    still = [type(layer).__name__ for layer in model.sublayers(include_self=True) if layer.training]
    e1, e2 = forward(model, x, shape)[0], forward(model, x, shape)[0]
    gap = float(np.max(np.abs(e1 - e2)))
    lines = []
    if still or gap > 1e-6:
        why = (f"{', '.join(still[:3])} still in training mode after model.eval()" if still else
               "outputs stay random after model.eval()")
        lines.append(line(CHECK, "dropout_eval", "failed", f"{why}: dropout is active at evaluation; use nn.Dropout "
                          "layers (or F.dropout(x, p, training=self.training))", "dropout", name))
        lines.append(line(CHECK, "deterministic", "failed", f"two eval-mode calls on the same images differ by up to "
                          f"{gap:.3g}: scores and predictions are not reproducible", "dropout", name))
    else:
        random_train = not np.array_equal(t1, t2)
        lines.append(line(CHECK, "dropout_eval", "passed", "dropout off after model.eval()" if random_train
                          else "no dropout (train-mode outputs are deterministic too)", "dropout", name))
        lines.append(line(CHECK, "deterministic", "passed", "the same output twice in eval mode", "dropout", name))
    rates = dropout_rates(model)
    if rates and max(rates) > 0.5:
        lines.append(line(CHECK, "dropout_rate", "warned", f"dropout p = {max(rates):g} drops more units than it "
                          f"keeps{dropout_cost(ctx)}", "dropout", name))
    else:
        lines.append(line(CHECK, "dropout_rate", "passed", f"dropout p = {', '.join(f'{r:g}' for r in rates)}"
                          if rates else "no nn.Dropout layer", "dropout", name))
    return lines


def run(ns: dict, pieces: dict, ctx: dict, net: str) -> dict:
    import paddle

    entry = next(e for e in pieces["nets"] if e["name"] == net)
    if entry["error"]:
        return {"lines": [line(CHECK, "build", "failed", f"{net}() could not be built: {entry['error']}", "nets",
                               net)]}
    paddle.seed(ctx.get("seed", 0))
    model = build_net(ns[net])
    x = np.asarray(read_arrays(ctx.get("data_path"))["valid"][0][:100], dtype=np.float32)
    lines = check_params(net, entry["parameters"])
    try:
        model.eval()
        _, shape = forward(model, x)
    except RuntimeError as exc:
        return {"lines": lines + [line(CHECK, "forward", "failed", str(exc), "nets", net)]}
    for step in (lambda: check_outputs(net, model, x, shape, ctx), lambda: check_dropout(net, model, x, shape, ctx)):
        try:
            lines += step()
        except Exception as exc:  # the student's code
            lines.append(line(CHECK, "forward", "failed", error_text(exc), "nets", net))
    return {"lines": lines, "shape": shape}
