"""The rule of each claim row as data: ``SPECS[id] = (kind, params)`` decides the row's own arm and
``SOURCE_SPECS[id]`` its source-arm twin (source 000's own setup, the ``course`` study), judged by ``rules.judge``.
Metrics are key paths into a run (``("history", "train_loss", -1)``) or names in ``rules.METRICS``; the pair
generators, facts, measurements and views the specs name are in ``claim_measures`` (the further optimizer rows'
in ``claim_rules_more``, 表1's in ``claim_rules_init``).

    python -c "from paddle_mnist.studies.claim_specs import SPECS; print(sorted({k for k, _ in SPECS.values()}))"
"""
from __future__ import annotations

from paddle_mnist.studies import claim_measures, claim_rules_more  # noqa: F401  (register the names specs use)
from paddle_mnist.studies.claim_rules import OTHER_RATE, SOURCE_DROPOUT
from paddle_mnist.studies.claim_rules_init import ACC as INIT_ACC, CHANCE, INIT_MISSING, LABEL, ROW
from paddle_mnist.studies.claim_rules_more import ACCELERATED, NUMPY_PRINTED
from paddle_mnist.studies.claim_rules_opt import OPT_MISSING, OPT_NAMES
from paddle_mnist.studies.claim_rules_timing import TIMING_MISSING
from paddle_mnist.studies.claim_rules_traj import TRAJ_MISSING
from paddle_mnist.studies.numpy_nets import SOURCE_004

TEST_ACC, FINAL_LOSS, EPOCH1_LOSS = "test_acc", ("history", "train_loss", -1), ("history", "train_loss", 0)
EPOCH1_VALID, VALID_LOSS = ("history", "valid_acc", 0), ("history", "valid_loss", -1)
RISES = "share of logged train losses after epoch 1 that rose from the previous one (oscillation)"
LOSS_MISSING = "the `loss` study (python -m paddle_mnist train loss)"
COURSE_MISSING = "the `course` study (python -m paddle_mnist train course)"
DROP_MISSING = "the `dropout` study (python -m paddle_mnist train dropout)"
PRACTICE_MISSING = "the `practice` study (python -m paddle_mnist train practice)"
PRACTICE_SEEDS = PRACTICE_MISSING + " with 2+ seeds"
SADDLE_MISSING = "the `trajectories` study's saddle runs (python -m paddle_mnist train trajectories)"


def _cmp(label, unit, metric, pairs, role="decide") -> dict:
    return {"label": label, "unit": unit, "metric": metric, "pairs": pairs, "role": role}


def _loss(course: bool, label: str, metric) -> tuple:
    others = ((("regression", "squared error (one-output regression)"),) if course else
              (("square_error_onehot", "squared error (one-hot)"),
               ("square_error_regression", "squared error (one-output regression)")))
    ce, missing = ("double_softmax", COURSE_MISSING) if course else ("cross_entropy", LOSS_MISSING)
    return ("diff", {"record": "course" if course else "loss", "missing": missing, "few": missing,
                     "setting": " (the one-output regressor at source 000's SGD lr 0.1)" if course else "",
                     "comparisons": [_cmp(label, "acc", metric, [(ce, "cross entropy", v, lab) for v, lab in others])]})


def _dropout(course: bool, label: str, unit: str, metric, drop_first: bool, test="above") -> tuple:
    """p = 0 against source 000's rate p = 0.5, which decides; every other rate's comparison is shown beside it, so
    the set of rates cannot move the verdict."""
    missing = COURSE_MISSING if course else DROP_MISSING
    return ("diff", {"record": "course" if course else "dropout", "part": course, "drop_first": drop_first,
                     "missing": missing, "test": test, "gate": "dropout", "comparisons": [
                         {**_cmp(label, unit, metric, "dropout"), "rates": "source",
                          "absent": f"{missing} with p = {SOURCE_DROPOUT:g} (source 000's rate)"},
                         {**_cmp(OTHER_RATE + label, unit, metric, "dropout", role="shown"), "rates": "others"}]})


def _opt(course: bool, a: str, b: str, label: str, unit: str, metric) -> tuple:
    name = {v: f"{OPT_NAMES[v.split('_')[0]]} {v.split('_')[1]}" for v in (a, b)}
    return ("diff", {"record": "course" if course else "optimizers", "missing": COURSE_MISSING if course else
                     OPT_MISSING, "comparisons": [_cmp(label, unit, metric, [(a, name[a], b, name[b])])]})


