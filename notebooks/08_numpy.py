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
# # Numpy from scratch: the assignment's net and six numpy optimizers (1.2.2, source 004)
#
# Redraws the report's numpy figures from `reports/results/numpy.json` (written by
# `python -m paddle_mnist train numpy`); when that file is missing the study runs here with `--quick`
# settings and the notebook says so. Before the figures, one code cell runs the
# few lines of Paddle its section is about: edit a line there and re-run it.
#
# This notebook is the `.ipynb` twin of `notebooks/08_numpy.py` (jupytext `py:percent`, the source of truth).

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
from paddle_mnist.plots.scratch import plot_assignment_search, plot_numpy_optimizers
from paddle_mnist.report.build import pct, pm

rec = nh.results_or_quick("numpy")
Markdown(f"{rec['description']}\n\n{nh.settings_note(rec)}")

# %% [markdown]
# ## The assignment's net in Paddle code
#
# The numpy net below is the assignment's: sigmoid hidden layer, one output unit regressing the digit, squared
# error. Its Paddle twin is `MLP(hidden=(64,), activation="sigmoid", out_features=1)` with
# `get_loss("square_error_regression")`; its prediction is the output rounded to the nearest digit. The numpy
# gradients are checked against Paddle's autograd in `tests/test_numpy_net.py`.

# %%
import paddle

from paddle_mnist import MLP, load_data
from paddle_mnist.engine.losses import get_loss

paddle.seed(0)
model = MLP(hidden=(64,), activation="sigmoid", out_features=1)
paddle.summary(model, (1, 784))
imgs, labels = next(load_data("train", 100, seed=0)())
loss = get_loss("square_error_regression")
out = model(paddle.to_tensor(imgs))
print(f"untrained: squared error {float(loss.fn(out, paddle.to_tensor(labels))):.2f}, "
      f"first predictions {loss.predict(out).numpy()[:10]} for labels {labels[:10]}")

# %% [markdown]
# ## The assignment's net: sigmoid, squared error, one output unit
#
# Validation accuracy per epoch of every (learning rate, hidden units) point of the search, and the best
# validation accuracy of each point. **Look for:** regressing the digit as one number stays far below
# the softmax nets, however the grid is tuned; compare it with always answering the mean label, and
# check whether the best epoch is the last one (the run was still improving).

# %%
plot_assignment_search(rec["search"])

# %%
s = rec["search"]
c, e, b = s["choice"], s["eval"], s["baseline"]
per_seed = ", ".join(f"{pct(r['eval_acc'])} (seed {r['seed']})" for r in e.get("runs", []))
Markdown(f"Chosen on `valid` at seed {s.get('seed', 0)}: **lr {c['lr']:g}, {c['hidden']} hidden units, "
         f"{c['epochs']} epoch(s)** (valid {pct(c['valid_acc'])}, squared error {c['valid_loss']:.3f}); that point "
         f"trained from each seed and scored once on `eval`: **{pm(e['acc'], e.get('acc_std'))}** "
         f"({per_seed or 'one run'}; squared error {e['loss']:.3f}). Always answering the mean label "
         f"{b['mean_label']:.2f} scores {pct(b['valid_acc'])} on `valid` (squared error {b['valid_loss']:.2f}).")

# %% [markdown]
# ## Six numpy optimizers against source 004
#
# Training loss and validation error (log scales) every 500 iterations of the 784-300-300-10 ReLU net
# written in numpy, one line per optimizer: the mean over seeds, with a band of one standard deviation.
# **Look for:** which optimizers are still improving at the end (the curve has not flattened), and whether
# source 004's final test accuracy lies inside our spread over seeds (the report states each difference with
# its 95% interval).

# %%
plot_numpy_optimizers(rec)

# %%
lines = []
for variant, x in rec["summary"].items():
    r = next(r for r in rec["runs"] if r["variant"] == variant)
    ref = r.get("reference_test_acc")
    lines.append(f"- **{variant}** ({r['optimizer']} {r['lr']:g}, {r['init']} init, {r['planned_iterations']:,} "
                 f"iterations, {x['n_ok']}/{x['n_runs']} seeds ok): `eval` {pm(x['test_acc_mean'], x['test_acc_std'])}"
                 + (f" against source 004's {pct(ref)}" if ref else "")
                 + f", valid {pm(x['valid_acc_mean'], x['valid_acc_std'])}.")
pin = rec["settings"].get("numpy_pin") or {}
lines.append("\nPinned numpy environment of every job: "
             + (", ".join(f"`{k}={v}`" for k, v in pin.get("env", {}).items()) or "none (an older record)") + ".")
Markdown("\n".join(lines))
