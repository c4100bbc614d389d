# Copyright (c) mmdl contributors. All rights reserved.
"""How the new task's loss and the penalty of the old tasks are combined.

Lee et al. (CVPR 2020) choose hyperparameters without source-task data:
each of the T + 1 tasks learned so far is equally important, so the penalty
standing for the T old tasks is weighted ``lambda_s = T / (T + 1)`` and the
new task's loss ``lambda_t = 1 / (T + 1)``, and adaptive scales ``alpha_s``,
``alpha_t`` balance the two terms.

**Reconstruction** (the paper's definitions were not available): the
adaptive scales are stop-gradient running normalisers,
``alpha_t = 1 / EMA(L_t)`` and ``alpha_s = 1 / EMA(penalty)`` (momentum
0.99), so that both terms are O(1) and ``lambda_s : lambda_t`` sets the
trade-off. ``EMA(L_t)`` starts at the first task loss. The penalty is 0 at
the anchor and grows from there, so ``EMA(penalty)`` starts at the current
``EMA(L_t)`` when the penalty first becomes non-zero (the two terms start
on the same scale) and then follows the penalty. Starting it at the first
non-zero penalty instead, which is tiny one step after the anchor, makes
``alpha_s`` huge and the penalty's gradient explode. Damping is weight
decay centred on the previous solution, ``lambda_d / 2 ||theta -
theta*||^2``, added unscaled.
"""
from typing import Callable, Dict, Optional

from torch import Tensor, nn


class ContinualObjective:
    """Combine task losses and the old tasks' penalty.

    Args:
        penalty_weight (float): Extra factor on the penalty (the usual
            lambda of EWC-style methods). Defaults to 1.
        task_weighting (bool): Use ``lambda_t = 1/(T+1)`` and
            ``lambda_s = T/(T+1)``. Defaults to True.
        adaptive_scaling (bool): Use the running normalisers
            ``alpha_t``/``alpha_s``. Defaults to False.
        momentum (float): EMA momentum of the normalisers. Defaults to
            0.99.
        damping (float): ``lambda_d`` of the centred weight decay.
            Defaults to 0.
        damping_fn (callable, optional): ``damping_fn(model) -> Tensor``,
            ``1/2 ||theta - theta*||^2``
            (:class:`~mmdl.continual.regularizers.L2Regularizer`).
    """

    def __init__(
            self,
            penalty_weight: float = 1.0,
            task_weighting: bool = True,
            adaptive_scaling: bool = False,
            momentum: float = 0.99,
            damping: float = 0.0,
            damping_fn: Optional[Callable[[nn.Module],
                                          Tensor]] = None) -> None:
        self.penalty_weight = penalty_weight
        self.task_weighting = task_weighting
        self.adaptive_scaling = adaptive_scaling
        self.momentum = momentum
        self.damping = damping
        self.damping_fn = damping_fn
        self.num_old_tasks = 0
        self.ema_task: Optional[float] = None
        self.ema_penalty: Optional[float] = None

    def _ema(self, current: Optional[float], value: float) -> float:
        if current is None or current == 0:
            return value
        return self.momentum * current + (1 - self.momentum) * value

    def __call__(self, model: nn.Module, losses: Dict[str, Tensor],
                 penalty: Tensor) -> Dict[str, Tensor]:
        """Weighted losses (every key containing ``'loss'`` is summed by
        mmengine).

        Args:
            model (nn.Module): The model (for the damping term).
            losses (dict): The new task's losses.
            penalty (Tensor): The old tasks' penalty.

        Returns:
            dict: The task losses scaled by ``lambda_t alpha_t``, plus
            ``loss_penalty`` and, with damping, ``loss_damping``.
        """
        old = self.num_old_tasks
        lam_t, lam_s = ((1.0 / (old + 1),
                         old / (old + 1)) if self.task_weighting else
                        (1.0, 1.0))
        task_loss = sum(v for k, v in losses.items() if 'loss' in k)
        alpha_t = alpha_s = 1.0
        if self.adaptive_scaling:
            self.ema_task = self._ema(self.ema_task, float(task_loss.detach()))
            if self.ema_penalty is None and float(penalty.detach()) > 0:
                self.ema_penalty = self.ema_task
            if self.ema_penalty is not None:
                self.ema_penalty = self._ema(self.ema_penalty,
                                             float(penalty.detach()))
            alpha_t = 1.0 / max(self.ema_task, 1e-12)
            if self.ema_penalty:
                alpha_s = 1.0 / max(self.ema_penalty, 1e-12)
        out = {
            k: (v * (lam_t * alpha_t) if 'loss' in k else v)
            for k, v in losses.items()
        }
        out['loss_penalty'] = penalty * (lam_s * alpha_s * self.penalty_weight)
        if self.damping and self.damping_fn is not None:
            out['loss_damping'] = self.damping * self.damping_fn(model)
        return out

    def state_dict(self) -> Dict:
        return dict(
            num_old_tasks=self.num_old_tasks,
            ema_task=self.ema_task,
            ema_penalty=self.ema_penalty)

    def load_state_dict(self, state: Dict) -> None:
        self.num_old_tasks = state['num_old_tasks']
        self.ema_task = state['ema_task']
        self.ema_penalty = state['ema_penalty']
