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
# # 2.7 Optimizers
#
# Redraws the report's two optimizer figures from `reports/results/optimizers.json` (written by
# `python -m paddle_mnist train optimizers`); when that file is missing the study runs here with `--quick`
# settings and the notebook says so. Before the
# figures, one code cell trains a small version in plain Paddle: edit a line there and re-run it.
#
# This notebook is the `.ipynb` twin of `notebooks/06_optimizers.py` (jupytext `py:percent`, the source of truth).

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
from paddle_mnist.plots.studies import plot_optimizer_curves, plot_optimizer_sweeps

rec = nh.results_or_quick("optimizers")
a = rec["analysis"]
Markdown(f"{rec['description']}\n\n{nh.settings_note(rec)}")

# %% [markdown]
# ## The optimizers in Paddle code
#
# Changing the optimizer is one line: `paddle.optimizer.SGD`, `Momentum` or `Adam` over the model's
# parameters. The cell trains the plain script's `MLP` (`paddle_mnist/course/mnist.py`) for 200 steps with
# each, from the same start and batches, with the script's `train` and `test`. Change a learning rate (try
# SGD at 0.001 or Adam at 0.1), or add `paddle.optimizer.Adagrad`, and re-run.

# %%
import itertools

import numpy as np
import paddle

from paddle_mnist.course.mnist import MLP, load_data, test, train

for name, optimizer, settings in (("SGD lr=0.1", paddle.optimizer.SGD, {"learning_rate": 0.1}),
                                  ("Momentum lr=0.01", paddle.optimizer.Momentum, {"learning_rate": 0.01}),
                                  ("Adam lr=0.001", paddle.optimizer.Adam, {"learning_rate": 0.001})):
    paddle.seed(0)  # the same starting weights and batches for each
    np.random.seed(0)
    model = MLP()
    opt = optimizer(parameters=model.parameters(), **settings)  # <- the line of this section
    train_loss = train(model, opt, itertools.islice(load_data("train", 100)(), 200))
    valid_loss, valid_acc = test(model, load_data("valid", 1000)())
    print(f"{name:17s} train loss {train_loss:.3f}, valid loss {valid_loss:.3f}, valid accuracy {valid_acc:.2%}")

# %% [markdown]
# ## As the course ran it: §2.7's settings on source 000's double-softmax net
#
# The same eight settings on the source's own model (softmax in `forward`, then `F.cross_entropy`), 5 epochs.
# **Look for:** every loss lives between the floor 1.46 and ln 10 ≈ 2.30, so "the loss did not fall" means
# something else here than on logits; which settings stay flat at ln 10.

# %%
from paddle_mnist.studies.course import part_record

course = nh.results_or_quick("course")
plot_optimizer_curves(part_record(course, "optimizers"), stages=("report",))

# %% [markdown]
# ## Done right: the report's settings and the tuned learning rates
#
# Training loss per iteration of every optimizer on one plot (as in Kingma & Ba 2015, Fig. 2) and
# validation accuracy per epoch; left the report's settings, right each optimizer at the learning rate
# its sweep chose on `valid`. **Look for:** at the report's settings the ranking mostly reflects the
# learning rates (SGD 0.0001 barely moves, SGD 0.9 is rough); compare how far apart the curves end once
# each rate is tuned, and whether the adaptive methods keep their lead after the first epoch.

# %%
plot_optimizer_curves(rec)

# %%
lines = [f"- **{v}**: `eval` {pm(s['test_acc_mean'], s['test_acc_std'])}, best valid {pct(s['valid_acc_mean'])}, "
         f"train loss after epoch 1 {nh.num(s['train_loss_epoch1_mean'])}"
         + (f", **diverged** in {len(s['diverged'])} of {s['n_runs']} runs" if s["diverged"] else "")
         for v, s in a["report"].items()]
Markdown("**The report's settings**\n\n" + "\n".join(lines))

# %% [markdown]
# ## Learning-rate sweeps
#
# One panel per optimizer: the best validation accuracy of a short one-seed run at each learning rate
# of a log grid, the chosen rate starred. **Look for:** each optimizer has a broad good range and a cliff
# on the high side; a star at the edge of its grid means the grid should be extended.

# %%
plot_optimizer_sweeps(rec)

# %%
best = a.get("best_tuned")
lines = [f"- **{opt}**: chosen lr **{c['lr']:g}** (valid {pct(c['valid_acc'])}"
         f"{', at the edge of the grid' if c.get('at_edge') else ''}); over every seed `eval` "
         f"{pm(a['tuned'][opt]['test_acc_mean'], a['tuned'][opt]['test_acc_std'])}"
         for opt, c in a["choice"].items() if c.get("lr") is not None and opt in a["tuned"]]
Markdown(f"Sweeps ran {a['sweep_epochs']} epoch(s) per point, scored on `valid` only.\n\n" + "\n".join(lines)
         + (f"\n\nTuned, the best optimizer is **{best}**." if best else ""))

# %% [markdown]
# ## The claims this study decides

# %%
Markdown(nh.claims_table("optimizers", rec) + "\n\n**As the course ran it**\n\n"
         + nh.claims_table("course", course, ("opt-",)))
