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
# `--quick` settings and the notebook says so. No training or plotting code lives in this notebook.
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
# `MLP()` is 784-200-200-10 with ReLU, returning logits. The course's loop, `train_epoch`, does forward,
# loss, `backward`, `opt.step()`, `opt.clear_grad()` per batch; here 50 Adam steps on real batches, then the
# validation accuracy. The full runs below do the same for 10 epochs per seed, keeping the checkpoint with the
# best `valid` accuracy.

# %%
import itertools

import paddle

from paddle_mnist import MLP, evaluate, load_data, train_epoch
from paddle_mnist.course.losses import get_loss

paddle.seed(0)
model = MLP()
paddle.summary(model, (1, 784))
loss = get_loss("cross_entropy")
opt = paddle.optimizer.Adam(learning_rate=1e-3, parameters=model.parameters())
batches = itertools.islice(load_data("train", 100, seed=0)(), 50)  # 50 steps of 100 images
steps = [value for value, _, _ in train_epoch(model, batches, loss, opt)]
valid_x, valid_y = next(load_data("valid", 10000)())
_, valid_acc, _ = evaluate(model, valid_x, valid_y, loss)
print(f"batch loss {steps[0]:.3f} -> {steps[-1]:.3f} after {len(steps)} steps; valid accuracy {valid_acc:.2%}")

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
         "on `eval`. The target is at least 98.0%; the PaddlePaddle book reports 97.66% and the course's own "
         "run 97.10%.")

# %% [markdown]
# ## Summary per variant

# %%
Markdown(summary_table(rec))

# %% [markdown]
# ## The model (`paddle.summary`)

# %%
print(rec.get("model_summary", "(no model summary in this results file)"))
