"""The claim records of the source documents (data only): id, doc (the source file), section, original
words, translation, condition, metric and decision rule; ``pending`` names the experiment that would decide a
claim not measured yet; ``arm`` the kind of row: ``source`` (the source's own experiment and settings), ``right``
(the corrected setup) or ``own`` (the project's own test of a source's general statement).

``studies.claims`` attaches each record's rule: its kind and parameters from ``claim_specs`` (judged by
``rules``), or for the few rows without one their own decide function. Originals are quoted verbatim from
shared/sources/000_*.txt to 004_*.txt (tests/test_verdicts.py finds each in its source).

    python -c "from paddle_mnist.studies.claims_table import TABLE; print([r['id'] for r in TABLE])"
"""
from __future__ import annotations

WELCH = ("the 95% Welch t interval over seeds of the difference of means; reproduced if it lies above 0, "
         "contradicted if below, otherwise inconclusive (within seed noise)")
COURSE = ("source 000's own setup (the `course` study): its 784-200-200-10 ReLU net with softmax in forward then "
          "F.cross_entropy (double softmax), SGD lr 0.1, 10 epochs, batch 100")
C000_26 = "done right (the `loss` study): logits, Adam 1e-3 with cosine decay, 10 epochs, batch 100"
C000_264 = ("done right (the `dropout` study): logits, p = 0 / 0.2 / 0.5 after both hidden layers, Adam 1e-3, "
            "10 epochs, batch 100")
COURSE_264 = COURSE + "; p = 0 vs one Dropout after fc1 at p = 0.5 (`dropout_prob` unstated: Paddle's default)"
C000_27 = "done right (the `optimizers` study): logits, 5 epochs, batch 100, the source's rates"
COURSE_27 = COURSE + "; the §2.7 optimizer settings for 5 epochs (§2.7 states no epoch count)"
C000_22 = "done right: the `hparams` grid (Paddle MLP on logits, SGD, 3 epochs, batch 100)"
COURSE_22 = ("source 000's own net (the `numpy` study's assignment search): numpy, sigmoid hidden layers, one output "
             "unit, squared error on the digit value, SGD, batch 20; lr 0.03 / 0.1 / 0.3 x 50 / 100 / 200 units, "
             "up to 6 epochs, chosen on valid. Units: this net's loss gradient is 2·diff/n where source 000's is "
             "diff/n, so its lr 0.03 / 0.1 / 0.3 are the source's 0.06 / 0.2 / 0.6 (the source's 0.1 is 0.05 here, "
             "not in the grid); of 150-200 units only 200 is in the grid")
EWA_YEAR = ("002: daily temperatures, β 0.5 / 0.9 / 0.98; here a seeded noisy year per seed: 365 days of "
            "55 − 20 cos(2π(d − 15)/365) °F plus Gaussian noise of std 6 °F")
SAME_ADAGRAD = "左图对应的学习率为 0.01 , 可以看到loss没有下降"
ADAM_000 = "左图为 Adam 优化器学习率为0.001, 右图为 Adam 学习率为0.01 / 和Adagrad是一样的问题,同时也说明它的更新效果好,可以用更好的学习率"
TOY_003 = ("003 §3.1: the toy loss z = x²/10 + y², 20 steps at its rates SGD 0.95, Momentum 0.1, RMSProp 0.5, "
           "Adam 0.5 (Paddle's other defaults, numpy optimizers checked against paddle.optimizer); the start (-7, 2) "
           "is ours (003 prints none)")
TOY_OWN = ("003 §3.2 ran its chapter-4 linear regression (w, b; data, start and most rates not in the source); here "
           "003 §3.1's toy loss z = x²/10 + y² from (-7, 2) at §3.1's rates (SGD 0.95, Momentum 0.1, RMSProp 0.5, "
           "Adam 0.5, AdaGrad 1.5)")
LR_HIDDEN = "对于手写数字识别, 学习率 0.1 , 节点数量 150-200 比较合适。"
OVERFIT = "减少过拟合:不过在这个实验上看不出来。"
TIMING = ("the median of the per-round ratios with its min-max over the benchmark's rounds (5 rounds: a ~94% "
          "interval for the median); reproduced if every round's ratio is above 1 (dropout faster), contradicted if "
          "every round's is below 1 for any rate, otherwise inconclusive; not measured without reports/bench/"
          "timing.json")
STUCK_RULE = ("per seed: the loss did not fall if the final-epoch train loss is at least 0.9 x the first logged "
              "loss (or the run diverged); reproduced if that holds in every seed, contradicted if in none, "
              "otherwise inconclusive")
DROP_RULE = ("decided at source 000's own rate, p = 0.5 (its one Dropout's `dropout_prob` is unstated: Paddle's "
             "default), by " + WELCH + "; each other rate (p = 0.2 done right) is reported beside it as a finding "
             "and does not decide, so adding or removing a rate cannot move the verdict")
GRID_RULE = ("the grid's best valid accuracy minus the best under the claim; grid points are single runs, their "
             "spread is the chosen setting's valid std over its seeds (t with n-1 df); suits = at most 1 point "
             "below the best: reproduced if the 95% interval's top is at or under +1 point, contradicted if its "
             "bottom is above +1 point, otherwise inconclusive (the interval is too wide to tell)")