def _stuck(course: bool, variant: str) -> tuple:
    return ("share", {"record": "course" if course else "optimizers", "variant": variant, "unit": "loss",
                      "missing": COURSE_MISSING if course else OPT_MISSING, "metric": FINAL_LOSS,
                      "reference": ("iterations", "train_loss", 0), "factor": 0.9,
                      "label": "final-epoch train loss vs 0.9 x first logged loss"})


def _practice(comparisons, **kw) -> tuple:
    return ("diff", {"record": "practice", "missing": PRACTICE_MISSING, "few": PRACTICE_SEEDS,
                     "comparisons": comparisons, **kw})


def _ewa(key: str, a: str, b: str) -> tuple:
    """β ``a`` minus β ``b`` of the EWA runs' ``key`` (one run per seed holds every β)."""
    return ("ewa", f"β={a}", "ewa", f"β={b}", ("betas", a, key), ("betas", b, key))


def _both(course: bool) -> dict:
    """The rows judged on both arms, built for the done-right arm (``course=False``) or source 000's own setup."""
    return {
        "loss-speed": _loss(course, "valid accuracy after epoch 1", EPOCH1_VALID),
        "loss-acc": _loss(course, "test accuracy", TEST_ACC),
        "dropout-loss": _dropout(course, "final-epoch valid loss", "loss", VALID_LOSS, False),
        "dropout-overfit": _dropout(course, "valid-loss rise from its minimum to the last epoch", "loss",
                                    "valid_loss_rise", False),
        "dropout-generalise": _dropout(course, "test accuracy", "acc", TEST_ACC, True),
        "opt-sgd-small": _opt(course, "sgd_0.0001", "sgd_0.01", "final-epoch train loss", "loss", FINAL_LOSS),
        "opt-sgd-large": _opt(course, "sgd_0.9", "sgd_0.01", RISES, "share", "rise_share"),
        "opt-adagrad-rate": _opt(course, "adagrad_0.001", "adagrad_0.01", "test accuracy", "acc", TEST_ACC),
        "opt-adam-rate": _opt(course, "adam_0.001", "adam_0.01", "test accuracy", "acc", TEST_ACC),
        "opt-momentum": _opt(course, "sgd_0.01", "momentum_0.01", RISES, "share", "rise_share"),
        "opt-adagrad": _stuck(course, "adagrad_0.01"),
        "opt-adam": _stuck(course, "adam_0.01"),
        "dropout-speed": ("diff", {"few": TIMING_MISSING, "comparisons": [{"ratio": r} for r in (
            (("course p=0 / p=0.5", "p=0", "p=0.5 after fc1"),) if course else
            (("dropout p=0 / p=0.2", "p=0", "p=0.2"), ("dropout p=0 / p=0.5", "p=0", "p=0.5")))]}),
        "adadelta-lr0": ("exact", {"measure": "adadelta", "checks": [(
            ("textbook AdaDelta rule (no learning rate)" if course else "paddle.optimizer.Adadelta rule at lr=0")
            + ": largest parameter move after {steps} steps",
            "textbook_rule_max_move" if course else "paddle_rule_lr0_max_move", ">", 0.0)],
            "facts": () if course else (("textbook rule (no rate): largest parameter move",
                                         "textbook_rule_max_move", "raw"),)}),
    }


def _grid(course: bool, pick: str, label: str, rate=None) -> tuple:
    """"X suits": the grid's best minus the best under the claim, at most 1 point (``claim_rules.TUNING_MARGIN``)."""
    return ("diff", {"measure": "numpy_grid" if course else "hparams_grid", "pick": pick, "label": label,
                     "rate": rate, "test": "within"})


SOURCE_SPECS = _both(course=True)
SOURCE_SPECS["dropout-visible"] = _dropout(True, "valid-loss rise from its minimum to the last epoch", "loss",
                                           "valid_loss_rise", False, test="none_above")
SPECS = _both(course=False)
SPECS["dropout-visible"] = SOURCE_SPECS["dropout-visible"]  # judged on source 000's setup only
SOURCE_SPECS.update({
    "hp-lr": _grid(True, "source lr 0.1", "best at the source's lr 0.1 (0.05 in this net's units)"),
    "hp-hidden": _grid(True, "150-200 units", "best with 150-200 units (the grid has 200 only)")})
