# Copyright (c) mmdl contributors. All rights reserved.
"""The attacker's objectives, functions of the perturbation ``delta``.

**Reconstruction**: Han et al., "Data Poisoning Attack Aiming the
Vulnerability of Continual Learning" (ICIP 2023) do not publish their
generation procedure; these two objectives are mmdl's reconstruction of a
task-targeted attack on a regularised continual learner.

* :func:`unrolled_objective`: ``J`` differentiable SGD steps of the victim
  from ``theta*``, ``theta_{j+1} = theta_j - eta grad_theta [L_T(x + delta;
  theta_j) + w R(theta_j)]`` (inner gradients with ``create_graph=True``),
  then ``-L_k(theta_J)`` on the attacker's task-``k`` sample, plus
  ``w_cur L_T(x; theta_J)`` on the clean task-``T`` batch for the
  ``'cautious'`` objective (the victim should still learn task ``T``, so
  that the poisoning stays inconspicuous), nothing more for ``'reckless'``.
* :func:`gradient_matching_objective`: ``1 - cos(grad_theta [L_T(x + delta;
  theta*) + w R(theta*)], -grad_theta L_k(theta*))``: the victim's first
  descent direction on the poisoned batch aligned with the ascent direction
  of task ``k``'s loss (double backward through the inner gradient).

Both are minimised over ``delta``; parameters that a loss does not reach
(e.g. the other heads of a multi-head model) get zero gradients.
"""
from typing import Dict, List, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from .victim import FunctionalVictim

OBJECTIVES = ('cautious', 'reckless')


def _leaves(params: Dict[str, Tensor]) -> Dict[str, Tensor]:
    """Fresh leaves requiring grad, with the values of ``params``."""
    return {n: p.detach().requires_grad_(True) for n, p in params.items()}


def _grads(loss: Tensor, params: Dict[str, Tensor],
           create_graph: bool) -> List[Tensor]:
    """``d loss / d params``, zeros for the parameters it does not reach."""
    grads = torch.autograd.grad(
        loss,
        list(params.values()),
        create_graph=create_graph,
        allow_unused=True)
    return [
        torch.zeros_like(p) if g is None else g
        for p, g in zip(params.values(), grads)
    ]


def unrolled_params(victim: FunctionalVictim, params: Dict[str, Tensor],
                    x: Tensor, y: Tensor, task_id: int, unroll_steps: int,
                    inner_lr: float) -> Dict[str, Tensor]:
    """``theta_J`` after ``unroll_steps`` differentiable SGD steps of the
    victim on the batch ``(x, y)`` of task ``task_id``, from ``params``.

    Args:
        victim (FunctionalVictim): The victim.
        params (dict[str, Tensor]): ``theta*``.
        x (Tensor): The (poisoned) batch in ``[0, 1]``; gradients flow back
            to it.
        y (Tensor): Labels.
        task_id (int): The task being trained.
        unroll_steps (int): ``J >= 1``.
        inner_lr (float): ``eta``.

    Returns:
        dict[str, Tensor]: ``theta_J``, differentiable in ``x``.
    """
    theta = _leaves(params)
    for _ in range(unroll_steps):
        loss = victim.victim_loss(theta, x, y, task_id)
        grads = _grads(loss, theta, create_graph=True)
        theta = {
            name: p - inner_lr * g
            for (name, p), g in zip(theta.items(), grads)
        }
    return theta


def unrolled_objective(victim: FunctionalVictim,
                       params: Dict[str, Tensor],
                       x: Tensor,
                       delta: Tensor,
                       y: Tensor,
                       task_id: int,
                       target: Tuple[Tensor, Tensor, int],
                       unroll_steps: int = 3,
                       inner_lr: float = 0.05,
                       objective: str = 'cautious',
                       w_cur: float = 1.0) -> Tensor:
    """The unrolled attack loss (see the module docstring).

    Args:
        victim (FunctionalVictim): The victim.
        params (dict[str, Tensor]): ``theta*``.
        x (Tensor): Clean task-``T`` batch in ``[0, 1]``.
        delta (Tensor): Perturbation of ``x``.
        y (Tensor): Labels of ``x``.
        task_id (int): ``T``.
        target (tuple): ``(x_k, y_k, k)``, the attacker's task-``k`` batch.
        unroll_steps (int): ``J``. Defaults to 3.
        inner_lr (float): ``eta``. Defaults to 0.05.
        objective (str): ``'cautious'`` or ``'reckless'``. Defaults to
            ``'cautious'``.
        w_cur (float): Weight of the clean task-``T`` loss (cautious).
            Defaults to 1.

    Returns:
        Tensor: The scalar to minimise.
    """
    if objective not in OBJECTIVES:
        raise ValueError(f'objective={objective!r} is not one of '
                         f'{OBJECTIVES}')
    theta = unrolled_params(victim, params, x + delta, y, task_id,
                            unroll_steps, inner_lr)
    target_x, target_y, target_task = target
    loss = -victim.task_loss(theta, target_x, target_y, target_task)
    if objective == 'cautious' and w_cur:
        loss = loss + w_cur * victim.task_loss(theta, x, y, task_id)
    return loss


def target_ascent_direction(victim: FunctionalVictim, params: Dict[str,
                                                                   Tensor],
                            target: Tuple[Tensor, Tensor, int]) -> Tensor:
    """``-grad_theta L_k(theta*)``, flattened and detached: the direction
    the victim's gradient should take so that its descent step increases
    task ``k``'s loss.

    Args:
        victim (FunctionalVictim): The victim.
        params (dict[str, Tensor]): ``theta*``.
        target (tuple): ``(x_k, y_k, k)``.

    Returns:
        Tensor: 1-D, the length of all trainable parameters.
    """
    theta = _leaves(params)
    target_x, target_y, target_task = target
    loss = victim.task_loss(theta, target_x, target_y, target_task)
    grads = _grads(loss, theta, create_graph=False)
    return -torch.cat([g.reshape(-1) for g in grads]).detach()


def gradient_matching_objective(victim: FunctionalVictim, params: Dict[str,
                                                                       Tensor],
                                x: Tensor, delta: Tensor, y: Tensor,
                                task_id: int, direction: Tensor) -> Tensor:
    """``1 - cos(grad_theta [L_T(x + delta) + w R](theta*), direction)``.

    Args:
        victim (FunctionalVictim): The victim.
        params (dict[str, Tensor]): ``theta*``.
        x (Tensor): Clean task-``T`` batch in ``[0, 1]``.
        delta (Tensor): Perturbation of ``x``.
        y (Tensor): Labels.
        task_id (int): ``T``.
        direction (Tensor): :func:`target_ascent_direction`.

    Returns:
        Tensor: The scalar to minimise, in ``[0, 2]``.
    """
    theta = _leaves(params)
    loss = victim.victim_loss(theta, x + delta, y, task_id)
    grads = _grads(loss, theta, create_graph=True)
    flat = torch.cat([g.reshape(-1) for g in grads])
    return 1.0 - F.cosine_similarity(flat, direction, dim=0, eps=1e-12)
