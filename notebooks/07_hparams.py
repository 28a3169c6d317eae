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
# # 2.2 Hyperparameter tuning on the validation split
#
# Redraws the report's hyperparameter figure from `reports/results/hparams.json` (written by
# `python -m paddle_mnist train hparams`); when that file is missing the search runs here with `--quick`
# settings and the notebook says so. Before the
# figures, one code cell trains a small version in plain Paddle: edit a line there and re-run it.
#
# This notebook is the `.ipynb` twin of `notebooks/07_hparams.py` (jupytext `py:percent`, the source of truth).

# %%
# %matplotlib inline
import sys
from pathlib import Path

try:
    import paddle_mnist  # noqa: F401
except ImportError:  # opened from notebooks/ without `pip install -e .`
    sys.path.insert(0, str(Path.cwd().resolve().parent))
    import paddle_mnist
from IPython.display import Markdown

from paddle_mnist.apps import notebooks as nh
from paddle_mnist.report.build import pct, pm
from paddle_mnist.plots.studies import plot_hparams

rec = nh.results_or_quick("hparams")
a = rec["analysis"]
Markdown(f"{rec['description']}\n\n{nh.settings_note(rec)}")

# %% [markdown]
# ## Choosing on `valid` in Paddle code
#
# The search trains one model per candidate setting and keeps the one with the best accuracy on `valid`;
# `eval` is not touched until the choice is made. In miniature, with the plain script's `MLP`, `train` and
# `test` (`paddle_mnist/course/mnist.py`): three learning rates, 200 Adam steps each, chosen on `valid`.
# Change the hidden size (`MLP(hidden=50)`) or the candidate rates, and re-run.

# %%
import itertools

import numpy as np
import paddle

from paddle_mnist.course.mnist import MLP, load_data, test, train

scores = {}
for lr in (1e-4, 1e-3, 1e-2):
    paddle.seed(0)  # the same starting weights and batches for each
    np.random.seed(0)
    model = MLP(hidden=200)
    opt = paddle.optimizer.Adam(learning_rate=lr, parameters=model.parameters())
    train(model, opt, itertools.islice(load_data("train", 100)(), 200))
    scores[lr] = test(model, load_data("valid", 1000)())[1]
    print(f"lr {lr:g}: valid accuracy {scores[lr]:.2%}")
print("chosen on valid: lr", max(scores, key=scores.get))

# %% [markdown]
# ## The search
#
# Validation accuracy (best over epochs) against the learning rate for each hidden size, against the
# hidden size at the best rate, and per epoch at the chosen rate; the star is the chosen point.
# **Look for:** how much the learning rate moves validation accuracy compared with the hidden size, and
# where the best epoch falls; the choice uses `valid` only, and `eval` is scored once, afterwards.

# %%
plot_hparams(rec)

# %%
c, f = a["choice"], a.get("final")
text = (f"The grid runs scored `eval` {a['grid_runs_scored_on_eval']} time(s). Chosen on `valid` over "
        f"{c['n_points']} (lr, hidden, epochs) points of {c['n_runs']} runs: **lr {c['lr']:g}, {c['hidden']} hidden "
        f"units, {c['epochs']} epoch(s)** (valid {pct(c['valid_acc'])}).")
if f:
    text += (f" Trained over {f['n_runs']} seed(s) and scored once on `eval`: "
             f"**{pm(f['test_acc_mean'], f['test_acc_std'])}** (valid {pm(f['valid_acc_mean'], f['valid_acc_std'])}).")
Markdown(text)

# %% [markdown]
# ## The claims this study decides

# %%
Markdown(nh.claims_table("hparams", rec))
