"""Check 3, training (child side): run the student's ``train`` (or the course's loop) for a fixed number of steps.

Runs in the child process of ``check``. Probes watch the run from outside: ``Tensor.backward``
records every loss (and stops at a NaN), ``Optimizer.step`` counts steps (and stops at
``--steps``) and reads the learning rate, ``F.cross_entropy`` / ``F.square_error_cost`` record the
loss used and the labels' dtype. The student's ``load_data`` is swapped for the reference loader
(seeded), so that only the training is judged here. ``check_band`` compares the curve with the
reference runs.

    python -m paddle_mnist check my_solution.py --steps 500
"""
from __future__ import annotations

import inspect
import math
import random

import numpy as np

from paddle_mnist.engine.batches import load_data as reference_load_data
from paddle_mnist.apps.check_nets import dropout_rates, forward
from paddle_mnist.apps.check_source import MODEL_NAMES, build_net, error_text, line, takes_model
from paddle_mnist.datafile.store import read_arrays
# deferred: paddle (loaded on first use, so importing this module stays light)

CHECK = "train"
OPT_NAMES = ("opt", "optimizer", "optim")
LOADER_NAMES = ("loader", "train_loader", "train_reader", "reader", "data", "train_data", "data_loader", "batches",
                "train_batches", "generator", "train_generator")
EPOCH_NAMES = ("epoch", "epochs", "num_epochs", "n_epochs", "epoch_num", "max_epochs")
DEFAULTS = {"softmax": ("SGD", 0.1), "mlp": ("Adam", 0.001)}  # the reference's optimizer per net
ADAPTIVE = ("adam", "adamw", "adamax", "rmsprop", "adagrad", "lamb")
SANE_LR = {"adaptive": (1e-5, 0.03), "adadelta": (1e-4, 10.0), "plain": (1e-4, 1.0)}


_INHERITED = object()  # a patched attribute that the class only inherited: deleted again on exit


class StopTraining(BaseException):
    """Raised inside the student's loop by a probe; a BaseException so that ``except Exception`` lets it pass."""


class Probes:
    """Patches that watch a training run; a context manager that restores everything on exit."""

    def __init__(self, max_steps: int, classes=()):
        self.max_steps, self.classes = max_steps, list(classes)
        self.losses, self.steps, self.opt, self.nan_step, self.depth = [], 0, None, None, 0
        self.calls, self.created, self.batch_size, self._undo, self.optimizers = [], [], None, [], []

    def _patch(self, owner, name, make):
        own = owner.__dict__.get(name, _INHERITED) if isinstance(owner, type) else getattr(owner, name)
        setattr(owner, name, make(getattr(owner, name) if own is _INHERITED else own))
        self._undo.append((owner, name, own))

    def __enter__(self):
        import paddle
        import paddle.nn.functional as F

        self._patch(paddle.Tensor, "backward", self._backward)
        for cls in (paddle.optimizer.Optimizer, paddle.optimizer.Adam, paddle.optimizer.AdamW):
            self._patch(cls, "step", self._step)
        self._patch(paddle.optimizer.Optimizer, "__init__", lambda f: self._init(f, self.optimizers))
        self._patch(F, "cross_entropy", lambda f: self._loss("cross_entropy", f))
        self._patch(F, "square_error_cost", lambda f: self._loss("square_error_cost", f))
        for cls in self.classes:
            self._patch(cls, "__init__", self._init)
        return self

    def __exit__(self, *exc):
        for owner, name, original in reversed(self._undo):
            if original is _INHERITED:
                delattr(owner, name)
            else:
                setattr(owner, name, original)
        self._undo = []

    def _backward(self, original):
        def backward(tensor, *args, **kwargs):
            value = float(np.mean(tensor.numpy()))
            if not math.isfinite(value):
                self.nan_step = self.steps + 1
                raise StopTraining("nan")
            self.losses.append(value)
            return original(tensor, *args, **kwargs)
        return backward

    def _step(self, original):
        def step(opt, *args, **kwargs):
            self.depth += 1
            try:
                out = original(opt, *args, **kwargs)
            finally:
                self.depth -= 1
            if self.depth == 0:
                self.opt, self.steps = self.opt or opt, self.steps + 1
                if self.steps >= self.max_steps:
                    raise StopTraining("steps")
            return out
        return step

    def _loss(self, kind, original):
        def loss(input, label, *args, **kwargs):
            self.calls.append({"kind": kind, "input": (str(input.dtype), list(input.shape)),
                               "label": (str(label.dtype), list(label.shape))})
            return original(input, label, *args, **kwargs)
        return loss

    def _init(self, original, into=None):
        def init(obj, *args, **kwargs):
            original(obj, *args, **kwargs)
            (self.created if into is None else into).append(obj)
        return init


