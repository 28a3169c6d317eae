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
# # 1.2.1 Softmax classifier (2.3)
#
# Redraws the report's softmax figure from `reports/results/softmax.json` (written by
# `python -m paddle_mnist train softmax`). When that file is missing, the experiment is run here with
# `--quick` settings and the notebook says so. No training or plotting code lives in this notebook.
#
# This notebook is the `.ipynb` twin of `notebooks/02_softmax.py` (jupytext `py:percent`, the source of truth).

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
from paddle_mnist.plots.common import plot_learning_curves
from paddle_mnist.report.build import pct, pm, summary_table

rec = nh.results_or_quick("softmax")
Markdown(f"{rec['description']}\n\n{nh.settings_note(rec)}")

# %% [markdown]
# ## The model in Paddle code
#
# The softmax classifier is one `Linear(784, 10)` returning logits; `F.cross_entropy` (through
# `get_loss("cross_entropy")`) applies the softmax. A handful of SGD steps with the experiment's learning rate
# (0.1) on real batches, through the same `train_epoch` loop the engine runs, already lifts validation accuracy
# far above chance (10%).

# %%
import itertools

import paddle

from paddle_mnist import SoftmaxNet, evaluate, load_data, train_epoch
from paddle_mnist.course.losses import get_loss

paddle.seed(0)
model = SoftmaxNet()
paddle.summary(model, (1, 784))
loss = get_loss("cross_entropy")
opt = paddle.optimizer.SGD(learning_rate=0.1, parameters=model.parameters())
batches = itertools.islice(load_data("train", 100, seed=0)(), 50)  # 50 steps of 100 images
steps = [value for value, _, _ in train_epoch(model, batches, loss, opt)]
valid_x, valid_y = next(load_data("valid", 10000)())
_, valid_acc, _ = evaluate(model, valid_x, valid_y, loss)
print(f"batch loss {steps[0]:.3f} -> {steps[-1]:.3f} after {len(steps)} steps; valid accuracy {valid_acc:.2%}")

# %% [markdown]
# ## Learning curves
#
# Left: training and validation cross-entropy per epoch; right: validation accuracy. Lines are the mean
# over seeds, the shaded band the range. **Look for:** a linear model barely overfits, so the two loss
# curves stay close and keep falling slowly; validation accuracy levels off around 92%, the ceiling of a
# linear classifier on raw pixels.

# %%
plot_learning_curves(rec)

# %%
variant, s = nh.headline(rec)
last = nh.final_epoch(rec, variant)
Markdown(f"After {last['epochs']} epochs the training loss is **{last['train_loss']:.4f}** and the validation "
         f"loss **{last['valid_loss']:.4f}** (gap {last['valid_loss'] - last['train_loss']:+.4f}); the last "
         f"validation accuracy is {pct(last['valid_acc'])}. The checkpoint with the best `valid` accuracy "
         f"({pm(s['valid_acc_mean'], s['valid_acc_std'])}) of each run scores "
         f"**{pm(s['test_acc_mean'], s['test_acc_std'])}** on `eval` over {s['n_runs']} run(s): the target is "
         "92.0-92.8%, and the PaddlePaddle book reports 92.34%.")

# %% [markdown]
# ## Summary per variant

# %%
Markdown(summary_table(rec))

# %% [markdown]
# ## The model (`paddle.summary`)

# %%
print(rec.get("model_summary", "(no model summary in this results file)"))
