"""The experiment registry: experiments are data (frozen dataclasses), not scripts.

Each ``Experiment`` names a base ``TrainConfig``, its variants (overrides applied
with ``dataclasses.replace``), its seeds and its ``--quick`` settings. One engine
(``engine.fit``) runs them all; ``runner.run_experiment`` records the results.

    python -m paddle_mnist list
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from .config import TrainConfig

QUICK = {"epochs": 2, "train_subset": 5000, "valid_subset": 2000}


@dataclass(frozen=True)
class Experiment:
    name: str
    title: str
    section: str  # the assignment section it reproduces
    base: TrainConfig
    variants: tuple = (("default", {}),)  # (label, overrides) pairs
    seeds: tuple = (0, 1, 2)
    quick: dict = field(default_factory=lambda: dict(QUICK))
    headline: bool = False  # copy the best model to reports/models/<name>.pdparams
    description: str = ""
    # "module:function" for experiments that are not a grid of engine runs (numpy, trajectories, ...):
    # called as function(exp, seeds=..., quick=..., runs_dir=..., workers=...) -> list of run records
    custom: str = ""
    # "module:function" called after the runs as function(exp, runs, quick=...) -> dict merged into the
    # record (e.g. a tuning step that picks the best variant on valid, then scores it)
    post: str = ""

    def configs(self, seeds=None, quick: bool = False, overrides: dict | None = None):
        """``(run_name, label, TrainConfig)`` for every variant x seed."""
        seeds = tuple(seeds) if seeds else (self.seeds[:1] if quick else self.seeds)
        out = []
        for label, variant in self.variants:
            cfg = dataclasses.replace(self.base, **variant)
            if quick:
                cfg = dataclasses.replace(cfg, **self.quick)
            if overrides:
                cfg = dataclasses.replace(cfg, **overrides)
            for seed in seeds:
                out.append((f"{label}-seed{seed}", label, dataclasses.replace(cfg, seed=seed)))
        return out


EXPERIMENTS = {
    "softmax": Experiment(
        name="softmax", title="Softmax classifier", section="1.2.1 / 2.3",
        base=TrainConfig(model="softmax", optimizer="sgd", lr=0.1, epochs=20, batch_size=100),
        headline=True,
        description="Multinomial logistic regression (one Linear(784, 10)), cross entropy on logits, SGD 0.1.",
    ),
    "mlp": Experiment(
        name="mlp", title="Three-layer fully connected net", section="1.2.2 / 2.4",
        base=TrainConfig(model="mlp", hidden=(200, 200), activation="relu", optimizer="adam", lr=1e-3,
                         epochs=20, batch_size=100),
        variants=(("adam", {}), ("adam-cosine", {"lr_schedule": "cosine"})),
        headline=True,
        description="784-200-200-10 ReLU MLP, cross entropy on logits, Adam 1e-3 with a constant learning rate "
                    "and with a per-epoch cosine decay to 0; the variant with the better mean valid accuracy is "
                    "the headline.",
    ),
    "loss": Experiment(
        name="loss", title="Loss functions: cross entropy vs squared error", section="2.6.1-2.6.2",
        base=TrainConfig(model="mlp", hidden=(200, 200), optimizer="adam", lr=1e-3, lr_schedule="cosine", epochs=20,
                         histograms=False),
        variants=(
            ("cross_entropy", {}),
            ("square_error_onehot", {"loss": "square_error_onehot"}),
            ("square_error_regression", {"loss": "square_error_regression", "out_features": 1}),
            ("double_softmax", {"double_softmax": True}),
            ("regression_sgd_0.1", {"loss": "square_error_regression", "out_features": 1, "optimizer": "sgd",
                                    "lr": 0.1}),
        ),
        quick=dict(QUICK, log_every=10),
        post="studies:loss_post",
        description="784-200-200 ReLU MLP trained with the headline MLP's recipe (Adam 1e-3 with a per-epoch cosine "
                    "decay, batch 100, 20 epochs); only the loss (and the output layer it "
                    "needs) changes: cross entropy on logits; square_error_cost between softmax probabilities and "
                    "one-hot targets; the assignment's single output unit regressing the digit value (accuracy by "
                    "rounding and clipping to 0-9); the course's double softmax (softmax in forward, then "
                    "F.cross_entropy). A fifth variant runs the regressor with the report's SGD at lr 0.1.",
    ),
    "dropout": Experiment(
        name="dropout", title="Dropout regularisation", section="2.6.3-2.6.4",
        base=TrainConfig(model="mlp", hidden=(200, 200), optimizer="adam", lr=1e-3, epochs=20, histograms=False),
        variants=(("dropout_0", {"dropout": 0.0}), ("dropout_0.2", {"dropout": 0.2}),
                  ("dropout_0.5", {"dropout": 0.5})),
        quick=dict(QUICK, log_every=10),
        post="studies:dropout_post",
        description="784-200-200-10 ReLU MLP with dropout after each hidden layer at p = 0, 0.2 and 0.5; cross "
                    "entropy, Adam 1e-3, batch 100, 20 epochs (long enough for the net without dropout to overfit).",
    ),
    "optimizers": Experiment(
        name="optimizers", title="Optimizers: SGD, Momentum, Adagrad, RMSProp, Adam", section="2.7",
        base=TrainConfig(model="mlp", hidden=(200, 200), optimizer="sgd", lr=0.01, momentum=0.9, epochs=5,
                         histograms=False),
        variants=(
            ("sgd_0.01", {"optimizer": "sgd", "lr": 0.01}),
            ("sgd_0.0001", {"optimizer": "sgd", "lr": 0.0001}),
            ("sgd_0.9", {"optimizer": "sgd", "lr": 0.9}),
            ("momentum_0.01", {"optimizer": "momentum", "lr": 0.01}),
            ("adagrad_0.01", {"optimizer": "adagrad", "lr": 0.01}),
            ("adagrad_0.001", {"optimizer": "adagrad", "lr": 0.001}),
            ("adam_0.001", {"optimizer": "adam", "lr": 0.001}),
            ("adam_0.01", {"optimizer": "adam", "lr": 0.01}),
            ("rmsprop_0.001", {"optimizer": "rmsprop", "lr": 0.001}),
        ),
        quick=dict(QUICK, log_every=10),
        custom="studies:optimizers_run",
        post="studies:optimizers_post",
        description="784-200-200-10 ReLU MLP, cross entropy, batch 100, 5 epochs: the report's settings (SGD 0.01, "
                    "0.0001, 0.9; Momentum 0.01 with momentum 0.9; Adagrad 0.01, 0.001; Adam 0.001, 0.01) plus "
                    "RMSProp 0.001; then per optimizer a one-seed sweep over a log grid of learning rates (2 epochs, "
                    "valid only) and the rate with the best valid accuracy run over every seed.",
    ),
    "hparams": Experiment(
        name="hparams", title="Hyperparameter tuning on the validation split", section="2.2",
        base=TrainConfig(model="mlp", hidden=(200, 200), optimizer="sgd", lr=0.1, epochs=3, histograms=False),
        variants=(("chosen", {}),),
        quick=dict(QUICK, log_every=10),
        custom="studies:hparams_run",
        post="studies:hparams_post",
        description="ReLU MLP with two equal hidden layers, cross entropy, SGD, batch 100. One seed: learning rate "
                    "0.01-1 at 100, 200 and 400 hidden units, then hidden units 50-700 by 50 at the best rate, each "
                    "run up to 3 epochs; (learning rate, hidden units, epochs) is chosen by valid accuracy alone "
                    "(epochs = the best epoch of the run's valid curve), then trained over every seed and scored "
                    "once on eval.",
    ),
    "numpy": Experiment(
        name="numpy", title="The numpy nets: the assignment's sigmoid regressor and six numpy optimizers",
        section="1.2.2 (numpy) / seed 004",
        base=TrainConfig(model="mlp", hidden=(300, 300), optimizer="adam", lr=1e-3, batch_size=100),
        seeds=(0,),
        custom="numpy_study:numpy_runs",
        post="numpy_study:numpy_post",
        description="Numpy from scratch, float32. (a) The 784-300-300-10 ReLU net with softmax cross entropy, "
                    "batch 100, 10,000 iterations (20 epochs), trained with each numpy optimizer at seed 004's "
                    "learning rates (SGD 0.1, the others 0.001), plus Momentum from seed 004's N(0, 0.01) weights; "
                    "valid and eval scored once at the end. (b) The assignment's net (sigmoid hidden layers, one "
                    "output unit regressing the digit, squared error, SGD, batch 20): learning rate x hidden "
                    "units x epochs chosen on valid, the chosen point scored once on eval.",
    ),
    "trajectories": Experiment(
        name="trajectories", title="Optimizer trajectories on z = x^2/10 + y^2", section="seed 003",
        base=TrainConfig(), seeds=(),
        custom="numpy_study:trajectories_runs",
        post="numpy_study:trajectories_post",
        description="20 steps from (-7, 2) on the toy loss z = x^2/10 + y^2 with SGD 0.95, Momentum 0.1, "
                    "Nesterov 0.1, AdaGrad 1.5, RMSProp 0.5 and Adam 0.5 (Paddle's other defaults), once with the "
                    "numpy optimizers and once with paddle.optimizer on a 2-parameter float64 layer.",
    ),
    "init": Experiment(
        name="init", title="Weight initialisation: zero, N(0, 1), N(0, 0.01), Xavier, MSRA", section="seed 003",
        base=TrainConfig(model="mlp", hidden=(100, 100, 100, 100, 100), optimizer="sgd", lr=0.1, epochs=1,
                         max_steps=500, histograms=False),
        seeds=(0,),
        custom="numpy_study:init_runs",
        post="numpy_study:init_post",
        description="784-100x5-10 MLPs with sigmoid, tanh or ReLU hidden layers and zero, N(0, 1), N(0, 0.01), "
                    "Xavier (normal) or MSRA/He (normal) weights, biases zero: activation histograms of every "
                    "hidden layer at initialisation on 1,000 training images, and accuracy after one epoch "
                    "(500 steps of batch 100) with SGD 0.1 and with Adam 0.001.",
    ),
}


def get_experiment(name: str) -> Experiment:
    if name not in EXPERIMENTS:
        from .errors import PaddleMnistError

        raise PaddleMnistError(f"unknown experiment {name!r}; choose from {', '.join(EXPERIMENTS)}")
    return EXPERIMENTS[name]