SPECS.update({
    "hp-lr": _grid(False, "lr 0.1", "best at lr 0.1", rate=0.1),
    "hp-hidden": _grid(False, "150-200 units", "best with 150-200 units"),
    "traj-sgd-zigzag": ("exact", {
        "measure": "traj_word", "name": "sgd", "rival": "momentum", "key": "y_flip_share",
        "checks": [("{name} lr {lr:g}: share of steps whose y move flips sign (zig-zag ≥ 0.5, straight < 0.2)",
                    "value", ">=", 0.5)], "fails": ("value", "<", 0.2),
        "facts": (("{rival} lr {rival_lr:g}, the same", "rival_value", "raw"),)}),
    "traj-momentum-smooth": ("exact", {
        "measure": "traj_word", "name": "momentum", "rival": "sgd", "key": "max_turn_deg",
        "checks": [("{name} lr {lr:g}: largest angle between consecutive steps, degrees (smooth ≤ 45, sudden > 90)",
                    "value", "<=", 45.0)], "fails": ("value", ">", 90.0),
        "facts": (("{rival} lr {rival_lr:g}, the same", "rival_value", "raw"),)}),
    "traj-rmsprop-small-lr": ("exact", {"measure": "rmsprop_small", "checks": [  # 003: "收敛也会快"
        ("(a) RMSProp lr {lr:g} ({steps} steps) faster than AdaGrad at the same lr ({adagrad_text})", "steps", "<",
         "adagrad"),
        ("(b) no slower than at least half of the four at their rates ({held} of {rivals})", "held", ">=", "half")],
        "facts": (("RMSProp lr 0.5, steps", "rmsprop", "raw"),)}),
    "opt-adagrad-decay": ("exact", {"measure": "adagrad_rates", "checks": [(
        "AdaGrad lr {lr:g}, " + axis + ": steps at which the effective rate rises (it falls from {first_" + axis
        + ":.3f} to {last_" + axis + ":.3f})", "rises_" + axis, "holds:falls_" + axis, 0) for axis in "xy"]}),
    "traj-momentum-overshoot": ("exact", {"measure": "overshoot", "checks": [
        ("Momentum's excursion past the centre, share of the start's distance from it", "excursion", "<=", 0.5),
        ("steps from crossing x = 0 to the farthest point past it (turning back)", "turn", "<=", 20)],
        "fails": ("excursion", ">", 0.5)}),  # at most half the start's distance past, back within 003's 20 steps
    "traj-steps-005": ("rank", {  # 003 §3.2: 107 < 128 < 130 < 148 steps
        "measure": "traj_steps", "order": ("adam", "momentum", "rmsprop", "sgd"),
        "label": "{a} (lr {la:g}) needs fewer steps to z ≤ {target:g} than {b} (lr {lb:g}): {na} vs {nb}",
        "never": "{name}: never within {max_steps:,} steps",
        "fact": "{name}: ours {ours} steps, source 003's (its linear regression) {source}"}),
    "opt-adam-fastest": ("diff", {
        "record": "optimizers", "stage": "tuned", "missing": OPT_MISSING + " (its tuned stage)",
        "few": OPT_MISSING + " with 2+ seeds", "comparisons": [
            _cmp("train loss after epoch 1 (tuned)", "loss", EPOCH1_LOSS, "tuned_vs_adam"),
            _cmp("test accuracy (tuned)", "acc", TEST_ACC, "adam_vs_best", role="guard")]}),
    "opt-advanced": ("diff", {
        "record": "optimizers", "stage": "tuned", "missing": OPT_MISSING + " (its tuned stage)", "test": "any_above",
        "few": OPT_MISSING + " with 2+ seeds", "comparisons": [
            _cmp("test accuracy (tuned)", "acc", TEST_ACC, "tuned_vs_adam")]}),
    "opt-momentum-saddle": ("diff", {
        "view": "saddle", "missing": SADDLE_MISSING, "few": SADDLE_MISSING + " with 2+ seeds", "facts": ("on_axis",),
        "comparisons": [_cmp("steps to get farther than {radius:g} from the saddle (never: {max_steps:,})", "raw",
                             "escape", [("sgd", "SGD", "momentum", "Momentum")]),
                        _cmp("distance from the saddle after {steps} steps", "raw", "distance",
                             [("momentum", "Momentum", "sgd", "SGD")])]}),
    "gd-batch": _practice([  # 002 §3-5: batch size 50,000 (batch), 100 (mini-batch), 1 (stochastic)
        _cmp("train loss after the CPU seconds mini-batch needs for one epoch (timing benchmark)", "loss",
             "loss_at_mini_epoch", [("gd-batch", "batch", "gd-mini-batch", "mini-batch"),
                                    ("gd-stochastic", "stochastic", "gd-mini-batch", "mini-batch")]),
        {"ratio": ("stochastic / mini-batch", "stochastic", "mini-batch")},
        _cmp("jitter (mean absolute second difference of the per-step batch losses, second half of the steps)",
             "loss", "jitter", [("gd-stochastic", "stochastic", "gd-mini-batch", "mini-batch"),
                                ("gd-mini-batch", "mini-batch", "gd-batch", "batch")])],
        view="gd", facts=("gd_facts",), requires=(("timing", ("ratios", "batch / mini-batch"), TIMING_MISSING),)),
    "hp-kfold": _practice([
        _cmp("test accuracy of the final model", "acc", None, [(
            "kfold", "5-fold CV (retrained on the whole subset)", "kfold", "held-out split (trained without it)",
            "kfold_test_acc", "holdout_test_acc")], role="guard"),
        _cmp("test accuracy of the chosen rate, both retrained on the whole subset", "acc", None, [(
            "kfold", "5-fold choice", "kfold", "hold-out choice", "kfold_test_acc", "holdout_refit_test_acc")],
            role="shown")], facts=("kfold_choices",)),
    "ewa-smooth": _practice([
        _cmp("roughness (mean absolute day-to-day change of the average, °F)", "raw", None,
             [_ewa("roughness", "0.5", "0.9"), _ewa("roughness", "0.9", "0.98")]),
        _cmp("lag behind the noise-free curve (days)", "raw", None,
             [_ewa("lag", "0.9", "0.5"), _ewa("lag", "0.98", "0.9")])]),
    "ewa-bias": _practice([_cmp(f"β={b}: mean absolute error of the first 10 values (°F)", "raw", None, [(
        "ewa", "uncorrected", "ewa", "corrected", ("betas", b, "first_error"), ("betas", b, "first_error_corrected"))])
        for b in ("0.5", "0.9", "0.98")]),
    "lr-decay": _practice([
        _cmp("final train loss (whole train split)", "loss", "final_train_loss",
             [("lr-constant", "constant rate", "lr-decayed", "decayed rate")]),
        _cmp("test accuracy", "acc", "test_acc", [("lr-decayed", "decayed rate", "lr-constant", "constant rate")],
             role="shown")], condition="plateau"),
    "input-standardise": _practice([
        _cmp("gradient imbalance (absolute log10 of RMS grad of fc1 over RMS grad of the last layer, first steps)",
             "raw", "imbalance", [("input-raw", "raw inputs", "input-standardised", "standardised")]),
        _cmp("train loss after the fixed budget", "loss", "final_train_loss",
             [("input-raw", "raw inputs", "input-standardised", "standardised")], role="shown")],
        facts=("max_standardised_pixel",)),
    "save-restore": ("exact", {
        "measure": "save_restore", "checks": [(
            "largest absolute output difference over {n_images} eval images, exported whole net vs dygraph net "
            "from its parameters", "max_abs_diff", "holds:agree", "tolerance")],
        "facts": (("identical predicted labels", "same_predictions", "raw"),),
        "missing": "save_restore (python -c 'from paddle_mnist.apps.persistence import measure_save_restore; "
                   "measure_save_restore()')"}),
    "numpy-adam": ("one_sample", {
        "record": "numpy", "variant": "adam", "metric": TEST_ACC, "label": "test accuracy", "unit": "acc",
        "a_label": "numpy Adam 0.001", "b_label": "source 004 (one run)", "figure": SOURCE_004["adam"],
        "spread": "std of our test accuracy over seeds",
        "missing": "the `numpy` study over at least 2 seeds (python -m paddle_mnist train numpy)"}),
})


