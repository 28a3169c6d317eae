"""The two headline models: the softmax classifier (1.2.1 / 2.3) and the three-layer MLP (1.2.2 / 2.4).

    python -m paddle_mnist train softmax --quick --dry-run
"""
from __future__ import annotations

from paddle_mnist.engine.config import TrainConfig
from paddle_mnist.engine.experiment import Experiment
from paddle_mnist.studies.registry import register


@register
def softmax() -> Experiment:
    return Experiment(
        name="softmax", title="Softmax classifier", section="1.2.1 / 2.3",
        base=TrainConfig(model="softmax", optimizer="sgd", lr=0.1, epochs=20, batch_size=100),
        headline=True,
        description="Multinomial logistic regression (one Linear(784, 10)), cross entropy on logits, SGD 0.1.",
    )


@register
def mlp() -> Experiment:
    return Experiment(
        name="mlp", title="Three-layer fully connected net", section="1.2.2 / 2.4",
        base=TrainConfig(model="mlp", hidden=(200, 200), activation="relu", optimizer="adam", lr=1e-3,
                         epochs=10, batch_size=100),  # source 000's training configuration (§2.6): 10 epochs
        variants=(("adam", {}), ("adam-cosine", {"lr_schedule": "cosine"})),
        headline=True,
        description="784-200-200-10 ReLU MLP, cross entropy on logits, Adam 1e-3 with a constant learning rate "
                    "and with a per-epoch cosine decay to 0; the variant with the better mean valid accuracy is "
                    "the headline.",
    )
