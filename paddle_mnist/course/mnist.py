"""Handwritten digit recognition (MNIST) in plain PaddlePaddle: the coursework's solution as one script.

Read it top to bottom: the data (``load_data``), the two nets of the assignment
(``SoftmaxNet``, ``MLP``), one training epoch (``train``), the evaluation
(``test``) and ``main``, which ties them together. It uses nothing but Paddle,
numpy and the project's reader of ``data/mnist.json.gz`` (which parses the file
once and caches its arrays). The engine (``python -m paddle_mnist train ...``)
trains the same nets faster; ``tests/test_course_script.py`` checks that both
give the same numbers.

    python -m paddle_mnist.course --model mlp --epochs 10
"""
import argparse
import itertools

import numpy as np
import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from paddle_mnist.datafile.store import read_arrays


def load_data(mode="train", batch_size=100):
    """A generator function of ``(images float32 [B, 784], labels int64 [B])`` batches of one split.

    ``mode`` is ``"train"`` (50,000 images, reshuffled on every call, from numpy's
    random generator), ``"valid"`` or ``"eval"`` (10,000 images each, in file order).
    """
    images, labels = read_arrays()[mode]

    def data_generator():
        order = np.random.permutation(len(labels)) if mode == "train" else np.arange(len(labels))
        for start in range(0, len(labels), batch_size):
            batch = order[start:start + batch_size]
            yield images[batch], labels[batch]

    return data_generator


class SoftmaxNet(nn.Layer):
    """Multinomial logistic regression: one ``Linear(784, 10)``, 7,850 parameters.

    It returns logits: ``F.cross_entropy`` applies the softmax itself (a softmax
    here as well would apply it twice, the course's pitfall).
    """

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 10)

    def forward(self, x):
        return self.fc1(x)


class MLP(nn.Layer):
    """The assignment's fully connected net 784-200-200-10 with ReLU: 199,210 parameters. Returns logits."""

    def __init__(self, hidden=200):
        super().__init__()
        self.fc1 = nn.Linear(784, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.fc3 = nn.Linear(hidden, 10)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def train(model, opt, batches):
    """One pass over ``batches``: forward, loss, backward, step. Returns the mean training loss."""
    model.train()
    total, seen = 0.0, 0
    for images, labels in batches:
        logits = model(paddle.to_tensor(images))
        loss = F.cross_entropy(logits, paddle.to_tensor(labels))
        loss.backward()
        opt.step()
        opt.clear_grad()
        total += float(loss) * len(labels)
        seen += len(labels)
    return total / max(seen, 1)


def test(model, batches):
    """Mean loss and accuracy over ``batches``, in eval mode and without gradients."""
    model.eval()
    total, correct, seen = 0.0, 0, 0
    with paddle.no_grad():
        for images, labels in batches:
            logits = model(paddle.to_tensor(images))
            labels = paddle.to_tensor(labels)
            total += float(F.cross_entropy(logits, labels)) * len(labels)
            correct += int((paddle.argmax(logits, axis=-1) == labels).sum())
            seen += len(labels)
    return total / max(seen, 1), correct / max(seen, 1)


# The reference settings of each net (the report's headline runs): learning rate, epochs, schedule.
REFERENCE = {"softmax": (0.1, 20, "constant"), "mlp": (0.001, 10, "cosine")}


def make_optimizer(name, model, lr):
    """SGD for the softmax classifier, Adam for the MLP; ``lr`` a number or a schedule."""
    if name == "softmax":
        return paddle.optimizer.SGD(learning_rate=lr, parameters=model.parameters())
    return paddle.optimizer.Adam(learning_rate=lr, parameters=model.parameters())


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m paddle_mnist.course", description=(
        "Train a softmax classifier (SGD) or a 784-200-200-10 MLP (Adam) on MNIST with plain Paddle; print every "
        "epoch's valid accuracy and the final test accuracy."))
    parser.add_argument("--model", choices=["softmax", "mlp"], default="mlp", help="the net (default: mlp)")
    parser.add_argument("--epochs", type=int,
                        help="passes over the 50,000 training images (default: 20 for softmax, 10 for mlp)")
    parser.add_argument("--batch-size", type=int, default=100, help="images per step (default: 100)")
    parser.add_argument("--lr", type=float, help="learning rate (default: 0.1 for softmax, 0.001 for mlp)")
    parser.add_argument("--lr-schedule", choices=["constant", "cosine"],
                        help="cosine: decay the learning rate to 0 over the epochs, once per epoch "
                             "(default: constant for softmax, cosine for mlp)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the weights and batch order (default: 0)")
    parser.add_argument("--max-steps", type=int, default=0,
                        help="stop every epoch after this many steps, for a quick try (default: 0, no limit)")
    args = parser.parse_args(argv)
    for name, least in (("epochs", 1), ("batch_size", 1), ("lr", 1e-12), ("seed", 0), ("max_steps", 0)):
        value = getattr(args, name)
        if value is not None and value < least:
            parser.error(f"--{name.replace('_', '-')} must be {'positive' if least else '>= 0'}, got {value}")
    lr, epochs, schedule = REFERENCE[args.model]  # what was not given comes from the net's reference settings
    args.lr = lr if args.lr is None else args.lr
    args.epochs = epochs if args.epochs is None else args.epochs
    args.lr_schedule = args.lr_schedule or schedule
    return args


def main(argv=None):
    """Train ``--model`` for ``--epochs``, print each epoch's valid accuracy and the final test accuracy."""
    args = parse_args(argv)
    paddle.seed(args.seed)  # the initial weights
    np.random.seed(args.seed)  # the order of the training batches
    train_data, valid_data, test_data = (load_data(mode, args.batch_size) for mode in ("train", "valid", "eval"))
    model = SoftmaxNet() if args.model == "softmax" else MLP()
    lr = args.lr
    if args.lr_schedule == "cosine":
        lr = paddle.optimizer.lr.CosineAnnealingDecay(learning_rate=args.lr, T_max=args.epochs)
    opt = make_optimizer(args.model, model, lr)
    print(f"{args.model}: {sum(p.size for p in model.parameters()):,} parameters, {type(opt).__name__} lr {args.lr} "
          f"({args.lr_schedule}), {args.epochs} epochs, batch size {args.batch_size}, seed {args.seed}")
    for epoch in range(1, args.epochs + 1):
        train_loss = train(model, opt, itertools.islice(train_data(), args.max_steps or None))
        valid_loss, valid_acc = test(model, valid_data())
        print(f"epoch {epoch}: train loss {train_loss:.4f}, valid loss {valid_loss:.4f}, "
              f"valid accuracy {100 * valid_acc:.2f}%")
        if args.lr_schedule == "cosine":
            lr.step()
    test_loss, test_acc = test(model, test_data())
    print(f"test (eval split, 10,000 images): loss {test_loss:.4f}, accuracy {100 * test_acc:.2f}%")
    return test_acc
