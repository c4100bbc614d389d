# Copyright (c) mmdl contributors. All rights reserved.
"""Synaptic Intelligence (SI)."""
from typing import Dict, List, Optional, Tuple

import torch
from torch import Tensor, nn

from mmdl.registry import REGULARIZERS
from .base import LogitsFn
from .importance import ParameterImportanceRegularizer

#: The gradients SI can integrate along the optimisation path.
SI_GRADIENTS = ('task', 'total')


@REGULARIZERS.register_module()
class SIRegularizer(ParameterImportanceRegularizer):
    """Synaptic Intelligence penalty ``sum_i Omega_i (theta_i -
    theta*_i)^2`` (Zenke, Poole, Ganguli, "Continual Learning Through
    Synaptic Intelligence", ICML 2017).

    While task ``nu`` is trained, every optimiser step ``t`` adds to the
    path integral of each parameter entry

        ``omega_i -= g_i(t) * (theta_i(t + 1) - theta_i(t))``,

    with ``g(t)`` the gradient the step was computed from (see ``gradient``)
    and ``theta(t)`` the weights it was evaluated at. At the end of the task
    (:meth:`consolidate`), with ``Delta_i = theta_i(end) - theta_i(start)``,

        ``Omega_i += omega_i / (Delta_i^2 + xi)``,

    ``omega`` is reset and the anchor ``theta*`` moves to the current
    weights. ``theta(start)`` is read right before the task's first
    optimiser step (after any change a ``before_task`` hook makes). The
    importance is not clipped: an entry whose path integral is negative
    (e.g. with momentum) gets a negative ``Omega``, as in the paper.

    The per-step information comes from :meth:`before_step` /
    :meth:`after_step` (:attr:`observes_steps`), which
    :class:`~mmdl.engine.hooks.RegularizerHook` drives from the
    optimiser's step pre/post hooks: the gradient is read after the
    backward pass, gradient accumulation, DDP averaging and clipping, and
    the parameter change is the step's own (mmengine zeroes ``.grad`` only
    after the step). :meth:`consolidate` uses neither the data nor the
    train/eval mode (no batch norm or dropout is involved, and running
    statistics are not touched).

    The scale ``c`` of the paper is ``penalty_weight`` of
    :class:`~mmdl.engine.hooks.RegularizerHook` (with
    ``task_weighting=False``, see
    :class:`~mmdl.continual.regularizers.ParameterImportanceRegularizer`).

    Checkpoints hold the running ``omega`` (``path_integral``) and
    ``theta(start)`` (``task_start``) of the task being trained, so that a
    run resumed in the middle of a task integrates the same path.

    Args:
        xi (float): Damping ``xi`` of ``Delta^2 + xi``. Defaults to 0.1,
            the value commonly used for SI (the paper treats it as a small
            hyperparameter keeping the ratio bounded when a weight barely
            moved).
        gradient (str): The gradient integrated along the path:

            * ``'task'`` (default, the paper's): the gradient of the
              task's loss without SI's own penalty. It is the optimiser's
              gradient minus SI's penalty gradient ``w * 2 Omega (theta -
              theta*)``, where ``w = d loss / d penalty`` (the objective's
              weight, the 1/k of gradient accumulation) is read by a
              tensor hook on the penalty during the backward pass; no
              extra backward pass is needed. Other terms of the loss
              (other regularisers, the hook's damping) stay in. Not exact
              under gradient clipping (the clipped total minus the
              unclipped penalty gradient) or AMP loss scaling (``w``
              includes the loss scale, the optimiser's gradient does not),
              and under DDP only if the penalty's weight is the same on
              every process (not so with ``adaptive_scaling``).
            * ``'total'``: the optimiser's gradient as it is (every term
              of the optimised loss).

        layers (list[str], optional): Module names of the Linear/Conv2d
            layers (and affine batch norms, with ``include_bn``) to
            penalise. Defaults to all.
        include_bn (bool): Also the batch-norm gamma/beta. Defaults to
            False.
    """

    observes_steps = True

    def __init__(self,
                 xi: float = 0.1,
                 gradient: str = 'task',
                 layers: Optional[List[str]] = None,
                 include_bn: bool = False) -> None:
        super().__init__(layers=layers, include_bn=include_bn)
        if not isinstance(xi, (int, float)) or isinstance(xi, bool) \
                or xi <= 0:
            raise ValueError(f'{type(self).__name__}: xi must be a positive '
                             f'number, got {xi!r}')
        if gradient not in SI_GRADIENTS:
            raise ValueError(f'{type(self).__name__}: gradient={gradient!r} '
                             f'is not one of {SI_GRADIENTS}')
        self.xi = float(xi)
        self.gradient = gradient
        #: Running path integral ``omega`` of the current task, by name.
        self.path_integral: Dict[str, Tensor] = {}
        #: ``theta(start)`` of the current task (empty before its first
        #: step), by name.
        self.task_start: Dict[str, Tensor] = {}
        # (g, theta before) of the step in progress, between before_step
        # and after_step
        self._pending: Optional[Dict[str, Tuple[Tensor, Tensor]]] = None
        # d loss / d penalty summed over the backward passes since the last
        # step (gradient='task')
        self._penalty_weight: Optional[Tensor] = None

    # ------------------------------------------------------------------
    # the penalty
    # ------------------------------------------------------------------
    def _record_penalty_weight(self, grad: Tensor) -> None:
        grad = grad.detach()
        self._penalty_weight = grad if self._penalty_weight is None else \
            self._penalty_weight + grad

    def __call__(self, model: nn.Module) -> Tensor:
        """``sum_i Omega_i (theta_i - theta*_i)^2``; with
        ``gradient='task'`` the weight the backward pass gives it is
        recorded (to remove its gradient from the path integral).

        Args:
            model (nn.Module): The model being trained.

        Returns:
            Tensor: A scalar; zero before the first consolidation.
        """
        total = super().__call__(model)
        if self.gradient == 'task' and total.requires_grad:
            total.register_hook(self._record_penalty_weight)
        return total

    # ------------------------------------------------------------------
    # the path integral
    # ------------------------------------------------------------------
    def before_step(self, model: nn.Module) -> None:
        """Record ``g(t)`` and ``theta(t)`` (and ``theta(start)`` at the
        task's first step).

        Args:
            model (nn.Module): The model being trained (unwrapped).
        """
        params = self.penalised_parameters(model)
        penalty_grad = None
        if self.gradient == 'task' and self._penalty_weight is not None:
            penalty_grad = self.penalty_gradient(params)
        pending = {}
        for name, p in params.items():
            theta = p.detach().clone()
            if name not in self.task_start:
                self.task_start[name] = theta.clone()
            g = torch.zeros_like(theta) if p.grad is None else \
                p.grad.detach().clone()
            if penalty_grad is not None:
                g -= self._penalty_weight.to(g.dtype) * penalty_grad[name]
            pending[name] = (g, theta)
        self._pending = pending
        self._penalty_weight = None

    def after_step(self, model: nn.Module) -> None:
        """Add ``-g(t) * (theta(t + 1) - theta(t))`` to ``omega``.

        Args:
            model (nn.Module): The model being trained (unwrapped).
        """
        if self._pending is None:
            return
        params = self.penalised_parameters(model)
        for name, (g, before) in self._pending.items():
            if name not in params:
                continue
            step = -(g * (params[name].detach() - before))
            old = self.path_integral.get(name)
            self.path_integral[name] = step if old is None else old + step
        self._pending = None

    def consolidate(self,
                    model: nn.Module,
                    batches=None,
                    logits_fn: Optional[LogitsFn] = None,
                    generator: Optional[torch.Generator] = None) -> None:
        """``Omega += omega / (Delta^2 + xi)``, reset ``omega`` and move the
        anchor to the current weights (the data are not used).

        A task without any step (0 epochs) adds nothing to ``Omega``.

        Args:
            model (nn.Module): The model at the end of the task.
            batches: Unused.
            logits_fn: Unused.
            generator: Unused.
        """
        importance = {}
        for name, p in self.penalised_parameters(model).items():
            omega = self.path_integral.get(name)
            start = self.task_start.get(name)
            if omega is None or start is None:
                importance[name] = torch.zeros_like(p.detach())
                continue
            delta = p.detach() - start
            importance[name] = omega / (delta * delta + self.xi)
        self.add_importance(importance, 'sum')
        self.set_anchor(model)
        self.path_integral = {}
        self.task_start = {}
        self._pending = None
        self._penalty_weight = None

    # ------------------------------------------------------------------
    # checkpoints
    # ------------------------------------------------------------------
    def state_dict(self) -> Dict:
        """``importance`` (``Omega``), ``anchors`` (``theta*``),
        ``num_tasks``, and the current task's ``path_integral``
        (``omega``) and ``task_start`` (``theta(start)``)."""
        state = super().state_dict()
        state.update(
            path_integral=dict(self.path_integral),
            task_start=dict(self.task_start))
        return state

    def load_state_dict(self, state: Dict) -> None:
        """Restore the output of :meth:`state_dict`.

        Raises:
            KeyError: A key of :meth:`state_dict` is missing.
        """
        missing = [
            k for k in ('path_integral', 'task_start') if k not in state
        ]
        if missing:
            raise KeyError(f'{type(self).__name__}.load_state_dict: the state '
                           f'lacks {missing} (expected the keys of '
                           'state_dict())')
        super().load_state_dict(state)
        self.path_integral = dict(state['path_integral'])
        self.task_start = dict(state['task_start'])
        self._pending = None
        self._penalty_weight = None
