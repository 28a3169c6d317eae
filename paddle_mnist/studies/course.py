"""The course arm: source 000's own model and settings for §2.6 and §2.7, so its claims are judged as it ran them.

Source 000 §2.6 trains a 784-200-200-10 ReLU net that ends in ``F.softmax`` and is
trained with ``F.cross_entropy`` (which applies softmax again: the double softmax),
"学习率: 0.1, epoch: 10" with SGD (its §2.7 code), batch 100 (``load_data``'s
default). Its §2.6.2 regressor has one output unit and ``square_error_cost`` on the
float labels; its §2.6.3 net has one ``Dropout`` after ``fc1`` (``dropout_prob``
is not given: Paddle's default p = 0.5 here). Its §2.7 runs SGD 0.01 / 0.0001 /
0.9, Momentum 0.01, Adagrad 0.01 / 0.001 and Adam 0.001 / 0.01 on that model; it
names no epoch count there, so those runs take the 5 epochs of the done-right arm
(``optimizers``), which then differs from this one by the double softmax alone.
The variant ``logits`` is the source's 2.6 model with only the double softmax fixed.
The done-right arms are the ``loss``, ``dropout`` and ``optimizers`` studies.

    python -m paddle_mnist train course --quick --dry-run
"""
from __future__ import annotations

from paddle_mnist.engine.config import TrainConfig
from paddle_mnist.engine.experiment import QUICK, Experiment
from paddle_mnist.studies.dropout import dropout_analysis
from paddle_mnist.studies.loss import loss_analysis, loss_reference
from paddle_mnist.studies.optimizers import SOURCE_000_SETTINGS
from paddle_mnist.studies.registry import register
from paddle_mnist.studies.stats import run_summary, variants_in

SEEDS = (0, 1, 2, 3, 4)
LOSS_PART = ("double_softmax", "logits", "regression")  # §2.6.1-2.6.2
DROPOUT_PART = ("double_softmax", "dropout_fc1")  # §2.6.3-2.6.4
OPTIMIZER_EPOCHS = 5  # §2.7 gives none; the done-right arm's
OPTIMIZER_PART = SOURCE_000_SETTINGS  # §2.7, on the double-softmax model


def course_analysis(runs: list[dict]) -> dict:
    """The three parts' statistics, each as its done-right study computes them (same keys)."""
    def part(names):
        return [r for r in runs if r["variant"] in names]

    opt_names = {label for label, _ in OPTIMIZER_PART}
    return {"loss": loss_analysis(part(LOSS_PART)), "dropout": dropout_analysis(part(DROPOUT_PART)),
            "optimizers": {v: run_summary([r for r in runs if r["variant"] == v])
                           for v in variants_in(part(opt_names))}}


def course_post(exp, runs, s) -> dict:
    return {"analysis": course_analysis(runs), "reference": loss_reference(runs)}


@register
def course() -> Experiment:
    return Experiment(
        name="course", title="As the course ran it: source 000's model and settings", section="2.6-2.7 (source 000)",
        base=TrainConfig(model="mlp", hidden=(200, 200), activation="relu", double_softmax=True, optimizer="sgd",
                         lr=0.1, momentum=0.9, epochs=10, batch_size=100, histograms=False),
        variants=(
            ("double_softmax", {}),
            ("logits", {"double_softmax": False}),
            ("regression", {"double_softmax": False, "loss": "square_error_regression", "out_features": 1}),
            ("dropout_fc1", {"dropout": 0.5, "dropout_after": "fc1"}),
            *((label, {**v, "epochs": OPTIMIZER_EPOCHS}) for label, v in OPTIMIZER_PART),
        ),
        seeds=SEEDS,
        quick=dict(QUICK, log_every=10),
        analyse=course_post,
        description="Source 000's own setup: 784-200-200-10 ReLU net with softmax in `forward` and `F.cross_entropy` "
                    "(double softmax), SGD lr 0.1, batch 100, 10 epochs (§2.6: `double_softmax`); the same with "
                    "logits (`logits`, the bug alone fixed); its one-output regressor, `square_error_cost` on the "
                    "float digit labels, no softmax (`regression`); one Dropout after fc1, p = 0.5 (`dropout_fc1`); "
                    "and §2.7's optimizer settings on the double-softmax model for 5 epochs (§2.7 names none).",
    )


def part_record(record: dict, part: str) -> dict:
    """The course record cut to one part (``loss``, ``dropout``, ``optimizers``), shaped like that done-right study's.

    The optimizer part's runs are marked ``stage: report`` (the report's settings), as in ``optimizers``.
    """
    names = {"loss": LOSS_PART, "dropout": DROPOUT_PART, "optimizers": tuple(v for v, _ in OPTIMIZER_PART)}[part]
    runs = [dict(r, stage="report") if part == "optimizers" else r for r in record["runs"] if r["variant"] in names]
    return {**record, "runs": runs, "analysis": record["analysis"][part],
            "summary": {k: v for k, v in record.get("summary", {}).items() if k in names}}
