"""The claim records of the seed documents (data only): id, seed, section, original words, translation, condition,
metric and decision rule; ``pending`` names the experiment that would decide a claim not measured yet.

``studies.claims`` attaches each record's decide function. Chinese originals are quoted verbatim from
/work/shared/seeds/000_*.txt, 002_*.txt and 003_*.txt.

    python -c "from paddle_mnist.studies.claims_table import TABLE; print([r['id'] for r in TABLE])"
"""
from __future__ import annotations

WELCH = ("the 95% Welch t interval over seeds of the difference of means; reproduced if it lies above 0, "
         "contradicted if below, otherwise inconclusive (within seed noise)")
C000_26 = ("seed 000's model: softmax in forward then F.cross_entropy (double softmax), SGD lr 0.1, 10 epochs, "
           "batch 100; judged here on the done-right arm: logits, Adam 1e-3, 20 epochs")
C000_264 = ("seed 000's model with one Dropout after fc1, SGD lr 0.1, 10 epochs, batch 100; judged here on the "
            "done-right arm: p = 0 / 0.2 / 0.5 after both hidden layers, Adam 1e-3, 20 epochs")
C000_27 = ("seed 000's model (double softmax), 784-200-200-10, the optimizers at the stated rates; judged here on "
           "the done-right arm: logits, 5 epochs, batch 100, the same rates")
C000_22 = "seed 000's numpy/Paddle MLP tuned on the validation split; here the `hparams` grid (SGD, 3 epochs)"
COURSE = "the course arm: seed 000's own model and settings (double softmax, SGD lr 0.1, 10 epochs, batch 100)"
SAME_ADAGRAD = "左图对应的学习率为 0.01 , 可以看到loss没有下降"
ADAM_000 = "左图为 Adam 优化器学习率为0.001, 右图为 Adam 学习率为0.01 / 和Adagrad是一样的问题,同时也说明它的更新效果好,可以用更好的学习率"
LR_HIDDEN = "对于手写数字识别, 学习率 0.1 , 节点数量 150-200 比较合适。"
OVERFIT = "减少过拟合:不过在这个实验上看不出来。"
STUCK_RULE = ("per seed: the loss did not fall if the final-epoch train loss is at least 0.9 x the first logged "
              "loss (or the run diverged); reproduced if that holds in every seed, contradicted if in none, "
              "otherwise inconclusive")
GRID_RULE = ("the grid's best valid accuracy minus the best under the claim; grid points are single runs, their "
             "spread is the chosen setting's valid std over its seeds (t with n-1 df); reproduced if the 95% "
             "interval contains 0 (no worse beyond seed noise), contradicted if it lies above 0")


def _r(id, seed, section, original, translation, condition, metric, rule, pending=None):
    return {"id": id, "seed": seed, "section": section, "original": original, "translation": translation,
            "condition": condition, "metric": metric, "rule": rule, "pending": pending}