C004_NUMPY = ("004: numpy 784-300-300-10 ReLU net, softmax cross entropy, batch 100, 10,000 iterations, N(0, 0.01) "
              "weights, one run; here the `numpy` study's same net from Xavier weights, seeds 0-2")
REACH_RULE = ("the one-sample 95% t interval over our seeds of our mean test accuracy minus source 004's one printed "
              "run (taken as exact); reaches it: contradicted if the interval lies below 0, reproduced if not and its "
              "bottom is at most 1 point below 0 (above counts: the figure is reached), otherwise inconclusive (within "
              "seed noise: too wide to tell)")
PLATEAU = ("002: the plateau near a saddle; here 000 §2.7's saddle toy z = x² + y⁴/4 − y²/2 (saddle at the origin, "
           "minima at y = ±1), numpy SGD, Momentum (0.9), RMSProp and Adam (Paddle's other defaults) all at lr 0.01, "
           "from one seeded start per seed with |x| < 0.3 and 1e-4 ≤ |y| ≤ 1e-3, up to 3,000 steps")
BOWL_002 = ("002 §8: Momentum as the exponentially weighted average of the gradients (v = βv + (1 − β)g, w −= αv, "
            "β 0.9); here 003's elongated bowl z = x²/10 + y² from one seeded start per seed (|x| in [4, 10], |y| in "
            "[1, 3], random signs), 20 steps, gradient descent vs that Momentum at the same α = 0.6, 0.8 and 0.95 "
            "(where gradient descent zig-zags: its y step flips when α > 0.5); 002's rule is Paddle's Momentum at lr "
            "α(1 − β), Paddle's at lr α shown beside")
T1_SECTION = "§1 表1 几种初始化方法的应用场景"
T1_COND = ("003's 表1 names no data, net or optimizer; here the `init` study: MNIST, SGD 0.1, one epoch (500 steps of "
           "batch 100), 5 seeds; 单层 = softmax regression 784-10, 双层 = 784-100-10, 多层 = 784-100x5-10; 随机初始化 = "
           "N(0, 1), Xavier and MSRA normal weights, biases zero; activations at initialisation on 1,000 training images")
T1_CHANCE = ("reproduced if the one-sample t 95% interval over seeds of (accuracy − 11.35%) lies above 0, contradicted "
             "if it lies at or below 0, otherwise inconclusive; untestable here if the accuracy is one value in every "
             "seed")
T1_CORRECT = ("correct = per seed, at initialisation, the deepest (5th) hidden layer's activation std within a factor 2 "
              "of the first's; and test accuracy after one epoch above the eval split's majority class (11.35%)")
T1_CORRECT_RULE = ("reproduced if the spread holds in every seed and the accuracy's 95% interval lies above 11.35%; "
                   "contradicted if the spread holds in no seed or the accuracy is at or below 11.35% beyond noise; "
                   "otherwise inconclusive")


def _r(id, doc, section, original, translation, condition, metric, rule, pending=None, arm="source", course=""):
    """``arm``: where the row's verdict belongs: ``source`` (the source's own conditions, as far as they can be
    rebuilt), ``right`` (a corrected setup) or ``own`` (the project's own test of a source's general statement); ``course``:
    source 000's own setup, for a claim judged on both arms."""
    return {"id": id, "doc": doc, "section": section, "original": original, "translation": translation,
            "condition": condition, "metric": metric, "rule": rule, "pending": pending, "arm": arm, "course": course}


