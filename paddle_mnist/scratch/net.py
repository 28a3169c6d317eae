"""A from-scratch numpy fully connected net that mirrors ``paddle_mnist.engine.nets.MLP``.

``NumpyMLP`` holds its parameters in a dict keyed exactly like the Paddle
``MLP.state_dict()`` (``'fc1.weight'`` of shape ``[in, out]``, ``'fc1.bias'`` of
shape ``[out]``, ...), so weights copy either way with ``state_dict()`` /
``set_state_dict()``. Forward and backward passes are written out by hand:

* ``output='softmax_ce'``: ``forward`` returns logits; the loss is the batch mean
  of softmax cross entropy (what ``paddle.nn.functional.cross_entropy`` computes
  on logits), evaluated with a stable log-softmax.
* ``output='mse'``: the loss is ``mean((out - target) ** 2)``, the same as
  ``paddle.nn.functional.square_error_cost`` followed by ``paddle.mean``. With a
  single output unit the target is the digit value as a float (the coursework's
  regressor); with several output units it is the one-hot label.

Nothing happens at import time; paddle is never imported here (paddle tensors
are accepted wherever weights are given, through their ``.numpy()`` method).

    python -c "import numpy as np; from paddle_mnist.scratch.net import NumpyMLP; print(NumpyMLP(seed=0).loss(np.random.rand(8, 784), np.arange(8)))"
"""
from __future__ import annotations

import numpy as np

OUTPUTS = ("softmax_ce", "mse")


# ----------------------------------------------------------------- activations
# Each derivative multiplies the incoming gradient ``dh`` in place by f'(z) (given the pre-activation z and the
# activation a), with the same floating-point operations as ``dh * f'(z)`` written out.
def _relu(z):
    return np.maximum(z, 0)


def _relu_grad(dh, z, a):
    return np.multiply(dh, z > 0, out=dh)  # dh * (z > 0) as 1.0 / 0.0


def _sigmoid(z):
    # exp of a non-positive number only, so no overflow warnings either way.
    e = np.exp(-np.abs(z))
    d = 1.0 + e
    return np.where(z >= 0, 1.0 / d, e / d).astype(z.dtype, copy=False)


def _sigmoid_grad(dh, z, a):
    d = np.subtract(1, a)
    d *= a  # a * (1 - a)
    dh *= d
    return dh


def _tanh(z):
    return np.tanh(z)


def _tanh_grad(dh, z, a):
    d = np.multiply(a, a)
    np.subtract(1, d, out=d)  # 1 - a * a
    dh *= d
    return dh


# name -> (function, in-place gradient multiplier given dh, pre-activation z and activation a)
ACTIVATIONS = {
    "relu": (_relu, _relu_grad),
    "sigmoid": (_sigmoid, _sigmoid_grad),
    "tanh": (_tanh, _tanh_grad),
}


# ------------------------------------------------------------ softmax helpers
def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise log-softmax, shifted by the row maximum so that exp never overflows."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax (stable: computed as ``exp(log_softmax)``)."""
    return np.exp(log_softmax(logits))


def _to_numpy(value) -> np.ndarray:
    """A numpy copy of a numpy array, a paddle tensor (anything with ``.numpy()``) or a list."""
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        value = value.numpy()
    return np.array(value)


def _as_array(value) -> np.ndarray:
    """``value`` itself when it is a numpy array (no copy), else ``_to_numpy(value)``."""
    return value if isinstance(value, np.ndarray) else _to_numpy(value)


def _labels(y) -> np.ndarray:
    """Integer class labels of shape [N] from [N], [N, 1], a list or a paddle tensor."""
    return _as_array(y).reshape(-1).astype(np.int64, copy=False)


def xavier_uniform(n_in: int, n_out: int, rng: np.random.Generator, dtype) -> np.ndarray:
    """``U(-a, a)`` with ``a = sqrt(6 / (n_in + n_out))``: Paddle's ``Linear`` default."""
    limit = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-limit, limit, size=(n_in, n_out)).astype(dtype)


