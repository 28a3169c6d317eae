"""Numpy optimizers that reproduce ``paddle.optimizer`` update rules exactly.

Every optimizer is built as ``opt = NAME(lr=..., **hyperparameters)`` and used as
``opt.step(params, grads)``: both are dicts keyed alike (e.g. ``NumpyMLP.params``
and the grads of ``NumpyMLP.loss_and_grads``) and ``params`` is updated in
place. State (velocities, accumulators, step count) is kept per key, and
``opt.reset()`` clears it. Hyperparameter names and defaults are Paddle's, so the
same keyword arguments can be given to the matching ``paddle.optimizer`` class.

Where Paddle's rule differs from the usual textbook form the class docstring
says so; the Paddle form is the one implemented. Paddle's kernels also take some
hyperparameters as C++ ``float`` attributes, i.e. rounded to float32 even for
float64 parameters (``Momentum.momentum``, ``Adagrad.epsilon``, ``RMSProp.rho``,
``epsilon`` and ``momentum``; the learning rate and Adam's betas and epsilon stay
float64). The classes here round the same ones (see ``FLOAT32_HPARAMS``), so a
float64 run matches Paddle to rounding error (~1e-15) instead of ~1e-7.
Paddle is not imported here.

    python -c "import numpy as np; from paddle_mnist.scratch.optim import Adam; p = {'w': np.ones(2)}; Adam(lr=0.1).step(p, {'w': np.ones(2)}); print(p)"
"""
from __future__ import annotations

import numpy as np


def _f32(value: float) -> float:
    """``value`` rounded to float32, as Paddle passes it to its C++ kernel."""
    return float(np.float32(value))


class Optimizer:
    """Base class: holds ``lr`` and the per-parameter state; subclasses define ``_apply``.

    ``_apply`` updates a parameter in place through two scratch arrays per parameter
    (``_tmp``), so a step allocates nothing; each rule keeps the order of its
    floating-point operations, so the numbers are those of the plain expressions.
    """

    # hyperparameters that Paddle's kernel receives as float32 attributes
    FLOAT32_HPARAMS: tuple = ()

    def __init__(self, lr: float):
        if lr < 0:
            raise ValueError(f"learning rate must be >= 0, got {lr}")
        self.lr = float(lr)
        self.state: dict = {}
        self.t = 0  # number of completed steps
        self._scratch: dict = {}

    def reset(self) -> None:
        self.state = {}
        self.t = 0
        self._scratch = {}

    def _slot(self, key: str, name: str, like: np.ndarray, fill: float = 0.0) -> np.ndarray:
        """The state array ``name`` of parameter ``key``, created filled with ``fill``."""
        slots = self.state.setdefault(key, {})
        if name not in slots:
            slots[name] = np.full_like(like, fill)
        return slots[name]

    def _tmp(self, key: str, like: np.ndarray, i: int = 0) -> np.ndarray:
        """Scratch array ``i`` (0 or 1) of parameter ``key``: reused every step, contents undefined."""
        bufs = self._scratch.get(key)
        if bufs is None or bufs[0].shape != like.shape or bufs[0].dtype != like.dtype:
            bufs = self._scratch[key] = (np.empty_like(like), np.empty_like(like))
        return bufs[i]

    def step(self, params: dict, grads: dict) -> None:
        """Update every ``params[k]`` that has a gradient ``grads[k]``, in place."""
        self.t += 1
        for key, grad in grads.items():
            if grad is None:
                continue
            param = params[key]
            if not isinstance(param, np.ndarray):
                raise TypeError(f"{key}: parameters must be numpy arrays (updated in place)")
            g = np.asarray(grad, dtype=param.dtype)
            if g.shape != param.shape:
                raise ValueError(f"{key}: grad shape {g.shape} != param shape {param.shape}")
            self._apply(key, param, g)

    def _apply(self, key: str, param: np.ndarray, g: np.ndarray) -> None:
        """Update ``param`` in place with gradient ``g``."""
        raise NotImplementedError

    def __repr__(self) -> str:
        hp = ", ".join(f"{k}={v}" for k, v in vars(self).items() if k not in ("state", "t", "_scratch"))
        return f"{type(self).__name__}({hp})"


class SGD(Optimizer):
    """Plain gradient descent ``p -= lr * g`` (``paddle.optimizer.SGD``; no difference)."""

    def _apply(self, key, param, g):
        param -= np.multiply(g, self.lr, out=self._tmp(key, param))  # lr * g


class Momentum(Optimizer):
    """Heavy-ball momentum in Paddle's convention (``paddle.optimizer.Momentum``).

    Paddle: ``v = mu * v + g;  p -= lr * v`` (velocity starts at 0, ``mu`` default 0.9).

    Textbook forms: ``v = mu * v + lr * g; p -= v`` (source 003, formula 1) or
    ``v = mu * v - lr * g; p += v`` (Goodfellow et al.). Paddle keeps the learning
    rate out of the velocity; with a constant learning rate all three give the
    same path (Paddle's ``v`` is the textbook velocity divided by ``lr``), but
    when ``lr`` changes Paddle rescales the whole accumulated velocity at once.
    """

    FLOAT32_HPARAMS = ("momentum",)

    def __init__(self, lr: float, momentum: float = 0.9):
        super().__init__(lr)
        self.momentum = _f32(momentum)

    def _velocity(self, key, param, g):
        v = self._slot(key, "velocity", param)
        v *= self.momentum
        v += g
        return v

    def _apply(self, key, param, g):
        param -= np.multiply(self._velocity(key, param, g), self.lr, out=self._tmp(key, param))  # lr * v


