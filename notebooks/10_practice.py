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
# # Source 002's practices, k-fold cross-validation and a saddle point (sources 002, 000 §2.2, §2.7)
#
# Redraws the report's figures of the `practice` study (exponentially weighted averages, batch vs mini-batch vs
# stochastic gradient descent, learning-rate decay, input standardisation, k-fold cross-validation) from
# `reports/results/practice.json`, and the saddle-point figure from `reports/results/trajectories.json`
# (written by `python -m paddle_mnist train practice` and `... train trajectories`); when a file is missing
# that experiment runs here with `--quick` settings and the notebook says so. Before the figures, one code cell
# runs the few lines of Paddle its section is about: edit a line there and re-run it.
#
# This notebook is the `.ipynb` twin of `notebooks/10_practice.py` (jupytext `py:percent`, the source of
# truth).

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
from paddle_mnist.plots.practice import plot_ewa, plot_gd_batch, plot_input_standardise, plot_kfold, plot_lr_decay
from paddle_mnist.plots.scratch import plot_saddle

practice = nh.results_or_quick("practice")
traj = nh.results_or_quick("trajectories", needs="saddle")
Markdown(f"{practice['description']}\n\n{nh.settings_note(practice, epochs=False)}")

# %% [markdown]
# ## The computations, called from the library
#
# The course's `load_data` gives the batches: with `batch_size=50000` one batch is the whole train split (batch
# gradient descent), with 100 a mini-batch, with 1 a single image (stochastic). The same `SoftmaxRegression.step`
# runs on each; the per-step time shows what vectorisation buys. Then the pixel range the standardisation
# starts from, an exponentially weighted average of a constant series with and without bias correction, the
# k-fold splitter, and SGD vs Momentum from one start near the saddle.

# %%
import itertools
import time

import numpy as np

from paddle_mnist import load_data
from paddle_mnist.engine.pool import blas_threads
from paddle_mnist.scratch.practice import SoftmaxRegression, Standardiser, ewa, kfold_indices
from paddle_mnist.scratch.trajectories import saddle_escape, saddle_start

for batch_size, steps in ((50000, 2), (100, 200), (1, 200)):
    model = SoftmaxRegression(seed=0)
    batches = list(itertools.islice(load_data("train", batch_size, seed=0)(), steps))
    with blas_threads(1):  # one BLAS thread, as the study's workers
        started = time.perf_counter()
        losses = [model.step(xb, yb, 0.1) for xb, yb in batches]
        per_step = (time.perf_counter() - started) / steps
    print(f"batch {batch_size:>5}: {1e6 * per_step:9.0f} µs per step, {batch_size / per_step:12,.0f} images per "
          f"second; batch loss {losses[0]:.3f} -> {losses[-1]:.3f}")

x, y = next(load_data("train", 10000, seed=0)())
z = Standardiser(x)(x)
print(f"raw pixels in [{x.min():g}, {x.max():g}], mean {x.mean():.3f}; standardised: mean {z.mean():.1e}, "
      f"largest |value| {np.abs(z).max():.1f} (a pixel inked in few of these {len(y):,} images)")
print("EWA of 20, 20, 20 (β 0.9):", ewa([20.0] * 3, 0.9).round(2), "corrected:",
      ewa([20.0] * 3, 0.9, bias_correction=True).round(2))
folds = kfold_indices(1000, 5, seed=0)
print("5-fold split of 1,000 indices: held-out sizes", [len(v) for _, v in folds], "; every index held out once:",
      sorted(np.concatenate([v for _, v in folds]).tolist()) == list(range(1000)))
for name in ("sgd", "momentum"):
    r = saddle_escape(name, saddle_start(0))
    print(f"{name}: from {tuple(round(v, 5) for v in r['start'])} leaves the saddle at step {r['escape_step']}")

# %% [markdown]
# ## Exponentially weighted averages (002 §7)
#
# Left: one seed's noisy year with the bias-corrected averages for β 0.5, 0.9, 0.98; middle: the first 40 days
# with (solid) and without (dotted) bias correction; right: roughness (bars, one dot per seed) and lag (×).
# **Look for:** how smoothness and delay change with β; how far from the noise-free curve the uncorrected
# averages start (they start from v_0 = 0) and for how many days.

# %%
plot_ewa(practice)

# %% [markdown]
# ## Batch, mini-batch and stochastic gradient descent (002 §3-5)
#
# The probe train loss per epoch and per second of training, one line per seed, and the jitter of the per-step
# losses. **Look for:** which arm is lowest after one epoch and after the same number of seconds (the dotted
# lines mark mini-batch's first epoch); whether mini-batch's jitter lies between the other two.

# %%
plot_gd_batch(practice)

# %% [markdown]
# ## Learning-rate decay (002 §11)
#
# The mean batch loss per epoch (band: min-max over seeds) at a constant rate and at α0 / (1 + epoch), and the
# two rates. **Look for:** whether the decayed rate ends lower or higher than the constant one, and when the two
# curves cross.

# %%
plot_lr_decay(practice)

# %% [markdown]
# ## Input standardisation (002 §12)
#
# The RMS weight gradient of each layer of the sigmoid net over the first steps, and the train loss.
# **Look for:** how much smaller the input layer's gradient is than the output layer's (vanishing towards the
# input) with raw and with standardised pixels, and which loss falls first.

# %%
plot_input_standardise(practice)

# %% [markdown]
# ## k-fold cross-validation instead of a validation split (000 §2.2)
#
# Left: the accuracies that choose the learning rate (5-fold CV, held-out split) and, afterwards, each rate's
# test accuracy; right: each seed's two final models. **Look for:** whether the CV and held-out curves peak where
# the test curve peaks, and which final model scores higher for each seed.

# %%
plot_kfold(practice)

# %% [markdown]
# ## A saddle point: SGD vs Momentum (000 §2.7)
#
# Paths from starts near the saddle of z = x² + y⁴/4 − y²/2 and their distance from it. **Look for:** at the
# same rate, which optimizer crosses the dashed line (0.5 from the saddle) first and which reaches a minimum.

# %%
plot_saddle(traj)

# %%
Markdown("**The claims these results decide**\n\n"
         + nh.claims_table("practice", practice, ids=("ewa-smooth", "ewa-bias", "gd-batch", "lr-decay",
                                                      "input-standardise", "hp-kfold"))
         + "\n\n" + nh.claims_table("trajectories", traj, ids=("opt-momentum-saddle",))
         + f"\n\n{nh.settings_note(practice, epochs=False)}")
