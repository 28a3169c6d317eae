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
# # 2.6.1-2.6.2 Loss functions: cross entropy vs squared error
#
# Redraws the report's loss-study figure from `reports/results/loss.json` (written by
# `python -m paddle_mnist train loss`); when that file is missing the study runs here with `--quick`
# settings and the notebook says so. No training or plotting code lives in this notebook.
#
# This notebook is the `.ipynb` twin of `notebooks/04_loss.py` (jupytext `py:percent`, the source of truth).

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
from paddle_mnist.report.build import pct, pm, summary_table
from paddle_mnist.plots.studies import plot_loss_study

rec = nh.results_or_quick("loss")
a, ref = rec["analysis"], rec["reference"]
Markdown(f"{rec['description']}\n\n{nh.settings_note(rec)}")

# %% [markdown]
# ## The losses in Paddle code
#
# Each loss is a function of the logits and the labels (`get_loss(name).fn`): cross entropy
# (`F.cross_entropy`, softmax inside), squared error between softmax and one-hot, and the course's pitfall:
# a model with softmax already in `forward` (`double_softmax=True`) fed to `F.cross_entropy`, which applies
# softmax a second time. On one batch of an untrained network the three start at these values; the double
# softmax can never go below ln(1 + 9/e) ≈ 1.46.

# %%
import paddle

from paddle_mnist import MLP, load_data
from paddle_mnist.course.losses import get_loss

imgs, labels = next(load_data("train", 100, seed=0)())
x, y = paddle.to_tensor(imgs), paddle.to_tensor(labels)
paddle.seed(0)
logits = MLP()(x)
paddle.seed(0)
probabilities = MLP(double_softmax=True)(x)  # the same weights, softmax in forward
for name, out in (("cross_entropy", logits), ("square_error_onehot", logits), ("cross_entropy", probabilities)):
    print(f"{name:20s} on {'softmax outputs' if out is probabilities else 'logits':15s}: "
          f"{float(get_loss(name).fn(out, y)):.4f}")

# %% [markdown]
# ## As the course ran it: source 000's own setup
#
# The `course` study trains source 000's net as the report did: softmax in `forward`, then `F.cross_entropy`
# (double softmax), SGD lr 0.1, 10 epochs, batch 100; next to it the same net on logits (the bug alone
# fixed) and the report's one-output regressor on the float labels. **Look for:** the double softmax
# flattens out above its floor ln(1 + 9/e); the logits net goes far below it; the regressor diverges within
# a few steps at lr 0.1.

# %%
from paddle_mnist.studies.course import part_record

course = nh.results_or_quick("course")
plot_loss_study(part_record(course, "loss"))

# %% [markdown]
# ## Done right: training loss and validation accuracy per loss function
#
# One panel per variant with the training loss per iteration (each on its own log scale: the losses are
# not comparable in value), and the validation accuracy per epoch of all variants, on logits with Adam.
# **Look for:** cross entropy and squared error on softmax/one-hot both learn and end close in accuracy;
# the single-output regressor starts near E[y²] and stays far behind in accuracy.

# %%
plot_loss_study(rec)

# %%
lines = []
for v, s in a.items():
    lines.append(f"- **{v}** ({s['optimizer']} {s['lr']:g}): `eval` {pm(s['test_acc_mean'], s['test_acc_std'])}, "
                 f"valid after epoch 1 {pct(s['valid_acc_epoch1_mean'])}, first logged loss "
                 f"{nh.num(s['initial_loss_mean'])}, lowest logged loss {nh.num(s['lowest_logged_loss_mean'], 4)}"
                 + (f", **diverged** in {len(s['diverged'])} of {s['n_runs']} runs" if s["diverged"] else ""))
lab = ref["labels"]
lines.append(f"\nFor the regressor, E[y²] = {lab['second_moment']:.2f}; always predicting the mean label "
             f"{lab['mean']:.2f} would give a loss equal to the label variance {lab['variance']:.2f} and "
             f"{pct(lab['constant_accuracy'])} accuracy.")
Markdown("\n".join(lines))

# %% [markdown]
# ## Summary per variant and the claims this study decides

# %%
Markdown(summary_table(rec) + "\n\n" + nh.claims_table("loss", rec) + "\n\n**As the course ran it**\n\n"
         + nh.claims_table("course", course, ("loss-",)))