class Batches:
    """The reference loader's pass: callable like the course's generator function, iterable like a DataLoader."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self):
        return self.fn()

    def __iter__(self):
        return iter(self.fn())


def reference_loader(probes: Probes, seed: int, data_path=None, shape=(-1, 784)):
    """``load_data`` for the student's ``train``: the reference's, seeded, its images in the shape the net takes;
    records the batch size of ``train``."""
    def loader(mode="train", batch_size=100, *args, **kwargs):
        if mode == "train":
            probes.batch_size = int(batch_size)
        fn = reference_load_data(mode, int(batch_size), path=data_path, seed=seed)
        if list(shape) == [-1, 784]:
            return Batches(fn)
        return Batches(lambda: ((x.reshape(shape), y) for x, y in fn()))
    return loader


def default_optimizer(model, role):
    import paddle

    name, lr = DEFAULTS.get(role, DEFAULTS["mlp"])
    return getattr(paddle.optimizer, name)(learning_rate=lr, parameters=model.parameters())


def train_arguments(fn, model, role, loader, steps: int):
    """Keyword arguments for the student's ``train`` by parameter name; the names it needs that we cannot fill."""
    kwargs, unknown = {}, []
    for name, p in inspect.signature(fn).parameters.items():
        low, required = name.lower(), p.default is inspect.Parameter.empty
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD, p.POSITIONAL_ONLY):
            continue
        if low in MODEL_NAMES and model is not None:
            kwargs[name] = model
        elif low in OPT_NAMES and required and model is not None:
            kwargs[name] = default_optimizer(model, role)
        elif low in LOADER_NAMES:
            kwargs[name] = loader("train", 100)
        elif low in EPOCH_NAMES:
            kwargs[name] = max(p.default if isinstance(p.default, int) and not required else 0, 1 + steps // 100)
        elif low in ("lr", "learning_rate") and required:
            kwargs[name] = DEFAULTS.get(role, DEFAULTS["mlp"])[1]
        elif low == "batch_size" and required:
            kwargs[name] = 100
        elif required:
            unknown.append(name)
    return kwargs, unknown


def course_loop(model, role, loader, shape):
    """The course's loop with the reference's optimizer: cross entropy on logits until the probes stop it."""
    import paddle
    import paddle.nn.functional as F

    opt = default_optimizer(model, role)
    batches = loader("train", 100)
    model.train()
    while True:
        for x, y in batches():
            loss = F.cross_entropy(model(paddle.to_tensor(x).reshape(shape)), paddle.to_tensor(y))
            loss.backward()
            opt.step()
            opt.clear_grad()


def valid_accuracy(model, shape, arrays) -> float:
    x, y = arrays["valid"]
    model.eval()
    preds = []
    for start in range(0, len(y), 2000):
        out = forward(model, np.asarray(x[start:start + 2000], dtype=np.float32), shape)[0]
        preds.append(np.argmax(out, axis=1) if out.shape[1] > 1 else np.clip(np.round(out[:, 0]), 0, 9))
    return float((np.concatenate(preds) == np.asarray(y)).mean())


def optimizer_info(opt, fn) -> dict:
    """Family, learning rate and schedule of the optimizer the run used (else ``train``'s lr default)."""
    if opt is None:
        params = inspect.signature(fn).parameters if fn else {}
        lr = next((p.default for n, p in params.items() if n.lower() in ("lr", "learning_rate")
                   and isinstance(p.default, (int, float))), None)
        return {"optimizer": None, "lr": lr, "schedule": None}
    import paddle

    sched = opt._learning_rate  # Paddle keeps the float or the LRScheduler here
    is_sched = isinstance(sched, paddle.optimizer.lr.LRScheduler)
    return {"optimizer": type(opt).__name__.lower(), "lr": float(opt.get_lr()),
            "schedule": type(sched).__name__ if is_sched else "constant"}


def lr_line(info: dict, subject: str) -> dict:
    name, lr = info["optimizer"], info["lr"]
    if lr is None:
        return line(CHECK, "lr", "warned", "no learning rate could be read (no optimizer step ran)", "lr", subject)
    kind = "adaptive" if name in ADAPTIVE else "adadelta" if name == "adadelta" else "plain"
    lo, hi = SANE_LR[kind]
    what = f"{name or 'train() default'} lr {lr:g}"
    if lo <= lr <= hi:
        return line(CHECK, "lr", "passed", f"{what} in the sane range [{lo:g}, {hi:g}]", "lr", subject)
    status = "failed" if lr > 10 * hi or lr < lo / 10 else "warned"
    return line(CHECK, "lr", status, f"{what} outside the sane range [{lo:g}, {hi:g}] for "
                f"{'adaptive optimizers' if kind == 'adaptive' else 'this optimizer'}: "
                f"{'too large: the loss can blow up' if lr > hi else 'too small: training barely moves'}", "lr",
                subject)


def labels_line(calls: list, subject: str) -> dict:
    for c in calls:
        (in_dtype, in_shape), (lab_dtype, lab_shape) = c["input"], c["label"]
        if c["kind"] == "square_error_cost" and ("int" in lab_dtype or lab_dtype != in_dtype):
            return line(CHECK, "labels", "failed", f"square_error_cost got labels of {lab_dtype} with outputs of "
                        f"{in_dtype}: cast them (labels.astype('float32'), one-hot for 10 outputs), or use "
                        "F.cross_entropy on logits", "labels", subject)
        if c["kind"] == "cross_entropy" and "int" not in lab_dtype and lab_shape != in_shape:
            return line(CHECK, "labels", "failed", f"F.cross_entropy got {lab_dtype} labels: it wants int64 class "
                        "indices", "labels", subject)
    kinds = sorted({c["kind"] for c in calls}) or ["a loss of its own"]
    return line(CHECK, "labels", "passed", f"labels reach {', '.join(kinds)} with a fitting dtype", "labels", subject)


def loss_kind(calls: list) -> str:
    if not calls:
        return "other"
    c = calls[0]
    if c["kind"] == "cross_entropy":
        return "cross_entropy"
    return "square_error_onehot" if c["input"][1] == c["label"][1] else "square_error_regression"


def trained_model(probes: Probes, model):
    """The model that was trained: ours, else the student's instance whose parameters the optimizer updated."""
    if model is not None or probes.opt is None:
        return model
    ids = {id(p) for p in probes.opt._parameter_list if not isinstance(p, dict)}  # Paddle's list of parameters
    return next((m for m in reversed(probes.created) if any(id(p) in ids for p in m.parameters())), None)


def _seed(seed: int) -> None:
    import paddle

    paddle.seed(seed)
    np.random.seed(seed)
    random.seed(seed)


def _train(ns, pieces, ctx, fn, model, role, probes):
    """Run the student's ``train`` (or the course's loop) under the probes; the error text or None."""
    loader_name = pieces.get("loader") or ctx.get("loader") or "load_data"
    loader = reference_loader(probes, ctx.get("seed", 0), ctx.get("data_path"), ctx["shape"])
    saved, ns[loader_name] = ns.get(loader_name), loader
    try:
        with probes:
            _seed(ctx.get("seed", 0))
            if fn is None:
                course_loop(model, role, loader, ctx["shape"])
            else:
                kwargs, unknown = train_arguments(fn, model, role, loader, ctx["steps"])
                if unknown:
                    return f"train() needs {', '.join(unknown)}, which check cannot fill: give them defaults"
                before = -1
                while probes.steps < ctx["steps"] and probes.steps > before:  # a train() of one pass: call again
                    before = probes.steps
                    fn(**kwargs)
                    if model is None:
                        break
    except StopTraining:
        return None
    except Exception as exc:  # the student's code
        return f"train() raised {error_text(exc)}"
    finally:
        ns[loader_name] = saved
    return None


def run_line(error, probes: Probes, subject: str) -> dict:
    if probes.nan_step is not None:
        last = f" (last finite loss {probes.losses[-1]:.3g})" if probes.losses else ""
        return line(CHECK, "run", "failed", f"the loss became NaN/inf at step {probes.nan_step}{last}: lower the "
                    "learning rate; a loss that blows up learns nothing", "nan", subject)
    if error:
        return line(CHECK, "run", "failed", error, "train", subject)
    if probes.steps == 0:
        return line(CHECK, "run", "failed", "train() returned without a single optimizer step", "train", subject)
    if not probes.losses:
        return line(CHECK, "run", "passed", f"{probes.steps} steps without an error; the loss was not seen (no "
                    "Tensor.backward call), so there is no curve to compare", "train", subject)
    return line(CHECK, "run", "passed", f"{probes.steps} steps without an error; loss {probes.losses[0]:.3f} -> "
                f"{probes.losses[-1]:.3f}", "train", subject)


def run(ns: dict, pieces: dict, ctx: dict, net: str | None) -> dict:
    """Train for ``ctx['steps']`` steps; lines for the run, the learning rate and the labels, and the curve."""
    fn = ns[pieces["train"]] if pieces.get("train") else None
    entries = {e["name"]: e for e in pieces["nets"] if not e["error"]}
    _seed(ctx.get("seed", 0))
    model = build_net(ns[net]) if net and (fn is None or takes_model(fn)) else None
    arrays = read_arrays(ctx.get("data_path"))
    x = np.asarray(arrays["valid"][0][:100], dtype=np.float32)
    ctx = dict(ctx, shape=forward(model, x)[1] if model is not None else [-1, 784])
    probes = Probes(ctx["steps"], [ns[n] for n in entries])
    error = _train(ns, pieces, ctx, fn, model, entries.get(net, {}).get("role"), probes)
    model = trained_model(probes, model)
    subject = type(model).__name__ if model is not None else (net or "train()")
    opt = probes.opt or (probes.optimizers[-1] if probes.optimizers else None)
    lines = [run_line(error, probes, subject), lr_line(optimizer_info(opt, fn), subject),
             labels_line(probes.calls, subject)]
    losses = probes.losses[:probes.steps]
    if model is None or not losses or error or probes.nan_step:
        return {"lines": lines}
    out, shape = forward(_eval(model), x)
    rows_one = bool(np.all(out >= -1e-6) and np.allclose(out.sum(1), 1, atol=1e-3))
    big = forward(model, x * 1000, shape)[0]
    config = dict(optimizer_info(probes.opt, fn), role=entries.get(subject, {}).get("role"),
                  batch_size=probes.batch_size or 100, loss=loss_kind(probes.calls), double_softmax=rows_one,
                  last_activation=not rows_one and bool(np.all(out >= 0) or np.all(np.abs(big) <= 1 + 1e-6)),
                  dropout=max(dropout_rates(model), default=0.0), dropout_layers=len(dropout_rates(model)))
    return {"lines": lines, "run": {"net": subject, "losses": losses, "steps": len(losses),
                                    "requested": ctx["steps"], "config": config,
                                    "valid_acc": valid_accuracy(model, shape, arrays)}}


def _eval(model):
    model.eval()
    return model