def _printed(variant: str, optimizer: str, lr: float, init: str = "Xavier weights") -> tuple:
    """Source 004's one printed run for ``optimizer``, reached (at most ``margin`` below, or above) by our seeds."""
    return ("one_sample", {
        "record": "numpy", "variant": variant, "metric": TEST_ACC, "label": "test accuracy", "unit": "acc",
        "a_label": f"numpy {OPT_NAMES.get(optimizer, optimizer.title())} {lr:g} ({init})", "margin": 0.01,
        "b_label": "source 004 (one run)", "figure": SOURCE_004[optimizer], "spread": "std of our test accuracy over "
        "seeds", "missing": "the `numpy` study over at least 2 seeds (python -m paddle_mnist train numpy)"})


INIT = {"record": "init", "missing": INIT_MISSING, "few": INIT_MISSING + " at 2+ seeds",
        "setting": " (SGD 0.1, one epoch)"}


def _trains(row: int) -> tuple:
    """表1's 可以: the row's net above the eval split's majority class after one epoch, beyond seed noise."""
    return ("one_sample", {**INIT, "variant": ROW[row], "metric": TEST_ACC, "label": INIT_ACC, "unit": "acc",
                           "a_label": LABEL[row], "b_label": "the majority class (chance)", "figure": CHANCE,
                           "test": "above", "trained_first": True})


