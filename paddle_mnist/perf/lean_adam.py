"""``Adam``: ``paddle.optimizer.Adam(use_multi_tensor=True)`` whose step calls the fused kernel directly.

Paddle's ``Optimizer.step`` rebuilds its bookkeeping in Python on every call
(program guards, a ``LayerHelper``, per-parameter learning-rate lookups, grad
type queries) before it runs one ``merged_adam_`` kernel; for the softmax
regression a step took about 40 µs on this 2-core machine, of which the kernel
8 µs. After Paddle's own first step has created the moments, this class calls
that same kernel on the same tensors with the same arguments, so parameters,
moments and ``state_dict()`` are bit-identical to Paddle's
(``tests/test_models.py``). Anything outside the plain case (weight decay, a
regularizer or gradient clipping, parameter groups, a per-parameter learning
rate, AMP, a parameter without a gradient) takes Paddle's own step.

    python -m paddle_mnist train mlp --epochs 1
"""
from __future__ import annotations

import paddle
from paddle import _C_ops

_FP32 = "FP32_DenseTensor"


class Adam(paddle.optimizer.Adam):  # the name "Adam" turns on Paddle's multi-tensor path
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("use_multi_tensor", True)
        super().__init__(*args, **kwargs)
        self._lean = None  # the kernel's argument lists once Paddle's first step has built them
        self._lean_lr = None  # the scheduler value the learning-rate tensor holds

    def _lean_lists(self):
        if not (self._use_multi_tensor and not self._amsgrad and self.regularization is None
                and self._grad_clip is None and self._parameter_list
                and not isinstance(self._parameter_list[0], dict)
                and not self._param_dict["FP16_DenseTensor"][0] and self._param_dict[_FP32][0]
                and not paddle.base.dygraph.base.in_to_static_mode()):
            return None
        params = self._param_dict[_FP32][0]
        if len(params) != sum(not p.stop_gradient for p in self._parameter_list):
            return None
        for p in params:
            attr = getattr(p, "optimize_attr", None) or {}
            if attr.get("learning_rate", 1.0) != 1.0 or getattr(p, "regularizer", None) is not None:
                return None
        master = self._master_weight_dict[_FP32]
        if master is not None and master[0] is not None:
            return None
        beta1 = self._beta1.item(0) if isinstance(self._beta1, paddle.Tensor) else self._beta1
        beta2 = self._beta2.item(0) if isinstance(self._beta2, paddle.Tensor) else self._beta2
        return (params, self._moment1_dict[_FP32][0], self._moment2_dict[_FP32][0],
                self._beta1_pow_acc_dict[_FP32][0], self._beta2_pow_acc_dict[_FP32][0], beta1, beta2)

    def step(self) -> None:
        lists = self._lean
        if lists is None:
            super().step()
            self._lean = self._lean_lists() or False
            self._lean_lr = self._scheduled_lr()
            return
        if lists is False or self._get_auxiliary_var("found_inf") is not None:  # AMP's scaler: Paddle's step
            super().step()
            return
        params, m1, m2, b1p, b2p, beta1, beta2 = lists
        grads = [p._grad_ivar() for p in params]
        if any(g is None for g in grads):
            super().step()
            return
        scheduled = self._scheduled_lr()
        if scheduled != self._lean_lr:  # a scheduler stepped: refresh the tensor Paddle's kernel reads
            self._create_global_learning_rate()
            self._lean_lr = scheduled
        lr = self._global_learning_rate()
        with paddle.no_grad():
            _C_ops.merged_adam_(params, grads, [lr] * len(params), m1, m2, None, b1p, b2p, None,
                                beta1, beta2, self._epsilon, False, False, False)

    def _scheduled_lr(self):
        sched = self._learning_rate
        return sched.last_lr if isinstance(sched, paddle.optimizer.lr.LRScheduler) else sched
