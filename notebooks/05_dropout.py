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
# settings and the notebook says so. No training or plotting code lives in this notebook.
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

rec = nh.results_or_quick("dropout")
a = rec["analysis"]
Markdown(f"{rec['description']}\n\n{nh.settings_note(rec)}")

# %% [markdown]
# ## Dropout in Paddle code
#
# `MLP(dropout=0.5)` puts `nn.Dropout` after each hidden layer. In `train()` mode each forward pass zeroes a
# random half of the hidden units (and scales the rest by 2), so two passes over the same batch differ; in
# `eval()` mode dropout is off and the outputs are deterministic. `train_epoch` switches to `train()`,
# `evaluate` to `eval()`.

# %%
import paddle

from paddle_mnist import MLP, load_data

paddle.seed(0)
model = MLP(dropout=0.5)
print(model)
x = paddle.to_tensor(next(load_data("valid", 100)())[0])
model.train()
print("train mode, two passes differ by", float((model(x) - model(x)).abs().max()))
model.eval()
print("eval mode, two passes differ by ", float((model(x) - model(x)).abs().max()))

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
    rise = "n/a" if s["valid_loss_rise"] is None else f"{s['valid_loss_rise']:+.4f}"
    lines.append(f"- **p = {s['dropout']:g}**: final train loss {nh.num(s['final_train_loss'], 4)}, final valid "
                 f"loss {nh.num(s['final_valid_loss'], 4)}, lowest valid loss {nh.num(s['min_valid_loss'], 4)} in "
                 f"epoch {s['min_valid_loss_epoch']} (rise to the end {rise}); `eval` "
                 f"{pm(s['test_acc_mean'], s['test_acc_std'])}; {nh.num(s['seconds_per_epoch_mean'], 2)} s per epoch.")
Markdown("\n".join(lines))

# %% [markdown]
# ## Summary per variant and the claims this study decides

# %%
Markdown(summary_table(rec) + "\n\n" + nh.claims_table("dropout", rec) + "\n\n**As the course ran it**\n\n"
         + nh.claims_table("course", course, ("dropout-",)))