SPECS.update({
    "sgd-no-acceleration": ("diff", {
        "record": "optimizers", "stage": "tuned", "missing": OPT_MISSING + " (its tuned stage)",
        "few": OPT_MISSING + " with 2+ seeds", "facts": ("rate_001",), "comparisons": [
            _cmp("train loss after epoch 1 (each optimizer at its tuned rate)", "loss", EPOCH1_LOSS,
                 "sgd_vs_accelerated")]}),
    "plateau-escape": ("diff", {
        "view": "plateau", "missing": TRAJ_MISSING + ", its plateau part", "few": TRAJ_MISSING + " with 2+ starts",
        "facts": ("never_left",), "comparisons": [_cmp(
            "steps to get farther than {radius:g} from the saddle, all at lr {lr:g} (never: {max_steps:,})", "raw",
            "escape", [("sgd", "gradient descent", n, OPT_NAMES[n]) for n in ACCELERATED])]}),
    "momentum-damps": ("exact", {"measure": "zigzag_damping", "arises": "arises", "checks": [(
        "lr {rate:g}: share of steps whose y move flips sign, 002's Momentum (highest over the {starts} starts) vs "
        "gradient descent (lowest)", "momentum_max", "<", "gd_min", "share")]}),  # untestable: no zig-zag to damp
    "standardise-speed": _practice([_cmp(
        "train loss after the fixed budget of steps (every 10th training image)", "loss", "final_train_loss",
        [("input-raw", "raw inputs", "input-standardised", "standardised")])]),
    **{i: _printed(*row) for i, row in NUMPY_PRINTED.items()},
    "batch-pow2-speed": ("diff", {"measure": "pow2", "test": "groups"}),
    "save-params-speed": ("diff", {"measure": "save_speed"}),  # the bytes a guard: a larger file contradicts
    "init-1layer-zero": _trains(1), "init-2layer-random": _trains(3),
    # 表1 rows 4-7: per-seed activation checks with a comparison of accuracies (claim_rules_init's measurements)
    "init-multi-sigmoid": ("diff", {"measure": "init_sigmoid", "per_seed": True}),
    "init-multi-tanh-xavier": ("diff", {"measure": "init_correct", "row": 5, "per_seed": True}),
    "init-multi-relu-xavier": ("diff", {"measure": "init_relu_xavier", "per_seed": True}),
    "init-multi-relu-msra": ("diff", {"measure": "init_correct", "row": 7, "per_seed": True}),
    "init-2layer-zero": ("diff", {  # 错误: below the same net from N(0, 1) weights; its gap to chance a fact
        **INIT, "gate": [(ROW[2], "", ROW[3], "")], "facts": ("zero_vs_chance",), "comparisons": [
            _cmp(INIT_ACC, "acc", TEST_ACC, [(ROW[3], LABEL[3], ROW[2], LABEL[2])])]}),
})
# Momentum from source 004's own initial weights (the record's ``momentum-init0.01`` runs): the row's source arm
SOURCE_SPECS["numpy-momentum"] = _printed("momentum-init0.01", "momentum", 0.001, "source 004's N(0, 0.01) weights")
