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
# `--quick` settings and the notebook says so. Before the
# figures, one code cell trains a small version in plain Paddle: edit a line there and re-run it.
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
# The class below is `SoftmaxNet` of the plain script `paddle_mnist/course/mnist.py`, written out so that you
# can change it: one `nn.Linear(784, 10)` that returns logits (the script's `train` computes
# `F.cross_entropy(logits, labels)`, which applies the softmax). The cell checks your class against the
# script's, then trains it for 300 SGD steps (lr 0.1, as the experiment) with the script's `train` and scores
# it on `valid` with `test`. Try `return F.softmax(self.fc1(x))` (the course's double softmax) or
# `learning_rate=0.001`, and re-run the cell.

# %%
import itertools

import numpy as np
import paddle
import paddle.nn as nn
import paddle.nn.functional as F  # noqa: F401  (for your edits)

from paddle_mnist.course.mnist import SoftmaxNet, load_data, test, train


class MySoftmaxNet(nn.Layer):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 10)

    def forward(self, x):
        return self.fc1(x)


paddle.seed(0)  # the same starting weights on every run
model = MySoftmaxNet()
paddle.seed(0)
images = paddle.to_tensor(next(load_data("valid", 100)())[0])
same = bool(paddle.equal_all(model(images), SoftmaxNet()(images)))
print(f"{sum(p.size for p in model.parameters()):,} parameters; computes "
      f"{'the same as' if same else 'something else than'} the script's SoftmaxNet")
np.random.seed(0)  # the same batches on every run
opt = paddle.optimizer.SGD(learning_rate=0.1, parameters=model.parameters())
train_loss = train(model, opt, itertools.islice(load_data("train", 100)(), 300))  # 300 steps of 100 images
valid_loss, valid_acc = test(model, load_data("valid", 1000)())
print(f"after 300 steps: train loss {train_loss:.3f}, valid loss {valid_loss:.3f}, valid accuracy {valid_acc:.2%}")

# %% [markdown]
# ## The same nets with Paddle's high-level API
#
# `paddle.Model` wraps a net with its optimizer, loss and metric, and `fit` runs the loop of `train` for you,
# as Paddle's quick start teaches (`MnistJson` is a `paddle.io.Dataset` over the same arrays). Both nets of
# the script, 300 steps each from the same seed: the softmax classifier should land near the accuracy just
# above (`tests/test_course_script.py` checks that the two ways agree within 1.5 points).

# %%
import warnings

from paddle_mnist.course.mnist import MLP
from paddle_mnist.datafile.dataset import MnistJson

warnings.filterwarnings("ignore", message="To copy construct from a tensor")  # raised inside paddle.Model's loop
for make_net, make_opt, lr in ((SoftmaxNet, paddle.optimizer.SGD, 0.1), (MLP, paddle.optimizer.Adam, 0.001)):
    paddle.seed(0)
    np.random.seed(0)
    net = make_net()
    hapi = paddle.Model(net)
    hapi.prepare(make_opt(learning_rate=lr, parameters=net.parameters()), nn.CrossEntropyLoss(),
                 paddle.metric.Accuracy())
    hapi.fit(MnistJson("train"), batch_size=100, epochs=1, num_iters=300, verbose=0)
    result = hapi.evaluate(MnistJson("valid"), batch_size=1000, verbose=0)
    print(f"{make_net.__name__:10s} paddle.Model(net).fit, 300 steps: valid accuracy {result['acc']:.2%}")

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
         "92.0-92.8%; the PaddlePaddle book reports 92.34% (quoted, not measured here).")

# %% [markdown]
# ## Summary per variant

# %%
Markdown(summary_table(rec))

# %% [markdown]
# ## The model (`paddle.summary`)

# %%
print(rec.get("model_summary", "(no model summary in this results file)"))
