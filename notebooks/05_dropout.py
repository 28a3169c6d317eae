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
# # 2.6.3-2.6.4 Dropout
#
# Redraws the report's dropout figure from `reports/results/dropout.json` (written by
# `python -m paddle_mnist train dropout`); when that file is missing the study runs here with `--quick`
# settings and the notebook says so. Before the
# figures, one code cell trains a small version in plain Paddle: edit a line there and re-run it.
#
# This notebook is the `.ipynb` twin of `notebooks/05_dropout.py` (jupytext `py:percent`, the source of truth).

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
from paddle_mnist.report.build import pm, summary_table
from paddle_mnist.plots.studies import plot_dropout_study
from paddle_mnist.studies.claim_rules import mean_rise

rec = nh.results_or_quick("dropout")
a = rec["analysis"]
Markdown(f"{rec['description']}\n\n{nh.settings_note(rec)}")

# %% [markdown]
# ## Dropout in Paddle code
#
# The plain script's `MLP` (`paddle_mnist/course/mnist.py`) with one `nn.Dropout` layer applied after each
# hidden layer. In `train()` mode each forward pass zeroes a random fraction `p` of the hidden units (and
# scales the rest by 1/(1 − p)), so two passes over the same batch differ; in `eval()` mode (the script's
# `test` switches to it) dropout is off. The cell trains it for 200 Adam steps without and with dropout,
# from the same start and batches. Change `p`, or apply the dropout after `fc1` only, and re-run.

# %%
import itertools

import numpy as np
import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from paddle_mnist.course.mnist import load_data, test, train


class DropoutMLP(nn.Layer):
    def __init__(self, p):
        super().__init__()
        self.fc1 = nn.Linear(784, 200)
        self.fc2 = nn.Linear(200, 200)
        self.fc3 = nn.Linear(200, 10)
        self.dropout = nn.Dropout(p)  # <- the layer of this section

    def forward(self, x):
        x = self.dropout(F.relu(self.fc1(x)))
        x = self.dropout(F.relu(self.fc2(x)))
        return self.fc3(x)


for p in (0.0, 0.5):
    paddle.seed(0)  # the same starting weights and batches for both
    np.random.seed(0)
    model = DropoutMLP(p)
    opt = paddle.optimizer.Adam(learning_rate=0.001, parameters=model.parameters())
    train_loss = train(model, opt, itertools.islice(load_data("train", 100)(), 200))
    valid_loss, valid_acc = test(model, load_data("valid", 1000)())
    x = paddle.to_tensor(next(load_data("valid", 100)())[0])
    model.train()
    differ = float((model(x) - model(x)).abs().max())
    print(f"p = {p}: train loss {train_loss:.3f} (measured with dropout on), valid loss {valid_loss:.3f}, valid "
          f"accuracy {valid_acc:.2%}; two train-mode passes differ by {differ:.3f}")

# %% [markdown]
# ## As the course ran it: one Dropout after fc1 on source 000's setup
#
# Source 000's net (double softmax, SGD lr 0.1, 10 epochs) without dropout and with one `Dropout` after
# `fc1` (p = 0.5, Paddle's default; the source does not give its rate). **Look for:** whether the gap between
# the valid and the train loss differs between the two at all: the source wrote that the reduction of
# overfitting is "not visible in this experiment".

# %%
from paddle_mnist.studies.course import part_record

course = nh.results_or_quick("course")
plot_dropout_study(part_record(course, "dropout"))

# %% [markdown]
# ## Done right: overfitting with and without dropout
#
# Training (dashed, measured with dropout active) against validation loss and accuracy per epoch, the
# generalisation gap (valid loss − train loss) and the training time per epoch. **Look for:** without
# dropout the training loss keeps falling while the validation loss turns up after a few epochs
# (overfitting) and the gap grows; with dropout the validation loss stays lower for longer and the gap
# stays small; the training loss with dropout is higher because it is measured on a thinned network;
# an epoch with dropout is not cheaper.

# %%
plot_dropout_study(rec)

# %%
lines = []
for v, s in a.items():
    rise = "n/a" if mean_rise(rec, v) is None else f"{mean_rise(rec, v):+.4f}"
    lines.append(f"- **p = {s['dropout']:g}**: final train loss {nh.num(s['final_train_loss'], 4)}, final valid "
                 f"loss {nh.num(s['final_valid_loss'], 4)}, lowest valid loss of the mean curve "
                 f"{nh.num(s['min_valid_loss'], 4)} in epoch {s['min_valid_loss_epoch']} (valid-loss rise to the end, "
                 f"mean over seeds: {rise}); `eval` "
                 f"{pm(s['test_acc_mean'], s['test_acc_std'])}; {nh.num(s['seconds_per_epoch_mean'], 2)} s per epoch.")
Markdown("\n".join(lines))

# %% [markdown]
# ## Summary per variant and the claims this study decides

# %%
Markdown(summary_table(rec) + "\n\n" + nh.claims_table("dropout", rec) + "\n\n**As the course ran it**\n\n"
         + nh.claims_table("course", course, ("dropout-",)))