# ---------------------------------------------------------------------- model
class NumpyMLP:
    """Fully connected net ``sizes[0]-...-sizes[-1]`` with hand-written backprop.

    ``sizes`` lists every layer width, input first, so any number of hidden
    layers is allowed (``(784, 10)`` is plain softmax regression). Layers are
    ``fc1..fcK`` with ``K = len(sizes) - 1``; the activation follows every layer
    but the last. Weights start Xavier-uniform (Paddle's ``Linear`` default),
    biases at zero; ``seed`` makes the initialisation reproducible.

    Typical use::

        loss, grads = net.loss_and_grads(x, y)   # grads keyed like net.params
        opt.step(net.params, grads)              # a paddle_mnist.scratch.optim optimizer
    """

    def __init__(
        self,
        sizes=(784, 200, 200, 10),
        activation: str = "relu",
        output: str = "softmax_ce",
        dtype=np.float64,
        seed: int | None = None,
    ):
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose from {sorted(ACTIVATIONS)}")
        if output not in OUTPUTS:
            raise ValueError(f"unknown output {output!r}; choose from {list(OUTPUTS)}")
        self.sizes = tuple(int(s) for s in sizes)
        if len(self.sizes) < 2 or min(self.sizes) < 1:
            raise ValueError(f"sizes needs at least an input and an output width, got {sizes}")
        if output == "softmax_ce" and self.sizes[-1] < 2:
            raise ValueError("softmax_ce needs at least two output units")
        self.activation = activation
        self.output = output
        self.dtype = np.dtype(dtype)
        self.n_layers = len(self.sizes) - 1
        self.params = self._init_params(np.random.default_rng(seed))
        self._cache = None

    # -------------------------------------------------------------- parameters
    def _init_params(self, rng: np.random.Generator) -> dict:
        params = {}
        for i in range(self.n_layers):
            n_in, n_out = self.sizes[i], self.sizes[i + 1]
            params[f"fc{i + 1}.weight"] = xavier_uniform(n_in, n_out, rng, self.dtype)
            params[f"fc{i + 1}.bias"] = np.zeros(n_out, dtype=self.dtype)
        return params

    def state_dict(self) -> dict:
        """Copies of the parameters, keyed like the Paddle ``MLP.state_dict()``."""
        return {k: v.copy() for k, v in self.params.items()}

    def set_state_dict(self, state: dict) -> None:
        """Load numpy arrays or paddle tensors; keys and shapes must match exactly."""
        missing = set(self.params) - set(state)
        extra = set(state) - set(self.params)
        if missing or extra:
            raise KeyError(f"state dict mismatch: missing {sorted(missing)}, unexpected {sorted(extra)}")
        new = {}
        for k, v in state.items():
            arr = _to_numpy(v).astype(self.dtype)
            if arr.shape != self.params[k].shape:
                raise ValueError(f"{k}: shape {arr.shape} != expected {self.params[k].shape}")
            new[k] = arr
        for k, arr in new.items():  # in place, so optimizer state keyed on names stays valid
            self.params[k][...] = arr

    def num_parameters(self) -> int:
        return int(sum(v.size for v in self.params.values()))

    # ----------------------------------------------------------------- forward
    def forward(self, x) -> np.ndarray:
        """Logits ``[N, sizes[-1]]`` (for 'mse' with one output: the regression value ``[N, 1]``)."""
        act = ACTIVATIONS[self.activation][0]
        h = _as_array(x).astype(self.dtype, copy=False).reshape(-1, self.sizes[0])
        inputs, pre, post = [], [], []
        for i in range(self.n_layers):
            inputs.append(h)
            z = h @ self.params[f"fc{i + 1}.weight"]
            z += self.params[f"fc{i + 1}.bias"]
            if i == self.n_layers - 1:
                h = z
                break
            h = act(z)
            pre.append(z)
            post.append(h)
        self._cache = {"inputs": inputs, "pre": pre, "post": post, "out": h}
        return h

    __call__ = forward

    def _targets(self, y, n: int) -> np.ndarray:
        """The 'mse' target: digit value ``[N, 1]`` for one output unit, else one-hot ``[N, C]``."""
        labels = _to_numpy(y).reshape(-1)
        if labels.shape[0] != n:
            raise ValueError(f"{labels.shape[0]} labels for a batch of {n}")
        if self.sizes[-1] == 1:
            return labels.astype(self.dtype).reshape(n, 1)
        return np.eye(self.sizes[-1], dtype=self.dtype)[labels.astype(np.int64)]

    def loss(self, x, y) -> float:
        """Batch-mean loss; runs ``forward`` and remembers what ``backward`` needs."""
        out = self.forward(x)
        n = out.shape[0]
        if self.output == "softmax_ce":
            labels = _labels(y)
            if labels.shape[0] != n:
                raise ValueError(f"{labels.shape[0]} labels for a batch of {n}")
            logp = log_softmax(out)
            rows = np.arange(n)
            dout = np.exp(logp)
            dout[rows, labels] -= 1  # softmax - one-hot
            dout /= n
            self._cache["dout"] = dout
            return float(-logp[rows, labels].mean())
        diff = out - self._targets(y, n)
        self._cache["dout"] = 2.0 * diff / diff.size
        return float(np.mean(diff * diff))

    # ---------------------------------------------------------------- backward
    def backward(self) -> dict:
        """Gradients of the last ``loss`` call, keyed like ``params``."""
        if self._cache is None or "dout" not in self._cache:
            raise RuntimeError("call loss(x, y) before backward()")
        grad_act = ACTIVATIONS[self.activation][1]
        c = self._cache
        delta = c["dout"]
        grads = {}
        for i in reversed(range(self.n_layers)):
            grads[f"fc{i + 1}.weight"] = c["inputs"][i].T @ delta
            grads[f"fc{i + 1}.bias"] = delta.sum(axis=0)
            if i > 0:
                delta = grad_act(delta @ self.params[f"fc{i + 1}.weight"].T, c["pre"][i - 1], c["post"][i - 1])
        return {k: grads[k] for k in self.params}

    def loss_and_grads(self, x, y) -> tuple[float, dict]:
        loss = self.loss(x, y)
        return loss, self.backward()

    def train_step(self, x, y, opt) -> float:
        """One step of ``opt`` (a ``scratch.optim`` optimizer) on the batch; its loss. A non-finite loss is
        returned without a step (the caller decides the run diverged)."""
        loss, grads = self.loss_and_grads(x, y)
        if np.isfinite(loss):
            opt.step(self.params, grads)
        return loss

    # ------------------------------------------------------------- prediction
    def predict(self, x) -> np.ndarray:
        """Class labels ``[N]``: argmax, or for a one-output regressor the rounded value clipped to 0-9."""
        out = self.forward(x)
        if out.shape[1] == 1:
            return np.clip(np.rint(out[:, 0]), 0, 9).astype(np.int64)
        return out.argmax(axis=1)

    def accuracy(self, x, y) -> float:
        return float(np.mean(self.predict(x) == _labels(y)))
