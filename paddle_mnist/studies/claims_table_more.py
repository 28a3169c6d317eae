"""The claim rows added after the first ledger (data only, in ledger order after ``claims_table``'s): 001's "SGD has
no acceleration" and parameters-only saving, 002's plateau, zig-zag, standardised-input speed and power-of-2 batches,
source 004's five other printed accuracies and source 003's 表1; with ``row`` (one row as a dict) and ``WELCH``, the
rule in words that both tables use. ``claims_table.TABLE`` holds every row.

    python -c "from paddle_mnist.studies.claims_table_more import MORE; print([r['id'] for r in MORE])"
"""
from __future__ import annotations

WELCH = ("the 95% Welch t interval over seeds of the difference of means; reproduced if it lies above 0, "
         "contradicted if below, otherwise inconclusive (within seed noise)")

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


def row(id, doc, section, original, translation, condition, metric, rule, pending=None, arm="source", course=""):
    """``arm``: where the row's verdict belongs: ``source`` (the source's own conditions, as far as they can be
    rebuilt), ``right`` (a corrected setup) or ``own`` (the project's own test of a source's general statement); ``course``:
    source 000's own setup, for a claim judged on both arms."""
    return {"id": id, "doc": doc, "section": section, "original": original, "translation": translation,
            "condition": condition, "metric": metric, "rule": rule, "pending": pending, "arm": arm, "course": course}