class Nesterov(Momentum):
    """Nesterov momentum as ``paddle.optimizer.Momentum(use_nesterov=True)``.

    Paddle: ``v = mu * v + g;  p -= lr * (g + mu * v)`` with the *new* ``v``.

    Textbook (Sutskever): ``v = mu * v - lr * grad(p + mu * v); p += v``, which
    needs the gradient at a look-ahead point. Paddle uses the usual
    reformulation with the gradient at the current point; for a constant
    learning rate it equals the cs231n / source-004 form
    ``v_prev = v; v = mu * v - lr * g; p += -mu * v_prev + (1 + mu) * v``.
    """

    def _apply(self, key, param, g):
        v = self._velocity(key, param, g)
        step = np.multiply(v, self.momentum, out=self._tmp(key, param))
        step += g
        step *= self.lr  # lr * (g + mu * v)
        param -= step


class AdaGrad(Optimizer):
    """AdaGrad as ``paddle.optimizer.Adagrad``.

    Paddle: ``G += g * g;  p -= lr * g / (sqrt(G) + epsilon)`` with ``G`` starting
    at ``initial_accumulator_value`` (default 0.0) and ``epsilon`` default 1e-6,
    added *outside* the square root.

    Textbook variants put epsilon inside the root (``sqrt(G + eps)``, e.g. the
    "Dive into Deep Learning" form), use 1e-7/1e-8, or start ``G`` at 0.1
    (TensorFlow's default ``initial_accumulator_value``). With ``G`` starting at
    0 the first step moves every coordinate by about ``lr`` (``g / |g|``).
    """

    FLOAT32_HPARAMS = ("epsilon",)

    def __init__(self, lr: float, epsilon: float = 1e-6, initial_accumulator_value: float = 0.0):
        super().__init__(lr)
        self.epsilon = _f32(epsilon)
        self.initial_accumulator_value = float(initial_accumulator_value)

    def _apply(self, key, param, g):
        acc = self._slot(key, "moment", param, self.initial_accumulator_value)
        step, den = self._tmp(key, param), self._tmp(key, param, 1)
        acc += np.multiply(g, g, out=step)
        np.sqrt(acc, out=den)
        den += self.epsilon
        np.multiply(g, self.lr, out=step)
        step /= den  # lr * g / (sqrt(G) + epsilon)
        param -= step


class RMSProp(Optimizer):
    """RMSProp as ``paddle.optimizer.RMSProp`` (plain, with momentum, or centered).

    Paddle::

        ms  = rho * ms + (1 - rho) * g * g              # starts at 0
        mg  = rho * mg + (1 - rho) * g                  # centered only, starts at 0
        den = sqrt(ms + epsilon)  or  sqrt(ms - mg * mg + epsilon)   (centered)
        mom = momentum * mom + lr * g / den             # starts at 0
        p  -= mom

    Differences from the textbook ``p -= lr * g / (sqrt(s) + eps)``: Paddle puts
    epsilon *inside* the square root, and its defaults are ``rho=0.95``,
    ``epsilon=1e-6`` (Hinton's slides / Keras use ``rho=0.9``, PyTorch
    ``alpha=0.99`` with ``eps=1e-8`` outside the root). There is no bias
    correction, so the first step is ``lr * g / sqrt((1 - rho) g^2)``, about
    ``4.5 * lr`` per coordinate for ``rho=0.95``. Paddle's momentum term
    accumulates ``lr`` times the scaled gradient (unlike its ``Momentum``).
    """

    FLOAT32_HPARAMS = ("rho", "epsilon", "momentum")

    def __init__(
        self,
        lr: float,
        rho: float = 0.95,
        epsilon: float = 1e-6,
        momentum: float = 0.0,
        centered: bool = False,
    ):
        super().__init__(lr)
        self.rho = _f32(rho)
        self.epsilon = _f32(epsilon)
        self.momentum = _f32(momentum)
        self.centered = bool(centered)

    def _apply(self, key, param, g):
        ms = self._slot(key, "mean_square", param)
        a, den = self._tmp(key, param), self._tmp(key, param, 1)
        ms *= self.rho
        np.multiply(g, 1 - self.rho, out=a)
        a *= g
        ms += a  # (1 - rho) * g * g
        if self.centered:
            mg = self._slot(key, "mean_grad", param)
            mg *= self.rho
            mg += np.multiply(g, 1 - self.rho, out=a)
            np.multiply(mg, mg, out=den)
            np.subtract(ms, den, out=den)
            den += self.epsilon  # ms - mg * mg + epsilon
        else:
            np.add(ms, self.epsilon, out=den)
        np.sqrt(den, out=den)
        mom = self._slot(key, "momentum", param)
        mom *= self.momentum
        np.multiply(g, self.lr, out=a)
        a /= den
        mom += a  # lr * g / den
        param -= mom