TABLE = (
    _r("loss-speed", "000", "§2.6.2", "由于不同的损失量纲,看数值是不行的,但是看**收敛速度**,交叉熵损失函数更快。",
       "Cross entropy converges faster than squared error.", C000_26,
       "valid accuracy after epoch 1: cross entropy minus squared error (one-hot, and the one-output regressor)",
       "both differences, each by " + WELCH,
       arm="right", course=COURSE + "; its one-output regressor (no one-hot squared error there)"),
    _r("loss-acc", "000", "§2.6.2", "对于准确率,由于交叉熵使用softmax回归,使得结果更准确。",
       "Cross entropy gives a higher accuracy than squared error.", C000_26,
       "test accuracy: cross entropy minus squared error (one-hot, and the one-output regressor)",
       "both differences, each by " + WELCH,
       arm="right", course=COURSE + "; its one-output regressor (no one-hot squared error there)"),
    _r("dropout-speed", "000", "§2.6.4",
       "加快训练速度: 因为它降低了每个样本对模型参数的贡献, 使得每个批次的计算更加高效。",
       "Dropout speeds up training (each batch is computed more efficiently).", C000_264,
       "CPU seconds per epoch, p=0 over each dropout rate, from the timing benchmark (an epoch-slice of 200 steps "
       "per fresh process, one process at a time, arms alternated; wall seconds beside), not the training runs' "
       "clocks", TIMING, arm="right", course=COURSE_264),
    _r("dropout-loss", "000", "§2.6.4", "可以看出训练速度变快,损失变小。", "Dropout lowers the loss.", C000_264,
       "final-epoch valid loss: p=0 minus each dropout rate (the train loss is measured with dropout active)",
       DROP_RULE, arm="right", course=COURSE_264),
    _r("dropout-overfit", "000", "§2.6.4", OVERFIT, "Dropout reduces overfitting.", C000_264,
       "overfitting = the valid-loss rise from its minimum to the last epoch, per seed (not the valid − train gap: "
       "the train loss is measured with dropout active); p=0 minus each dropout rate",
       DROP_RULE, arm="right", course=COURSE_264),
    _r("dropout-visible", "000", "§2.6.4", OVERFIT,
       "The overfitting reduction is not visible in this (source 000's) experiment.", COURSE_264,
       "the valid-loss rise from its minimum to the last epoch, per seed: p=0 minus p=0.5 (as in the overfitting "
       "claim); a claim about source 000's own experiment, so judged on its setup only",
       "not visible = no rate reduces the rise beyond seed noise: reproduced unless a 95% Welch interval of the "
       "reduction lies above 0 (then contradicted: it is visible); untestable here when the rise is one value in "
       "every run"),
    _r("dropout-generalise", "000", "§2.6.4", "提高泛化能力。", "Dropout improves generalisation.", C000_264,
       "test accuracy: each dropout rate minus p=0", DROP_RULE,
       arm="right", course=COURSE_264),
    _r("opt-sgd-small", "000", "§2.7", "学习率太小: 会收敛速度慢, 如图二",
       "SGD with too small a learning rate (0.0001) converges slowly.", C000_27,
       "final-epoch train loss: SGD 0.0001 minus SGD 0.01", WELCH, arm="right", course=COURSE_27),
    _r("opt-sgd-large", "000", "§2.7", "学习率太大: 会震荡, 如图三",
       "SGD with too large a learning rate (0.9) oscillates.", C000_27,
       "oscillation = the share of logged train losses (50-step window means) after epoch 1 that rose from the "
       "previous one (0 for a steady descent however steep, about 0.5 for a loss that only jitters); SGD 0.9 minus "
       "SGD 0.01",
       WELCH + "; a run that diverged decides nothing (the row is then not measured, the divergence a finding)",
       arm="right", course=COURSE_27),
    _r("opt-adagrad", "000", "§2.7", SAME_ADAGRAD, "Adagrad at 0.01 does not lower the loss.", C000_27,
       "final-epoch train loss vs the first logged loss, per seed", STUCK_RULE, arm="right", course=COURSE_27),
    _r("opt-adagrad-rate", "000", "§2.7",
       "右图对应学习率为 0.001 ,可以看到效果很好,说明Adagrad的步长走的更大,他的更新效果更好。",
       "Adagrad at 0.001 works well (better than at 0.01).", C000_27,
       "test accuracy: Adagrad 0.001 minus Adagrad 0.01", WELCH, arm="right", course=COURSE_27),
    _r("opt-adam", "000", "§2.7", ADAM_000,
       "Adam at 0.01 has the same problem as Adagrad at 0.01: the loss does not fall.", C000_27,
       "final-epoch train loss vs the first logged loss, per seed (Adam 0.01)", STUCK_RULE,
       arm="right", course=COURSE_27),
    _r("opt-adam-rate", "000", "§2.7", ADAM_000, "Adam at 0.001 works better than at 0.01.", C000_27,
       "test accuracy: Adam 0.001 minus Adam 0.01", WELCH, arm="right", course=COURSE_27),
    _r("opt-momentum", "000", "§2.7",
       "Momentum:引入物理\"动量\"的概念,累积速度,减少震荡,使参数更新的方向更稳定。",
       "Momentum brings in physical momentum: it accumulates velocity, reduces oscillation and makes the direction "
       "of the updates more stable.", C000_27,
       "oscillation as in the large-rate claim (the share of logged train losses after epoch 1 that rose), at §2.7's "
       "shared rate 0.01: SGD 0.01 minus Momentum 0.01", WELCH, arm="right", course=COURSE_27),
    _r("opt-momentum-saddle", "000", "§2.7", "由于累加梯度信息,可以冲出鞍点。",
       "Momentum escapes saddle points by accumulating gradients.",
       "000: Momentum among the optimizers; here numpy SGD vs Momentum (0.9), both lr 0.01, on the toy "
       "z = x² + y⁴/4 − y²/2 (saddle at the origin, minima at y = ±1), one seeded start per seed with |x| < 0.3 "
       "and 1e-4 ≤ |y| ≤ 1e-3",
       "leaves the saddle = the first step at which the point is farther than 0.5 from it (3,000 if never); "
       "escapes = distance from the saddle after 200 steps",
       "two Welch 95% intervals over the starts: steps to leave, SGD minus Momentum, and distance after 200 "
       "steps, Momentum minus SGD; reproduced if both lie above 0, contradicted if either lies below 0, "
       "otherwise inconclusive", arm="own"),
    _r("opt-adam-fastest", "001", "D. Adam",
       "实验证明, 大多数时候, 使用 adam 都能又快又好的达到目标, 迅速收敛.",
       "Most of the time Adam reaches the goal fast and well (converges quickly).",
       "001: a 1-10-1 regression net, batch 32, LR 0.01; here the tuned MLP runs of the optimizers study",
       "fast: train loss after epoch 1, each other tuned optimizer the runs hold (SGD, Momentum, Adagrad, RMSProp) "
       "minus tuned Adam; well: test accuracy, Adam minus the best other tuned optimizer",
       "reproduced if every fast interval lies above 0 (Adam ahead of every rival) and well does not lie below 0 "
       "(95% Welch intervals); contradicted if any lies below 0; otherwise inconclusive (within seed noise)",
       arm="right"),
    _r("opt-advanced", "001", "optimizer comparison",
       "不过从这个结果中我们看到, Adam 的效果似乎比 RMSprop 要差一点. 所以说并不是越先进的优化器, 结果越佳.",
       "A more advanced optimizer is not always better (Adam did a little worse than RMSprop).",
       "001: SGD / Momentum / RMSprop / Adam at LR 0.01; here the tuned MLP runs",
       "test accuracy: each older optimizer minus Adam",
       "reproduced if any older optimizer's interval lies above 0, contradicted if all lie below 0, otherwise "
       "inconclusive (within seed noise)", arm="right"),
    _r("hp-lr", "000", "§2.2", LR_HIDDEN, "A learning rate of 0.1 suits this task.", C000_22,
       "valid accuracy: grid best minus best at lr 0.1", GRID_RULE, arm="right", course=COURSE_22),
    _r("hp-hidden", "000", "§2.2", LR_HIDDEN, "150-200 hidden units suit this task.", C000_22,
       "valid accuracy: grid best minus best with 150-200 units at the chosen rate (done right: 150 and 200 in the "
       "grid; source's net: 200 only)", GRID_RULE, arm="right", course=COURSE_22),
    _r("hp-kfold", "000", "§2.2", "验证集不是必须的,如果数据过少,可以使用**k折交叉验证**,从而不用验证集。",
       "A validation set is not required: with little data, k-fold cross-validation can replace it.",
       "000: a validation split for tuning; here the learning rate (0.01 / 0.03 / 0.1 / 0.3 / 1) of softmax "
       "regression (numpy SGD, batch 50, 20 epochs) chosen on a seeded 1,000-image subset of train, a different "
       "subset per seed",
       "test accuracy of the final model: the 5-fold cross-validation choice retrained on all 1,000 images vs "
       "the choice on one 200-image held-out split, kept as trained on the other 800 (held-out images never "
       "train); alongside: both choices retrained on all 1,000, and how often each picks the rate with the best "
       "test accuracy",
       "Welch 95% interval over seeds of k-fold minus hold-out test accuracy: reproduced if it does not lie "
       "below 0 (k-fold no worse beyond seed noise), contradicted if it does", arm="own"),
    _r("save-restore", "001", "saving and restoring", "# 提取整个网络 / # 提取网络参数, 复制到新网络 / 三个网络一模一样",
       "The net restored whole and a new net given the saved parameters are the same network.",
       "001: torch.save(net) vs torch.save(net.state_dict()); here Paddle's whole-net export "
       "(reports/models/inference/mlp) vs mlp.pdparams loaded into a fresh dygraph net",
       "largest absolute output difference on 300 eval images, and whether the predicted labels agree",
       "reproduced if the max difference is at most 1e-5 and every label agrees, contradicted otherwise", arm="own"),
    _r("ewa-smooth", "002", "§7", "当取权重值 β=0.98 时,可以得到图中更为平滑的绿色曲线。而当取权重值β=0.5 时,得到图中噪点更多的黄色曲线。"
       "β越大相当于求取平均利用的天数越多,曲线自然就会越平滑而且越滞后。",
       "A larger beta gives a smoother and more delayed exponentially weighted average.",
       EWA_YEAR + "; bias-corrected averages",
       "smoother = lower roughness: mean |day-to-day change| of the average over days 60-365; more delayed = "
       "longer lag: the shift k (0-60 days) minimising the mean squared difference between the average on day t "
       "and the noise-free curve on day t − k, over days 60-365",
       "four Welch 95% intervals over seeds: roughness β 0.5 minus 0.9 and 0.9 minus 0.98, lag β 0.98 minus 0.9 "
       "and 0.9 minus 0.5; reproduced if all lie above 0, contradicted if any lies below 0, otherwise "
       "inconclusive", arm="own"),
    _r("ewa-bias", "002", "§10", "由于移动指数平均在迭代开始的初期会导致和开始的值有较大的差异,所以我们需要对上面求得的几个值做偏差修正。",
       "Early values of an exponentially weighted average are biased; bias correction fixes them.",
       EWA_YEAR + "; v_t = βv_(t−1) + (1 − β)θ_t from v_0 = 0, corrected v_t / (1 − β^t)",
       "error of the first values = mean |average − noise-free curve| over days 1-10, without and with the "
       "correction, per β",
       "three Welch 95% intervals over seeds (one per β) of uncorrected minus corrected error; reproduced if all "
       "lie above 0, contradicted if any lies below 0, otherwise inconclusive", arm="own"),
    _r("gd-batch", "002", "§3-5",
       "因此,选择一个合适的大小进行 Mini-batch 梯度下降,可以实现快速学习,也应用了向量化带来的好处,且成本函数的下降处于前两者之间。",
       "Mini-batch gradient descent learns fast with vectorisation; its cost curve lies between batch and "
       "stochastic gradient descent.",
       "002: batch vs mini-batch vs stochastic; here numpy softmax regression (784-10, float32, one BLAS thread, "
       "the same step code for every batch size) on the 50,000 training images at lr 0.1: batch size 50,000 "
       "(5 steps), 100 (3 epochs), 1 (a quarter epoch)",
       "learns fast = lower train loss (on every 10th training image) after the CPU seconds the mini-batch arm "
       "needs for one epoch (each arm's steps in that time from the timing benchmark's CPU seconds per step, its "
       "loss from the runs by step), and fewer CPU seconds per epoch than stochastic (timing benchmark); between "
       "= jitter, the mean |L(t+1) − 2L(t) + L(t−1)| of the per-step batch losses L over each arm's second half "
       "of steps (0 for a straight or smoothly bending descent), between batch's and stochastic's",
       "four Welch 95% intervals over seeds: loss after that time, batch minus mini-batch and stochastic minus "
       "mini-batch; jitter, stochastic minus mini-batch and mini-batch minus batch; and the timing benchmark's "
       "stochastic over mini-batch CPU seconds per epoch (per-round ratios, min to max); reproduced if all lie "
       "above 0 (the ratio above 1), contradicted if any lies below, otherwise inconclusive; not measured without "
       "the benchmark", arm="own"),
    _r("lr-decay", "002", "§11",
       "如果随着时间慢慢减少学习率 α 的大小,在初期 α 较大时,下降的步长较大,能以较快的速度进行梯度下降;而后期逐步减小 α 的值,即减小步长,有助于算法的收敛,更容易接近最优解。",
       "Decaying the learning rate helps convergence and gets closer to the optimum.",
       "002: a fixed α vs a decaying α; here numpy mini-batch SGD (batch 100) of softmax regression on the train "
       "split for 10 epochs, α0 = 0.5, constant vs 002's α = α0 / (1 + 1 × epoch), epochs counted from 0",
       "closer to the optimum = lower final train loss (cross entropy over all 50,000 training images after the "
       "last epoch); test accuracy alongside",
       "judged only once the constant-rate run has levelled off (the claim is about settling near the optimum): its "
       "per-epoch train loss under 0.5% lower over its last 3 epochs in every seed, else not measured with the "
       "end-of-budget numbers as findings; then the Welch 95% interval over seeds of the final train loss, constant "
       "minus decayed: reproduced if it lies above 0, contradicted if below, otherwise inconclusive", arm="own"),
    _r("input-standardise", "002", "§12", "对网络输入的特征进行标准化,能够缓解梯度消失或者梯度爆炸",
       "Standardising the inputs mitigates vanishing or exploding gradients.",
       "002: inputs with mean 0, std 1; here a numpy 784-64-64-64-10 sigmoid net, SGD 0.1, batch 100, 300 steps, "
       "on raw pixels (in [0, 1]) vs pixels standardised with the train split's per-pixel mean and std "
       "(pixels constant there only centred)",
       "vanishing/exploding = gradient imbalance: |log10(RMS of fc1's weight gradient / RMS of the last layer's)| "
       "averaged over the first 20 steps (0 when the input layer's gradient is as large as the output layer's); "
       "train loss after 300 steps (every 10th training image) alongside",
       "Welch 95% interval over seeds of the imbalance, raw minus standardised: reproduced if it lies above 0, "
       "contradicted if below, otherwise inconclusive", arm="own"),
    _r("adadelta-lr0", "003", "§3.2 真实效果比较 (表4)",
       "AdaDelta即使把学习率设置为0，也不会影响，因为有内置的学习率策略",
       "AdaDelta is unaffected even if the learning rate is set to 0 (it has a built-in rate).",
       "003: its own framework's AdaDelta; here paddle.optimizer.Adadelta (numpy copy, parity-tested)",
       "largest parameter move after 10 steps at lr = 0 (and of the textbook rule, which has no rate)",
       "reproduced if Paddle's Adadelta still moves the parameters at lr = 0, contradicted if it leaves them "
       "unchanged", arm="right", course="003's own framework: the textbook AdaDelta rule, which has no learning rate"),
    _r("numpy-adam", "004", "3.5.5 Adam", "Train acc:0.997600 Test acc:0.982100",
       "The numpy 784-300-300-10 ReLU net trained with Adam (lr 0.001) reaches 98.21% test accuracy.",
       "004: numpy, ReLU, softmax cross entropy, Adam 0.001", "test accuracy over seeds",
       "reproduced if 98.21% lies inside the 95% t interval of the mean or below it, contradicted if above",
       arm="right"),
    # ---- source 003's toy-loss trajectories (z = x²/10 + y², 20 steps from (-7, 2)) and 000 §2.7's AdaGrad rate
    _r("traj-sgd-zigzag", "003", "§3.1 模拟效果比较", "SGD算法，每次迭代完全受当前梯度的控制，所以会以折线方式前进。",
       "SGD, driven only by the current gradient, moves in a zig-zag.", TOY_003,
       "zig-zag = the share of SGD's 20 steps whose y move flips sign against the step before (0: never, 1: every "
       "step)", "reproduced if the share is at least 0.5, contradicted if under 0.2, otherwise inconclusive"),
    _r("traj-momentum-smooth", "003", "§3.1 模拟效果比较",
       "Momentum算法，学习率只有0.1，每次继承上一次的动量方向，所以会以比较平滑的曲线方式前进，不会出现突然的转向。",
       "Momentum (lr 0.1) follows a smooth curve with no sudden turns.", TOY_003,
       "sudden turn = the largest angle between consecutive steps of Momentum's 20, in degrees (SGD's alongside)",
       "reproduced if at most 45°, contradicted if over 90° (a step turning back on the one before), otherwise "
       "inconclusive"),
    _r("traj-momentum-overshoot", "003", "§3.2 真实效果比较", "Momentum由于惯性存在，一下子越过了中心点，但是很快就会得到纠正",
       "Momentum overshoots the centre through inertia but is quickly corrected.", TOY_OWN,
       "along x (the shallow axis) over 100 steps: the step Momentum first crosses the minimum's x = 0, its "
       "farthest point past it (a share of the start's distance from x = 0) and the steps from the crossing to that point "
       "(turning back); Adam's alongside (§3.2 says it overshoots too)",
       "reproduced if it crosses, goes past the centre at most half the start's distance from it and turns back within 20 steps "
       "(003's plot length) of the crossing; contradicted if it never crosses or goes farther; otherwise "
       "inconclusive", arm="own"),
    _r("traj-steps-005", "003", "§3.2 真实效果比较",
       "SGD：在较远的地方，沿梯度方向下降，越靠近中心的地方，抖动得越多，似乎找不准方向，得到loss值等于0.005迭代了148次。 / "
       "Momentum：由于惯性存在，一下子越过了中心点，但是很快就会得到纠正，得到loss值等于0.005迭代了128次。 / "
       "RMSProp：与SGD的行为差不多，抖动大，得到loss值等于0.005迭代了130次。 / "
       "Adam：与Momentum一样，越过中心点，但后来的收敛很快，得到loss值等于0.005迭代了107次。",
       "Steps to reach loss 0.005: Adam 107 < Momentum 128 < RMSProp 130 < SGD 148.", TOY_OWN,
       "steps until z ≤ 0.005 (numpy, up to 10,000) at §3.1's rates; the source's counts shown beside ours, not "
       "compared one by one (another loss, data and start)",
       "the order: reproduced if Adam < Momentum < RMSProp < SGD strictly, inconclusive if a pair ties or one never "
       "reaches 0.005, contradicted if any pair is reversed", arm="own"),
    _r("traj-rmsprop-small-lr", "003", "§3.2 真实效果比较",
       "RMSProp解决AdaGrad的学习率下降问题，即使学习率设置为0.1，收敛也会快",
       "RMSProp fixes AdaGrad's decaying rate: even at lr 0.1 it converges fast.", TOY_OWN,
       "fast = steps until z ≤ 0.005 of RMSProp at lr 0.1 (a) against AdaGrad at the same lr 0.1 (the rival named, "
       "whose decaying rate it fixes) and (b) against SGD 0.95, Momentum 0.1, Adam 0.5 and AdaGrad 1.5 at their "
       "trajectory rates",
       "(a) fewer steps than AdaGrad at 0.1; (b) no more steps than at least two of the four; reproduced if both "
       "hold, contradicted if neither, otherwise inconclusive", arm="own"),
    _r("opt-adagrad-decay", "000", "§2.7", "AdaGrad: 根据不同参数距离最优解的远近,动态调整学习率。学习率逐渐下降,依据各参数变化大小调整学习率。",
       "AdaGrad's learning rate decreases gradually.",
       "000 §2.7 describes Paddle's Adagrad in general; here Paddle's rule (numpy copy) on the toy loss z = x²/10 + "
       "y², lr 1.5, 20 steps from (-7, 2)",
       "the effective per-coordinate rate lr / (sqrt(G) + 1e-6), G the running sum of squared gradients, after each "
       "step (it cannot rise while G only grows: the row checks the rule as implemented and shows how far it falls)",
       "reproduced if it never rises and ends below its first value on both coordinates, contradicted if on neither, "
       "otherwise inconclusive", arm="own"),
    # ---- further optimizer claims (claim_rules_more): 001's SGD, 002 §1.2 / §8 / §12, source 004's printed figures
    _r("sgd-no-acceleration", "001", "optimizer comparison", "SGD 是最普通的优化器, 也可以说没有加速效果,",
       "SGD is the plainest optimizer: it has no acceleration (it is slower than Momentum, RMSprop and Adam, "
       "named right after it).",
       "001: a 1-10-1 regression net, batch 32, all four at LR 0.01; here the tuned MLP runs of the optimizers study "
       "(each optimizer at the rate its sweep chose on valid)",
       "slower = higher train loss after epoch 1: tuned SGD minus tuned Momentum, RMSProp and Adam (each rival "
       "named); at 001's shared rate 0.01 the report runs' SGD minus Momentum and Adam alongside",
       "three Welch 95% intervals over seeds, one per rival: reproduced if all lie above 0 (SGD slower than every "
       "rival), contradicted if any lies below 0, otherwise inconclusive (within seed noise); a run that did not "
       "train makes the row not measured", arm="right"),
    _r("plateau-escape", "002", "§1.2",
       "鞍点附近的平稳段会使得学习非常缓慢,而这也是需要后面的动量梯度下降法、RMSProp 以及 Adam 优化算法能够加速学习的原因,"
       "它们能帮助尽早走出平稳段。",
       "The plateau near a saddle makes learning very slow; Momentum, RMSProp and Adam accelerate learning because "
       "they help leave the plateau early.", PLATEAU,
       "leaves the plateau = the first step at which the point is farther than 0.5 from the saddle (3,000 if "
       "never); gradient descent minus each of Momentum, RMSProp and Adam",
       "three Welch 95% intervals over the starts: reproduced if all lie above 0, contradicted if any lies below 0, "
       "otherwise inconclusive (within seed noise); a path that left the finite numbers makes the row not measured",
       arm="own"),
    _r("momentum-damps", "002", "§8", "而前后梯度方向不一致时,动量梯度下降能够抑制震荡。",
       "When consecutive gradients point in opposite directions, Momentum damps the oscillation.", BOWL_002,
       "oscillation = the share of the 20 steps whose y move (the steep axis, where consecutive gradients flip "
       "sign) flips sign against the step before; per rate, 002's Momentum at its highest over the starts vs "
       "gradient descent at its lowest; alongside: Paddle's Momentum at the same number, and the share of steps at "
       "which the loss rose (gradient descent's never does at these rates)",
       "per rate, it holds if Momentum's share is below gradient descent's at every start: reproduced if it holds at "
       "every rate, contradicted if at none, otherwise inconclusive; untestable here if gradient descent never "
       "zig-zags (the condition never arises); a path that left the finite numbers makes the row not measured",
       arm="own"),
    _r("standardise-speed", "002", "§12",
       "这样的话,对于梯度下降无论从哪个位置开始迭代,都能以相对较少的迭代次数找到全局最优解。可以加速网络的学习。",
       "With standardised inputs gradient descent needs relatively few iterations from any start: it accelerates "
       "learning.",
       "002: inputs with mean 0, std 1; here the `practice` study's input runs: a numpy 784-64-64-64-10 sigmoid net, "
       "SGD 0.1, batch 100, 300 steps, on raw pixels (in [0, 1]) vs pixels standardised with the train split's "
       "per-pixel mean and std, one initialisation per seed",
       "faster = lower train loss (every 10th training image) after the same 300 steps: raw minus standardised",
       WELCH + "; a run that did not train makes the row not measured", arm="own"),
    _r("numpy-sgd", "004", "3.4 进行训练", "Train acc:0.992333 Test acc:0.978400",
       "The numpy 784-300-300-10 ReLU net trained with SGD (lr 0.1) reaches 97.84% test accuracy.", C004_NUMPY,
       "test accuracy over seeds", REACH_RULE, arm="right"),
    _r("numpy-adagrad", "004", "3.5.1 AdaGrad", "Train acc:0.919400 Test acc:0.919100",
       "The numpy net trained with AdaGrad (lr 0.001) reaches 91.91% test accuracy.", C004_NUMPY,
       "test accuracy over seeds", REACH_RULE, arm="right"),
    _r("numpy-rmsprop", "004", "3.5.2 RMSprop", "Train acc:0.996417 Test acc:0.975900",
       "The numpy net trained with RMSprop (lr 0.001) reaches 97.59% test accuracy.", C004_NUMPY,
       "test accuracy over seeds", REACH_RULE, arm="right"),
    _r("numpy-momentum", "004", "5.3.3 Momentum (the section numbered 3.5.3)", "Train acc:0.915367 Test acc:0.913600",
       "The numpy net trained with Momentum (lr 0.001) reaches 91.36% test accuracy.", C004_NUMPY,
       "test accuracy over seeds", REACH_RULE, arm="right",
       course="004's own N(0, 0.01) initial weights (the `numpy` study's `momentum-init0.01` runs), seeds 0-2"),
    _r("numpy-nesterov", "004", "3.5.4 Nesterov Momentum", "Train acc:0.915450 Test acc:0.914000",
       "The numpy net trained with Nesterov momentum (lr 0.001) reaches 91.40% test accuracy.", C004_NUMPY,
       "test accuracy over seeds", REACH_RULE, arm="right"),
    _r("batch-pow2-speed", "002", "§6", "为了和计算机的信息存储方式相适应,代码在 mini-batch 大小为 2 的幂次时运行要快一些。",
       "Code runs a little faster when the mini-batch size is a power of 2 (to suit how the computer stores data).",
       "002 states it in general; here the `mlp` study's MLP done right (784-200-200-10 ReLU, logits, Adam 1e-3, one "
       "MKL thread) trained on 12,800 samples per size at batch 63 / 64 / 65, 127 / 128 / 129 and 255 / 256 / 257 "
       "in the timing benchmark (one fresh process per k and round, the three sizes' chunks interleaved in it, "
       "5 rounds, the arms rotated)",
       "CPU milliseconds per 1,000 samples (the best of 5 chunks); per round and neighbour the ratio neighbour / "
       "power of 2 (above 1: the power of 2 is faster per sample); wall milliseconds beside",
       "reproduced if for every k the power of 2 is faster per sample than both neighbours in every round (every "
       "ratio above 1), contradicted if for some k it is slower than both in every round, otherwise inconclusive; "
       "not measured without the batch-size arms in reports/bench/timing.json", arm="own"),
    _r("save-params-speed", "001", "saving and restoring",
       "torch.save(net1.state_dict(), 'net_params.pkl')   # 只保存网络中的参数 (速度快, 占内存少)",
       "Saving only the network's parameters is fast and takes little space (against saving the whole network).",
       "001 saves a PyTorch net; here its Paddle counterparts on the `mlp` study's MLP (784-200-200-10): "
       "paddle.save(model.state_dict()) against the whole network, paddle.jit.save(model, prefix, input_spec=["
       "InputSpec([None, 784], 'float32')]) (program and parameters), each save to fresh files in a temporary "
       "folder, 20 saves per fresh process after an untimed first one, 5 rounds in the timing benchmark",
       "CPU milliseconds per save (the best of 5 chunks), per round the ratio whole network / parameters (above 1: "
       "parameters faster), wall milliseconds beside; the bytes one save writes",
       "reproduced if the parameters' file is smaller and their save faster in every round, contradicted if it is "
       "not smaller or slower in every round, otherwise inconclusive; not measured without the saving arms in "
       "reports/bench/timing.json", arm="own"),
    # 003 表1: one row per table row, the project's own tests (the source names no data, net or optimizer for it)
    _r("init-1layer-zero", "003", T1_SECTION, "|1|单层|零初始化|无|可以|",
       "One layer, zero initialisation, no activation: works.", T1_COND,
       "test accuracy after one epoch of softmax regression (784-10, no hidden layer) from zero weights against the "
       "eval split's majority class (11.35%: 1 predicted for every image)", T1_CHANCE, arm="own"),
    _r("init-2layer-zero", "003", T1_SECTION, "|2|双层|零初始化|Sigmoid|错误，不能进行正确的反向传播|",
       "Two layers, zero initialisation, sigmoid: wrong, backpropagation cannot work correctly.", T1_COND,
       "wrong = test accuracy after one epoch of 784-100-10 sigmoid from zero weights below the same net from N(0, 1) "
       "weights (row 3); its margin over the majority class (11.35%) alongside",
       "reproduced if the Welch 95% interval of (N(0, 1) − zero) lies above 0, contradicted if it lies at or below 0, "
       "otherwise inconclusive", arm="own"),
    _r("init-2layer-random", "003", T1_SECTION, "|3|双层|随机初始化|Sigmoid|可以|",
       "Two layers, random initialisation, sigmoid: works.", T1_COND,
       "test accuracy after one epoch of 784-100-10 sigmoid from N(0, 1) weights against the eval split's majority "
       "class (11.35%)", T1_CHANCE, arm="own"),
    _r("init-multi-sigmoid", "003", T1_SECTION, "|4|多层|随机初始化|Sigmoid|激活值分布成凹形，不利于反向传播|",
       "Many layers, random initialisation, sigmoid: the activations are U-shaped (concave), bad for "
       "backpropagation.", T1_COND,
       "U-shaped = per seed, at initialisation, the deepest (5th) hidden layer holds more of its sigmoid activations "
       "in [0, 0.1) ∪ (0.9, 1] than in [0.4, 0.6] (bands of equal width); bad for backpropagation = test accuracy "
       "after one epoch below both 正确 nets (tanh/Xavier and ReLU/MSRA, rows 5 and 7)",
       "reproduced if U-shaped in every seed and below both 正确 nets beyond seed noise (Welch 95%); contradicted if "
       "U-shaped in no seed or at or above either beyond noise; otherwise inconclusive", arm="own"),
    _r("init-multi-tanh-xavier", "003", T1_SECTION, "|5|多层|Xavier初始化|Tanh|正确|",
       "Many layers, Xavier initialisation, tanh: correct.", T1_COND, T1_CORRECT, T1_CORRECT_RULE, arm="own"),
    _r("init-multi-relu-xavier", "003", T1_SECTION, "|6|多层|Xavier初始化|ReLU|激活值分布偏向0，不利于反向传播|",
       "Many layers, Xavier initialisation, ReLU: the activations lean towards 0, bad for backpropagation.", T1_COND,
       "leans towards 0 = per seed, at initialisation, the share of ReLU activations at or below 0.1 x the first "
       "hidden layer's std (zeros included) is at least 5 points higher in the deepest (5th) layer than in the first; "
       "bad for backpropagation = test accuracy after one epoch below ReLU/MSRA (row 7, the source's fix)",
       "reproduced if the share grows in every seed and the accuracy is below ReLU/MSRA beyond seed noise (Welch "
       "95%); contradicted if it grows in no seed or the accuracy is at or above ReLU/MSRA beyond noise; otherwise "
       "inconclusive", arm="own"),
    _r("init-multi-relu-msra", "003", T1_SECTION, "|7|多层|MSRA初始化|ReLU|正确|",
       "Many layers, MSRA initialisation, ReLU: correct.", T1_COND, T1_CORRECT, T1_CORRECT_RULE, arm="own"),
)