MORE = (
    # ---- further optimizer claims (claim_rules_more): 001's SGD, 002 §1.2 / §8 / §12, source 004's printed figures
    row("sgd-no-acceleration", "001", "optimizer comparison", "SGD 是最普通的优化器, 也可以说没有加速效果,",
       "SGD is the plainest optimizer: it has no acceleration (it is slower than Momentum, RMSprop and Adam, "
       "named right after it).",
       "001: a 1-10-1 regression net, batch 32, all four at LR 0.01; here the tuned MLP runs of the optimizers study "
       "(each optimizer at the rate its sweep chose on valid)",
       "slower = higher train loss after epoch 1: tuned SGD minus tuned Momentum, RMSProp and Adam (each rival "
       "named); at 001's shared rate 0.01 the report runs' SGD minus Momentum and Adam alongside",
       "three Welch 95% intervals over seeds, one per rival: reproduced if all lie above 0 (SGD slower than every "
       "rival), contradicted if any lies below 0, otherwise inconclusive (within seed noise); a run that did not "
       "train makes the row not measured", arm="right"),
    row("plateau-escape", "002", "§1.2",
       "鞍点附近的平稳段会使得学习非常缓慢,而这也是需要后面的动量梯度下降法、RMSProp 以及 Adam 优化算法能够加速学习的原因,"
       "它们能帮助尽早走出平稳段。",
       "The plateau near a saddle makes learning very slow; Momentum, RMSProp and Adam accelerate learning because "
       "they help leave the plateau early.", PLATEAU,
       "leaves the plateau = the first step at which the point is farther than 0.5 from the saddle (3,000 if "
       "never); gradient descent minus each of Momentum, RMSProp and Adam",
       "three Welch 95% intervals over the starts: reproduced if all lie above 0, contradicted if any lies below 0, "
       "otherwise inconclusive (within seed noise); a path that left the finite numbers makes the row not measured",
       arm="own"),
    row("momentum-damps", "002", "§8", "而前后梯度方向不一致时,动量梯度下降能够抑制震荡。",
       "When consecutive gradients point in opposite directions, Momentum damps the oscillation.", BOWL_002,
       "oscillation = the share of the 20 steps whose y move (the steep axis, where consecutive gradients flip "
       "sign) flips sign against the step before; per rate, 002's Momentum at its highest over the starts vs "
       "gradient descent at its lowest; alongside: Paddle's Momentum at the same number, and the share of steps at "
       "which the loss rose (gradient descent's never does at these rates)",
       "per rate, it holds if Momentum's share is below gradient descent's at every start: reproduced if it holds at "
       "every rate, contradicted if at none, otherwise inconclusive; untestable here if gradient descent never "
       "zig-zags (the condition never arises); a path that left the finite numbers makes the row not measured",
       arm="own"),
    row("standardise-speed", "002", "§12",
       "这样的话,对于梯度下降无论从哪个位置开始迭代,都能以相对较少的迭代次数找到全局最优解。可以加速网络的学习。",
       "With standardised inputs gradient descent needs relatively few iterations from any start: it accelerates "
       "learning.",
       "002: inputs with mean 0, std 1; here the `practice` study's input runs: a numpy 784-64-64-64-10 sigmoid net, "
       "SGD 0.1, batch 100, 300 steps, on raw pixels (in [0, 1]) vs pixels standardised with the train split's "
       "per-pixel mean and std, one initialisation per seed",
       "faster = lower train loss (every 10th training image) after the same 300 steps: raw minus standardised",
       WELCH + "; a run that did not train makes the row not measured", arm="own"),
    row("numpy-sgd", "004", "3.4 进行训练", "Train acc:0.992333 Test acc:0.978400",
       "The numpy 784-300-300-10 ReLU net trained with SGD (lr 0.1) reaches 97.84% test accuracy.", C004_NUMPY,
       "test accuracy over seeds", REACH_RULE, arm="right"),
    row("numpy-adagrad", "004", "3.5.1 AdaGrad", "Train acc:0.919400 Test acc:0.919100",
       "The numpy net trained with AdaGrad (lr 0.001) reaches 91.91% test accuracy.", C004_NUMPY,
       "test accuracy over seeds", REACH_RULE, arm="right"),
    row("numpy-rmsprop", "004", "3.5.2 RMSprop", "Train acc:0.996417 Test acc:0.975900",
       "The numpy net trained with RMSprop (lr 0.001) reaches 97.59% test accuracy.", C004_NUMPY,
       "test accuracy over seeds", REACH_RULE, arm="right"),
    row("numpy-momentum", "004", "5.3.3 Momentum (the section numbered 3.5.3)", "Train acc:0.915367 Test acc:0.913600",
       "The numpy net trained with Momentum (lr 0.001) reaches 91.36% test accuracy.", C004_NUMPY,
       "test accuracy over seeds", REACH_RULE, arm="right",
       course="004's own N(0, 0.01) initial weights (the `numpy` study's `momentum-init0.01` runs), seeds 0-2"),
    row("numpy-nesterov", "004", "3.5.4 Nesterov Momentum", "Train acc:0.915450 Test acc:0.914000",
       "The numpy net trained with Nesterov momentum (lr 0.001) reaches 91.40% test accuracy.", C004_NUMPY,
       "test accuracy over seeds", REACH_RULE, arm="right"),
    row("batch-pow2-speed", "002", "§6", "为了和计算机的信息存储方式相适应,代码在 mini-batch 大小为 2 的幂次时运行要快一些。",
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
    row("save-params-speed", "001", "saving and restoring",
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
    row("init-1layer-zero", "003", T1_SECTION, "|1|单层|零初始化|无|可以|",
       "One layer, zero initialisation, no activation: works.", T1_COND,
       "test accuracy after one epoch of softmax regression (784-10, no hidden layer) from zero weights against the "
       "eval split's majority class (11.35%: 1 predicted for every image)", T1_CHANCE, arm="own"),
    row("init-2layer-zero", "003", T1_SECTION, "|2|双层|零初始化|Sigmoid|错误，不能进行正确的反向传播|",
       "Two layers, zero initialisation, sigmoid: wrong, backpropagation cannot work correctly.", T1_COND,
       "wrong = test accuracy after one epoch of 784-100-10 sigmoid from zero weights below the same net from N(0, 1) "
       "weights (row 3); its margin over the majority class (11.35%) alongside",
       "reproduced if the Welch 95% interval of (N(0, 1) − zero) lies above 0, contradicted if it lies at or below 0, "
       "otherwise inconclusive", arm="own"),
    row("init-2layer-random", "003", T1_SECTION, "|3|双层|随机初始化|Sigmoid|可以|",
       "Two layers, random initialisation, sigmoid: works.", T1_COND,
       "test accuracy after one epoch of 784-100-10 sigmoid from N(0, 1) weights against the eval split's majority "
       "class (11.35%)", T1_CHANCE, arm="own"),
    row("init-multi-sigmoid", "003", T1_SECTION, "|4|多层|随机初始化|Sigmoid|激活值分布成凹形，不利于反向传播|",
       "Many layers, random initialisation, sigmoid: the activations are U-shaped (concave), bad for "
       "backpropagation.", T1_COND,
       "U-shaped = per seed, at initialisation, the deepest (5th) hidden layer holds more of its sigmoid activations "
       "in [0, 0.1) ∪ (0.9, 1] than in [0.4, 0.6] (bands of equal width); bad for backpropagation = test accuracy "
       "after one epoch below both 正确 nets (tanh/Xavier and ReLU/MSRA, rows 5 and 7)",
       "reproduced if U-shaped in every seed and below both 正确 nets beyond seed noise (Welch 95%); contradicted if "
       "U-shaped in no seed or at or above either beyond noise; otherwise inconclusive", arm="own"),
    row("init-multi-tanh-xavier", "003", T1_SECTION, "|5|多层|Xavier初始化|Tanh|正确|",
       "Many layers, Xavier initialisation, tanh: correct.", T1_COND, T1_CORRECT, T1_CORRECT_RULE, arm="own"),
    row("init-multi-relu-xavier", "003", T1_SECTION, "|6|多层|Xavier初始化|ReLU|激活值分布偏向0，不利于反向传播|",
       "Many layers, Xavier initialisation, ReLU: the activations lean towards 0, bad for backpropagation.", T1_COND,
       "leans towards 0 = per seed, at initialisation, the share of ReLU activations at or below 0.1 x the first "
       "hidden layer's std (zeros included) is at least 5 points higher in the deepest (5th) layer than in the first; "
       "bad for backpropagation = test accuracy after one epoch below ReLU/MSRA (row 7, the source's fix)",
       "reproduced if the share grows in every seed and the accuracy is below ReLU/MSRA beyond seed noise (Welch "
       "95%); contradicted if it grows in no seed or the accuracy is at or above ReLU/MSRA beyond noise; otherwise "
       "inconclusive", arm="own"),
    row("init-multi-relu-msra", "003", T1_SECTION, "|7|多层|MSRA初始化|ReLU|正确|",
       "Many layers, MSRA initialisation, ReLU: correct.", T1_COND, T1_CORRECT, T1_CORRECT_RULE, arm="own"),
)