class Adam(Optimizer):
    """Adam with bias correction, as ``paddle.optimizer.Adam``.

    Paddle (``t`` counts steps from 1)::

        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        lr_t = lr * sqrt(1 - beta2**t) / (1 - beta1**t)
        p -= lr_t * m / (sqrt(v) + epsilon * sqrt(1 - beta2**t))

    which is algebraically the textbook (Kingma & Ba, Algorithm 1) update
    ``p -= lr * m_hat / (sqrt(v_hat) + epsilon)``: the bias correction is folded
    into the step size and epsilon is scaled by ``sqrt(1 - beta2**t)`` to
    compensate. Paddle's docstring formula shows an *unscaled* epsilon (the
    "epsilon-hat" variant of the paper's section 2 / TensorFlow); that is not
    what the kernel computes, as the tests check with a large epsilon.
    Defaults ``beta1=0.9, beta2=0.999, epsilon=1e-8``.
    """

    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, epsilon: float = 1e-8):
        super().__init__(lr)
        self.beta1 = float(beta1)
        self.beta2 = float(beta2)
        self.epsilon = float(epsilon)

    def _apply(self, key, param, g):
        m = self._slot(key, "moment1", param)
        v = self._slot(key, "moment2", param)
        a, den = self._tmp(key, param), self._tmp(key, param, 1)
        m *= self.beta1
        m += np.multiply(g, 1 - self.beta1, out=a)
        v *= self.beta2
        np.multiply(g, 1 - self.beta2, out=a)
        a *= g
        v += a  # (1 - beta2) * g * g
        slots = self.state[key]
        slots["t"] = t = slots.get("t", 0) + 1  # per parameter, like Paddle's beta pow accumulators
        np.divide(m, 1 - self.beta1**t, out=a)  # m_hat
        np.divide(v, 1 - self.beta2**t, out=den)  # v_hat
        np.sqrt(den, out=den)
        den += self.epsilon
        a *= self.lr
        a /= den  # lr * m_hat / (sqrt(v_hat) + epsilon)
        param -= a


class AdaDelta(Optimizer):
    """AdaDelta as ``paddle.optimizer.Adadelta`` (defaults ``rho=0.95``, ``epsilon=1e-6``).

    Paddle::

        Eg  = rho * Eg + (1 - rho) * g * g                       # starts at 0
        upd = sqrt((Edx + epsilon) / (Eg + epsilon)) * g
        Edx = rho * Edx + (1 - rho) * upd * upd                  # starts at 0
        p  -= lr * upd

    The textbook rule (Zeiler 2012; source 003) has no learning rate: ``p -= upd``,
    i.e. Paddle's rule at ``lr=1``. In Paddle the rate multiplies the update, so
    ``lr=0`` leaves the parameters where they are (``textbook=True`` ignores ``lr``).
    """

    FLOAT32_HPARAMS = ("rho", "epsilon")

    def __init__(self, lr: float = 0.001, rho: float = 0.95, epsilon: float = 1e-6, textbook: bool = False):
        super().__init__(lr)
        self.rho = _f32(rho)
        self.epsilon = _f32(epsilon)
        self.textbook = bool(textbook)

    def _apply(self, key, param, g):
        eg = self._slot(key, "avg_squared_grad", param)
        edx = self._slot(key, "avg_squared_update", param)
        a, upd = self._tmp(key, param), self._tmp(key, param, 1)
        eg *= self.rho
        np.multiply(g, 1 - self.rho, out=a)
        a *= g
        eg += a  # (1 - rho) * g * g
        np.add(edx, self.epsilon, out=upd)
        upd /= np.add(eg, self.epsilon, out=a)
        np.sqrt(upd, out=upd)
        upd *= g  # sqrt((Edx + epsilon) / (Eg + epsilon)) * g
        edx *= self.rho
        np.multiply(upd, 1 - self.rho, out=a)
        a *= upd
        edx += a  # (1 - rho) * upd * upd
        if not self.textbook:
            upd *= self.lr
        param -= upd


NUMPY_OPTIMIZERS = {
    "sgd": SGD,
    "momentum": Momentum,
    "nesterov": Nesterov,
    "adagrad": AdaGrad,
    "rmsprop": RMSProp,
    "adam": Adam,
    "adadelta": AdaDelta,
}


def build_optimizer(name: str, lr: float, **kwargs) -> Optimizer:
    """``NUMPY_OPTIMIZERS[name](lr=lr, **kwargs)``; an unknown name is a ``ValueError``."""
    if name not in NUMPY_OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose from {sorted(NUMPY_OPTIMIZERS)}")
    return NUMPY_OPTIMIZERS[name](lr=lr, **kwargs)
