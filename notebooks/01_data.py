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
# # 1.1 Data exploration
#
# What `data/mnist.json.gz` holds: the split, a grid of samples, the class balance and pixel statistics.
# Every number is computed from the file (or read from `reports/results/data.json`, written by
# `python -m paddle_mnist reproduce`); the figures are drawn by `paddle_mnist.apps.notebooks`.
#
# This notebook is the `.ipynb` twin of `notebooks/01_data.py` (jupytext `py:percent`, the source of truth).

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
from paddle_mnist.datafile.store import read_arrays

summary = nh.data_summary()
arrays = read_arrays()
n = {mode: s["n"] for mode, s in summary["splits"].items()}

# %% [markdown]
# ## The course's data API in Paddle code
#
# `load_data(mode, batch_size)` returns a generator function, as in the course: each call yields
# `(images, labels)` batches, float32 `[B, 784]` in [0, 1] and int64 `[B]`; `train` is reshuffled on every
# call, `valid` and `eval` keep file order. This is the loader every run in this project trains on.

# %%
from paddle_mnist import load_data

train_loader = load_data("train", batch_size=100, seed=0)  # seed: the same batches on every run
imgs, labels = next(train_loader())
print(f"one batch: images {imgs.shape} {imgs.dtype} in [{imgs.min():.0f}, {imgs.max():.0f}], "
      f"labels {labels.shape} {labels.dtype}: {labels[:10]}")
print(f"batches per epoch: train {sum(1 for _ in train_loader())}, valid {sum(1 for _ in load_data('valid', 100)())}")

# %% [markdown]
# ## The split
#
# The bar shows how the 70,000 images are divided. **Look for:** `eval` is the official test set and is
# only scored once per run with the checkpoint chosen on `valid`; nothing (epochs, variants,
# hyperparameters) is ever chosen on it.

# %%
nh.plot_split(summary)

# %%
Markdown(f"`{summary['file']}` (md5 `{summary['md5']}`, {summary['bytes'] / 1e6:.1f} MB) holds "
         f"**{sum(n.values()):,}** images: **{n['train']:,}** `train`, **{n['valid']:,}** `valid` and "
         f"**{n['eval']:,}** `eval`.\n\n" + nh.split_table(summary))

# %% [markdown]
# ## Samples
#
# The first ten training images of each digit, one row per label (ink drawn dark). **Look for:** the
# variety of slant, stroke width and style within a class, and the pairs a pixel-wise classifier will
# confuse (4/9, 3/5/8, 7/1).

# %%
nh.plot_sample_grid(arrays, "train", per_class=10)

# %%
x_train = arrays["train"][0]
Markdown(f"Each image is 28 x 28 = {x_train.shape[1]} grey levels in "
         f"[{float(x_train.min()):.1f}, {float(x_train.max()):.1f}] (0 = background), stored as float32.")

# %% [markdown]
# ## Class balance
#
# The share of each digit in every split, against a uniform 10%. **Look for:** the classes are close to
# balanced, so plain accuracy is a fair summary; the spread is the same in all three splits.

# %%
nh.plot_class_balance(summary)

# %%
bal = {mode: nh.balance_facts(summary, mode) for mode in summary["splits"]}
t = bal["train"]
Markdown(f"In `train` the most frequent digit is **{t['most']}** ({100 * t['most_share']:.2f}%) and the "
         f"least frequent **{t['least']}** ({100 * t['least_share']:.2f}%), a ratio of {t['ratio']:.2f}. "
         + " ".join(f"In `{m}`: most {b['most']} ({100 * b['most_share']:.2f}%), least {b['least']} "
                    f"({100 * b['least_share']:.2f}%)." for m, b in bal.items() if m != "train"))

# %% [markdown]
# ## Pixel statistics
#
# Per-pixel mean and standard deviation over the training images, and the distribution of all pixel
# values (log scale). **Look for:** the ink sits in the centre (the digits were centred by centre of
# mass in a 20 x 20 box), the border pixels are always 0, and almost all values are exactly 0 or close
# to 1, so the inputs are nearly binary and need no further normalisation for these models.

# %%
nh.plot_pixel_statistics(arrays, "train")

# %%
tr = summary["splits"]["train"]
never = int((x_train.max(axis=0) == 0).sum())
Markdown(f"Over `train` the mean pixel is **{tr['pixel_mean']:.4f}** with standard deviation "
         f"**{tr['pixel_std']:.4f}**; **{100 * tr['ink_fraction']:.1f}%** of pixels are above 0.5 (ink). "
         f"{never} of the 784 pixel positions are 0 in every training image. The `valid` and `eval` means "
         f"({summary['splits']['valid']['pixel_mean']:.4f}, {summary['splits']['eval']['pixel_mean']:.4f}) "
         "match, so the three splits come from the same distribution.")
