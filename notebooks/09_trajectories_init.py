# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Optimizer trajectories and weight initialisation (sources 001, 003)
#
# Redraws the report's trajectory, activation-function and initialisation figures from
# `reports/results/trajectories.json` and `reports/results/init.json` (written by
# `python -m paddle_mnist train trajectories` and `... train init`); when a file is missing that
# experiment runs here with `--quick` settings and the notebook says so. Before the figures, one code cell
# runs the few lines of Paddle its section is about: edit a line there and re-run it.
#
# This notebook is the `.ipynb` twin of `notebooks/09_trajectories_init.py` (jupytext `py:percent`, the
# source of truth).

# %%
# %matplotlib inline
import sys
from pathlib import Path

try:
    import paddle_mnist  # noqa: F401
except ImportError:  # opened from notebooks/ without `pip install -e .`
    sys.path.insert(0, str(Path.cwd().resolve().parent))
    import paddle_mnist  # noqa: F401
from IPython.display import Markdown

from paddle_mnist.apps import notebooks as nh
from paddle_mnist.plots.scratch import (plot_activation_functions, plot_init_accuracy, plot_init_histograms,
                                      plot_trajectories)
from paddle_mnist.report.build import pct
from paddle_mnist.studies.init import grid_runs

traj = nh.results_or_quick("trajectories")
init = nh.results_or_quick("init")
Markdown(f"{traj['description']}\n\n{init['description']}\n\n{nh.settings_note(init)}")

# %% [markdown]
# ## Initialisation in Paddle code
#
# `MLP(init=...)` sets every `Linear`'s weight initializer (`nn.initializer.Constant(0)`, `Normal`,
# `XavierNormal`, `KaimingNormal`; "default" is Paddle's Xavier uniform). The standard deviation of each
# layer's weights shows the scale each gives; with all-zero weights every hidden unit gets the same gradient,
# so 30 Adam steps leave the loss near ln 10 ≈ 2.30, where the others fall.

# %%
import itertools

import paddle

from paddle_mnist import MLP, load_data, train_epoch
from paddle_mnist.engine.losses import get_loss

loss = get_loss("cross_entropy")
for scheme in ("zero", "normal_small", "xavier", "msra"):
    paddle.seed(0)
    model = MLP(init=scheme)
    stds = [float(p.numpy().std()) for name, p in model.named_parameters() if name.endswith("weight")]
    opt = paddle.optimizer.Adam(learning_rate=1e-3, parameters=model.parameters())
    batches = itertools.islice(load_data("train", 100, seed=0)(), 30)
    steps = [value for value, _, _ in train_epoch(model, batches, loss, opt)]
    print(f"{scheme:12s} weight std per layer {' '.join(f'{s:.4f}' for s in stds)}; "
          f"loss {steps[0]:.3f} -> {steps[-1]:.3f}")

# %% [markdown]
# ## Trajectories on z = x²/10 + y²
#
# One contour panel per optimizer: the numpy path (solid, dots) and the `paddle.optimizer` path (dashed,
# crosses) from the same start. **Look for:** the two paths coincide (same update rules); SGD zig-zags
# across the steep y direction while creeping along x; the momentum methods overshoot the centre; the
# adaptive methods (AdaGrad, RMSProp, Adam) rescale each coordinate, so their first step heads diagonally
# instead of along the steep y axis.

# %%
plot_trajectories(traj)

# %%
chk = traj.get("check", {})
lines = [f"- **{r['optimizer']}** (lr {r['lr']:g}): ends at ({r['final'][0]:.4f}, {r['final'][1]:.4f}), "
         f"z = {r['final_loss']:.4f}; numpy vs Paddle at most {r['max_abs_diff']:.1e} apart" for r in traj["runs"]]
if chk:
    lines.append(f"\nExact check of plain SGD against the closed form {tuple(chk['expected'])}: "
                 f"**{'passed' if chk['passed'] else 'FAILED'}** (largest numpy-Paddle difference over all paths "
                 f"{chk['max_numpy_paddle_diff']:.1e}).")
Markdown("\n".join(lines))

# %% [markdown]
# ## Activation functions
#
# ReLU, sigmoid, tanh and softplus with their derivatives (dashed). **Look for:** the sigmoid's slope
# is at most 0.25 and tanh's at most 1, both vanishing for large |x|; ReLU passes a slope of exactly 1
# for positive inputs.

# %%
plot_activation_functions()

# %% [markdown]
# ## Activations at initialisation
#
# Rows are activation functions, columns initialisation schemes; each panel overlays the activation
# histograms of every hidden layer before any training. **Look for:** zero weights make every unit
# identical; N(0, 1) saturates sigmoid and tanh (mass at the ends); N(0, 0.01) shrinks the signal layer
# by layer; Xavier keeps sigmoid/tanh spread out and MSRA keeps ReLU layers alive.

# %%
plot_init_histograms(init)

# %% [markdown]
# ## Accuracy after a short training budget
#
# Validation accuracy after the same small number of steps, one panel per optimizer, bars per
# (activation, initialisation). **Look for:** which scheme wins for each activation, and which
# combinations do not learn at all (about 10%, chance) within the budget.

# %%
plot_init_accuracy(init)

# %%
setup = init.get("setup", {})
best = nh.best_runs({**init, "runs": grid_runs(init)}, by=("optimizer", "activation"))  # the grid only
lines = [f"- {opt} / {act}: best **{r['init']}** ({pct(r['best_valid_acc'], 1)} valid)"
         for (opt, act), r in best.items()]
Markdown(f"After {setup.get('steps', '?')} steps of batch {setup.get('batch_size', '?')}:\n\n" + "\n".join(lines))
