"""The claim records of the source documents (data only): id, doc (the source file), section, original
words, translation, condition, metric and decision rule; ``pending`` names the experiment that would decide a
claim not measured yet; ``arm`` the kind of row: ``source`` (the source's own experiment and settings), ``right``
(the corrected setup) or ``own`` (the project's own test of a source's general statement).

``studies.claims`` attaches each record's rule: its kind and parameters from ``claim_specs`` (judged by
``rules``), or for the few rows without one their own decide function. Originals are quoted verbatim from
shared/sources/000_*.txt to 004_*.txt (tests/test_verdicts.py finds each in its source). ``TABLE`` is this
module's rows, then those added later (``claims_table_more.MORE``), in ledger order.

    python -c "from paddle_mnist.studies.claims_table import TABLE; print([r['id'] for r in TABLE])"
"""
from __future__ import annotations

from paddle_mnist.studies.claims_table_more import MORE, WELCH, row as _r
from paddle_mnist.studies.claims_table_more import T1_SECTION  # noqa: F401  (re-exported: report.init reads it here)

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
       "split for 20 epochs, α0 = 2 (a rate at which the constant run reaches its floor and bounces there within "
       "the budget), constant vs 002's α = α0 / (1 + 1 × epoch), epochs counted from 0",
       "closer to the optimum = lower final train loss (cross entropy over all 50,000 training images after the "
       "last epoch); test accuracy alongside",
       "judged only once the constant-rate run bounces near its floor (the claim is about settling near the "
       "optimum): its per-epoch train loss rose at least once over its last 5 epochs in every seed, else not "
       "measured with the end-of-budget numbers as findings; then the Welch 95% interval over seeds of the final train loss, constant "
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
) + MORE
