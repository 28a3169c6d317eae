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
# # 1.2.2 Fully connected network (2.4)
#
# Redraws the report's MLP figure from `reports/results/mlp.json` (written by
# `python -m paddle_mnist train mlp`). When that file is missing, the experiment is run here with
# `--quick` settings and the notebook says so. Before the
# figures, one code cell trains a small version in plain Paddle: edit a line there and re-run it.
#
# This notebook is the `.ipynb` twin of `notebooks/03_mlp.py` (jupytext `py:percent`, the source of truth).

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

rec = nh.results_or_quick("mlp")
Markdown(f"{rec['description']}\n\n{nh.settings_note(rec)}")

# %% [markdown]
# ## The model in Paddle code
#
# The class below is `MLP` of the plain script `paddle_mnist/course/mnist.py`, written out so that you can
# change it: 784-200-200-10 with ReLU, returning logits. The cell checks it against the script's class, then
# trains it for 300 Adam steps with the script's `train` (forward, `F.cross_entropy`, `backward`,
# `opt.step()`, `opt.clear_grad()` per batch) and scores it on `valid` with `test`. The full runs below do the
# same for 10 epochs per seed, keeping the checkpoint with the best `valid` accuracy. Try `F.sigmoid` instead
# of `F.relu`, 50 hidden units, or a third hidden layer, and re-run the cell.

# %%
import itertools

import numpy as np
import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from paddle_mnist.course.mnist import MLP, load_data, test, train


class MyMLP(nn.Layer):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 200)
        self.fc2 = nn.Linear(200, 200)
        self.fc3 = nn.Linear(200, 10)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


paddle.seed(0)  # the same starting weights on every run
model = MyMLP()
paddle.seed(0)
script_mlp = MLP()
x = paddle.to_tensor(next(load_data("valid", 100)())[0])
print(f"MyMLP: {sum(p.size for p in model.parameters()):,} parameters, the same outputs as the script's MLP: "
      f"{bool(paddle.equal_all(model(x), script_mlp(x)))}")
np.random.seed(0)  # the same batches on every run
opt = paddle.optimizer.Adam(learning_rate=0.001, parameters=model.parameters())
batches = load_data("train", 100)()
for steps in (100, 200, 300):
    train_loss = train(model, opt, itertools.islice(batches, 100))  # 100 more steps of 100 images
    valid_loss, valid_acc = test(model, load_data("valid", 1000)())
    print(f"after {steps} steps: train loss {train_loss:.3f}, valid loss {valid_loss:.3f}, "
          f"valid accuracy {valid_acc:.2%}")

# %% [markdown]
# ## Learning curves
#
# Training and validation loss (left) and validation accuracy (right) per epoch for every variant; lines
# are the mean over seeds, bands the range. **Look for:** the training loss keeps falling towards 0 while
# the validation loss bottoms out after a few epochs and then rises: the network starts to memorise the
# training set. That is why the checkpoint is chosen by the best `valid` accuracy, not the last epoch. A
# decaying learning rate flattens the late epochs.

# %%
plot_learning_curves(rec)

# %%
variant, s = nh.headline(rec)
lines = []
for v in rec["summary"]:
    last = nh.final_epoch(rec, v)
    lines.append(f"- **{v}**: after {last['epochs']} epochs train loss {last['train_loss']:.4f}, valid loss "
                 f"{last['valid_loss']:.4f} (gap {last['valid_loss'] - last['train_loss']:+.4f}), last valid "
                 f"accuracy {pct(last['valid_acc'])}; best-valid checkpoint on `eval`: "
                 f"{pm(rec['summary'][v]['test_acc_mean'], rec['summary'][v]['test_acc_std'])}.")
Markdown("\n".join(lines) + f"\n\nThe headline variant, chosen on `valid` only, is **{variant}** "
         f"(valid {pm(s['valid_acc_mean'], s['valid_acc_std'])}): **{pm(s['test_acc_mean'], s['test_acc_std'])}** "
         "on `eval`. The target is at least 98.0%; the PaddlePaddle book reports 97.66% (quoted, not measured "
         "here).")

# %% [markdown]
# ## Summary per variant

# %%
Markdown(summary_table(rec))

# %% [markdown]
# ## The model (`paddle.summary`)

# %%
print(rec.get("model_summary", "(no model summary in this results file)"))