TABLE = (
    _r("loss-speed", "000", "§2.6.2", "由于不同的损失量纲,看数值是不行的,但是看**收敛速度**,交叉熵损失函数更快。",
       "Cross entropy converges faster than squared error.", C000_26,
       "valid accuracy after epoch 1: cross entropy minus squared error (one-hot, and the one-output regressor)",
       "both differences, each by " + WELCH),
    _r("loss-acc", "000", "§2.6.2", "对于准确率,由于交叉熵使用softmax回归,使得结果更准确。",
       "Cross entropy gives a higher accuracy than squared error.", C000_26,
       "test accuracy: cross entropy minus squared error (one-hot, and the one-output regressor)",
       "both differences, each by " + WELCH),
    _r("loss-floor", "README", "known bugs",
       "the loss is `F.cross_entropy`, whose default `use_softmax=True` applies softmax again: the loss can't fall "
       "below about 1.46", "The double-softmax loss cannot fall below ln(1 + 9/e) ≈ 1.46.",
       "double softmax, Adam 1e-3, 20 epochs", "lowest logged train loss (50-step window mean)",
       "reproduced if it stays at or above the floor (1e-3 allowance), contradicted otherwise"),
    _r("loss-mean", "README", "known bugs",
       "The squared-error variant regresses the digit value with one output unit, so it mostly learns the mean label.",
       "The single-output squared-error regressor mostly learns the mean label.",
       "one-output regressor with float labels, Adam 1e-3, 20 epochs (seed 000 used SGD 0.1: it diverges here)",
       "final-epoch train loss per seed against the label variance (the loss of always answering the mean)",
       "per seed: holds if the final train loss is above half the label variance; reproduced if in every seed, "
       "contradicted if in none"),
    _r("dropout-speed", "000", "§2.6.4",
       "加快训练速度: 因为它降低了每个样本对模型参数的贡献, 使得每个批次的计算更加高效。",
       "Dropout speeds up training (each batch is computed more efficiently).", C000_264,
       "seconds per epoch: p=0 minus each dropout rate", "every rate's difference by " + WELCH),
    _r("dropout-loss", "000", "§2.6.4", "可以看出训练速度变快,损失变小。", "Dropout lowers the loss.", C000_264,
       "final-epoch valid loss: p=0 minus each dropout rate (the train loss is measured with dropout active)",
       "every rate's difference by " + WELCH),
    _r("dropout-overfit", "000", "§2.6.4", OVERFIT, "Dropout reduces overfitting.", C000_264,
       "final gap valid loss minus train loss: p=0 minus each dropout rate", "every rate's difference by " + WELCH),
    _r("dropout-visible", "000", "§2.6.4", OVERFIT,
       "The overfitting reduction is not visible in this (seed 000's) experiment.", COURSE + ", p=0 vs one Dropout",
       "valid-loss rise from its minimum to the last epoch, without and with dropout",
       "reproduced if neither arm's valid loss rises beyond seed noise; about seed 000's own experiment only"),
    _r("dropout-generalise", "000", "§2.6.4", "提高泛化能力。", "Dropout improves generalisation.", C000_264,
       "test accuracy: each dropout rate minus p=0", "every rate's difference by " + WELCH),
    _r("opt-sgd-small", "000", "§2.7", "学习率太小: 会收敛速度慢, 如图二",
       "SGD with too small a learning rate (0.0001) converges slowly.", C000_27,
       "final-epoch train loss: SGD 0.0001 minus SGD 0.01", WELCH),
    _r("opt-sgd-large", "000", "§2.7", "学习率太大: 会震荡, 如图三",
       "SGD with too large a learning rate (0.9) oscillates.", C000_27,
       "absolute roughness: mean |change| between consecutive logged train losses (50-step means) after epoch 1, "
       "in loss units; SGD 0.9 minus SGD 0.01",
       "reproduced if any SGD 0.9 run diverges; otherwise " + WELCH),
    _r("opt-adagrad", "000", "§2.7", SAME_ADAGRAD, "Adagrad at 0.01 does not lower the loss.", C000_27,
       "final-epoch train loss vs the first logged loss, per seed", STUCK_RULE),
    _r("opt-adagrad-rate", "000", "§2.7",
       "右图对应学习率为 0.001 ,可以看到效果很好,说明Adagrad的步长走的更大,他的更新效果更好。",
       "Adagrad at 0.001 works well (better than at 0.01).", C000_27,
       "test accuracy: Adagrad 0.001 minus Adagrad 0.01", WELCH),
    _r("opt-adam", "000", "§2.7", ADAM_000,
       "Adam at 0.01 has the same problem as Adagrad at 0.01: the loss does not fall.", C000_27,
       "final-epoch train loss vs the first logged loss, per seed (Adam 0.01)", STUCK_RULE),
    _r("opt-adam-rate", "000", "§2.7", ADAM_000, "Adam at 0.001 works better than at 0.01.", C000_27,
       "test accuracy: Adam 0.001 minus Adam 0.01", WELCH),
    _r("opt-momentum", "000, 002", "§2.7; 002 §8",
       "Momentum:引入物理\"动量\"的概念,累积速度,减少震荡,使参数更新的方向更稳定。",
       "Momentum accelerates SGD (same learning rate 0.01).", C000_27,
       "train loss after epoch 1: SGD 0.01 minus Momentum 0.01", WELCH),
    _r("opt-momentum-saddle", "000", "§2.7", "由于累加梯度信息,可以冲出鞍点。",
       "Momentum escapes saddle points by accumulating gradients.", "a loss surface with a saddle point",
       "whether Momentum leaves a saddle point that SGD at the same rate stays near",
       "reproduced if Momentum's distance from the saddle after N steps exceeds SGD's for every start",
       pending="trajectories of SGD vs Momentum started near the saddle of a toy loss such as z = x^2 - y^2 "
               "(the trajectories study's bowl has none)"),
    _r("opt-adam-fastest", "001", "D. Adam",
       "实验证明, 大多数时候, 使用 adam 都能又快又好的达到目标, 迅速收敛.",
       "Most of the time Adam reaches the goal fast and well (converges quickly).",
       "001: a 1-10-1 regression net, batch 32, LR 0.01; here the tuned MLP runs of the optimizers study",
       "fast: train loss after epoch 1, tuned SGD minus tuned Adam; well: test accuracy, Adam minus the best "
       "other tuned optimizer",
       "reproduced if fast lies above 0 and well does not lie below 0 (95% Welch intervals); contradicted if "
       "either lies below 0; otherwise inconclusive (within seed noise)"),
    _r("opt-advanced", "001", "optimizer comparison",
       "不过从这个结果中我们看到, Adam 的效果似乎比 RMSprop 要差一点. 所以说并不是越先进的优化器, 结果越佳.",
       "A more advanced optimizer is not always better (Adam did a little worse than RMSprop).",
       "001: SGD / Momentum / RMSprop / Adam at LR 0.01; here the tuned MLP runs",
       "test accuracy: each older optimizer minus Adam",
       "reproduced if any older optimizer's interval lies above 0, contradicted if all lie below 0, otherwise "
       "inconclusive (within seed noise)"),
    _r("hp-lr", "000", "§2.2", LR_HIDDEN, "A learning rate of 0.1 suits this task.", C000_22,
       "valid accuracy: grid best minus best at lr 0.1", GRID_RULE),
    _r("hp-hidden", "000", "§2.2", LR_HIDDEN, "150-200 hidden units suit this task.", C000_22,
       "valid accuracy: grid best minus best with 150-200 units at the chosen rate", GRID_RULE),
    _r("hp-kfold", "000", "§2.2", "验证集不是必须的,如果数据过少,可以使用**k折交叉验证**,从而不用验证集。",
       "A validation set is not required: with little data, k-fold cross-validation can replace it.",
       "hyperparameter choice on a small training subset", "test accuracy of the setting chosen by k-fold CV "
       "minus that chosen on a held-out validation split, over seeds",
       "no worse beyond seed noise by " + WELCH,
       pending="k-fold cross-validation (k = 5) vs a validation split for the hparams choice on a small subset"),
    _r("save-restore", "001", "saving and restoring",
       "torch.save(net1, 'net.pkl')  # 保存整个网络 / torch.save(net1.state_dict(), 'net_params.pkl')   "
       "# 只保存网络中的参数 (速度快, 占内存少)",
       "A whole saved net and a net rebuilt from its saved parameters give the same outputs.",
       "001: torch.save(net) vs torch.save(net.state_dict()); here Paddle's whole-net export "
       "(reports/models/inference/mlp) vs mlp.pdparams loaded into a fresh dygraph net",
       "largest absolute output difference on 300 eval images, and whether the predicted labels agree",
       "reproduced if the max difference is at most 1e-5 and every label agrees, contradicted otherwise"),
    _r("ewa-smooth", "002", "§7", "当取权重值 β=0.98 时,可以得到图中更为平滑的绿色曲线。而当取权重值β=0.5 时,得到图中噪点更多的黄色曲线。"
       "β越大相当于求取平均利用的天数越多,曲线自然就会越平滑而且越滞后。",
       "A larger beta gives a smoother and more delayed exponentially weighted average.",
       "002: daily temperatures; β 0.5 / 0.9 / 0.98", "roughness and lag of the average for β 0.5, 0.9, 0.98",
       "reproduced if both roughness falls and lag grows with β",
       pending="exponentially weighted averages of a noisy series (or a logged train loss), β 0.5 / 0.9 / 0.98"),
    _r("ewa-bias", "002", "§7", "由于移动指数平均在迭代开始的初期会导致和开始的值有较大的差异,所以我们需要对上面求得的几个值做偏差修正。",
       "Early values of an exponentially weighted average are biased; bias correction fixes them.",
       "002: v_t / (1 - β^t)", "error of the first 10 averaged values with and without bias correction",
       "reproduced if the corrected error is lower",
       pending="exponentially weighted averages with and without bias correction, β 0.9 / 0.98 / 0.5"),
    _r("gd-batch", "002", "§3-5",
       "因此,选择一个合适的大小进行 Mini-batch 梯度下降,可以实现快速学习,也应用了向量化带来的好处,且成本函数的下降处于前两者之间。",
       "Mini-batch gradient descent learns fast with vectorisation; its cost curve lies between batch and "
       "stochastic gradient descent.", "002: batch vs mini-batch vs stochastic (batch size 1)",
       "train loss per second and per epoch, and its roughness, for batch sizes 50000 / 100 / 1",
       WELCH + " for each pairwise comparison",
       pending="batch vs mini-batch vs stochastic gradient descent on the MLP (batch 50000 / 100 / 1)"),
    _r("lr-decay", "002", "§11",
       "如果随着时间慢慢减少学习率 α 的大小,在初期 α 较大时,下降的步长较大,能以较快的速度进行梯度下降;而后期逐步减小 α 的值,即减小步长,有助于算法的收敛,更容易接近最优解。",
       "Decaying the learning rate helps convergence and gets closer to the optimum.",
       "002: a fixed α vs a decaying α", "final train loss and test accuracy, decayed minus fixed rate",
       WELCH, pending="learning-rate decay vs a constant rate on the MLP (SGD, same start rate)"),
    _r("input-standardise", "002", "§12", "对网络输入的特征进行标准化,能够缓解梯度消失或者梯度爆炸",
       "Standardising the inputs mitigates vanishing or exploding gradients.",
       "002: inputs with mean 0, std 1", "gradient norms and train loss, standardised minus raw [0, 1] inputs",
       WELCH, pending="input standardisation (per-pixel mean 0, std 1) vs the raw inputs"),
    _r("adadelta-lr0", "003", "optimizer trajectories",
       "AdaDelta即使把学习率设置为0,也不会影响,因为有内置的学习率策略",
       "AdaDelta is unaffected even if the learning rate is set to 0 (it has a built-in rate).",
       "003: its own framework's AdaDelta; here paddle.optimizer.Adadelta (numpy copy, parity-tested)",
       "largest parameter move after 10 steps at lr = 0 (and of the textbook rule, which has no rate)",
       "reproduced if Paddle's Adadelta still moves the parameters at lr = 0, contradicted if it leaves them "
       "unchanged"),
    _r("numpy-adam", "004", "3.5.5 Adam", "Train acc:0.997600 Test acc:0.982100",
       "The numpy 784-300-300-10 ReLU net trained with Adam (lr 0.001) reaches 98.21% test accuracy.",
       "004: numpy, ReLU, softmax cross entropy, Adam 0.001", "test accuracy over seeds",
       "reproduced if 98.21% lies inside the 95% t interval of the mean or below it, contradicted if above"),
    _r("course-adagrad", "000", "§2.7", SAME_ADAGRAD,
       "Adagrad at 0.01 does not lower the loss, on seed 000's own model.", COURSE,
       "final-epoch train loss vs the first logged loss, per seed", STUCK_RULE,
       pending=COURSE + " with Adagrad 0.01"),
)
