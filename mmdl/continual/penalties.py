# Copyright (c) mmdl contributors. All rights reserved.
"""Quadratic penalties toward the previous solution for continual learning.

Each penalty is a callable ``penalty(model) -> Tensor`` computing
``1/2 sum_l dW_l^T F_l dW_l`` with ``dW = W_bar - W_bar*`` (weights with
the bias column, see :func:`~mmdl.continual.curvature.flat_weight`), summed
over the tasks whose curvature it holds. Penalties keep their state (anchor
weights, curvature) outside the model's ``state_dict``; ``state_dict()`` /
``load_state_dict()`` give plain dicts of tensors for checkpoints.

Kronecker penalties never form a Kronecker product: with the vec trick
``vec(X)^T (A kron G) vec(X) = <G X A, X>``; the value and its gradient come
from the same product ``M = G dW A`` (value ``<M, dW> / 2``, gradient
``M``), computed once in the forward pass (:class:`KroneckerQuadratic`).

Batch norms with curvature (``bn_curvature`` of
:func:`~mmdl.continual.curvature.collect_curvature`) are penalised on
``d = (gamma, beta) - (gamma*, beta*)``: ``1/2 sum_c d_c^T U_c d_c``
(unit-wise) or ``1/2 sum diag * d^2``.
"""
from typing import Dict, List, Optional

import torch
from torch import Tensor, nn

from .curvature import LayerCurvature, find_layers, flat_weight


class KroneckerQuadratic(torch.autograd.Function):
    """``1/2 <M, dW>`` with ``M = sum_k G_k dW A_k (+ rank-one terms)``;
    backward returns ``M`` without a second product."""

    @staticmethod
    def forward(ctx, delta: Tensor, factors: List[LayerCurvature],
                xkfac: bool) -> Tensor:
        product = torch.zeros_like(delta)
        for f in factors:
            if xkfac:
                product += f.g @ delta @ f.centred_a()
                product += torch.outer(f.g_sum @ (delta @ f.mu), f.mu)
            else:
                product += f.g @ delta @ f.a
        ctx.save_for_backward(product)
        return 0.5 * (product * delta).sum()

    @staticmethod
    def backward(ctx, grad_output: Tensor):
        product, = ctx.saved_tensors
        return grad_output * product, None, None


class QuadraticPenalty:
    """Base class: anchors and per-task curvature of a set of layers.

    Args:
        layer_names (list[str], optional): Layers (Linear/Conv2d, and
            affine batch norms with ``include_bn``) to penalise. Defaults
            to all of the model's.
        include_bn (bool): Anchor the affine batch norms too (for
            batch-norm curvature). Defaults to False.
    """

    name = 'quadratic'

    def __init__(self,
                 layer_names: Optional[List[str]] = None,
                 include_bn: bool = False) -> None:
        self.layer_names = layer_names
        self.include_bn = include_bn
        self.anchors: Dict[str, Tensor] = {}
        self.tasks: List[Dict[str, LayerCurvature]] = []

    def set_anchor(self, model: nn.Module) -> None:
        """Centre the penalty on the model's current weights."""
        self.anchors = {
            name: flat_weight(layer).detach().clone()
            for name, layer in find_layers(model, self.layer_names,
                                           self.include_bn).items()
        }

    def add_task(self, curvature: Dict[str, LayerCurvature]) -> None:
        """Add one task's curvature (estimated at its own solution)."""
        self.tasks.append(curvature)

    def deltas(self, model: nn.Module) -> Dict[str, Tensor]:
        layers = find_layers(model, list(self.anchors), self.include_bn)
        return {
            name: flat_weight(layer) - self.anchors[name]
            for name, layer in layers.items()
        }

    def __call__(self, model: nn.Module) -> Tensor:
        raise NotImplementedError

    def state_dict(self) -> Dict:
        """Anchors and curvature as plain dicts of tensors."""
        return dict(
            anchors=dict(self.anchors),
            tasks=[{
                name: c.to_state()
                for name, c in task.items()
            } for task in self.tasks])

    def load_state_dict(self, state: Dict) -> None:
        self.anchors = dict(state['anchors'])
        self.tasks = [{
            name: LayerCurvature.from_state(c)
            for name, c in task.items()
        } for task in state['tasks']]


def _small_quadratic(delta: Tensor, factors: List[LayerCurvature]) -> Tensor:
    """``1/2 d^T F d`` for diagonal (``diag``) and unit-wise (``unit``,
    2x2 per channel) curvature, summed over tasks."""
    value = delta.new_zeros(())
    for f in factors:
        if f.unit is not None:
            value = value + 0.5 * torch.einsum('ci,cij,cj->', delta, f.unit,
                                               delta)
        elif f.diag is not None:
            value = value + 0.5 * (f.diag * delta * delta).sum()
    return value


class KFACPenalty(QuadraticPenalty):
    """K-FAC penalty ``1/2 sum_l <G dW A, dW>`` (Ritter et al. 2018's
    online structured Laplace, one Kronecker product per layer and task),
    plus the unit-wise or diagonal batch-norm terms when their curvature
    was collected.

    Args:
        layer_names (list[str], optional): Layers to penalise.
        include_bn (bool): Anchor the affine batch norms too.
    """

    name = 'kfac'
    xkfac = False

    def __call__(self, model: nn.Module) -> Tensor:
        total = None
        for name, delta in self.deltas(model).items():
            factors = [task[name] for task in self.tasks if name in task]
            kron = [f for f in factors if f.g is not None]
            small = [f for f in factors if f.g is None]
            if not factors:
                continue
            value = None
            if kron:
                value = KroneckerQuadratic.apply(delta, kron, self.xkfac)
            if small:
                extra = _small_quadratic(delta, small)
                value = extra if value is None else value + extra
            total = value if total is None else total + value
        if total is None:
            return next(iter(model.parameters())).new_zeros(())
        return total


class XKFACPenalty(KFACPenalty):
    """Extended K-FAC penalty (Lee et al., CVPR 2020), per layer and task:

    ``1/2 [ <G_d dW (A - mu mu^T), dW> + (dW mu)^T G_sum (dW mu) ]``

    **Reconstruction** of the paper's factors (see
    :mod:`mmdl.continual.curvature`).
    """

    name = 'xkfac'
    xkfac = True


class EWCPenalty(QuadraticPenalty):
    """EWC penalty ``1/2 sum F_diag * dW^2`` (Kirkpatrick et al. 2017) on
    the Linear/Conv2d weights and biases, and on the batch-norm gamma/beta
    when their curvature was collected."""

    name = 'ewc'

    def __call__(self, model: nn.Module) -> Tensor:
        total = None
        for name, delta in self.deltas(model).items():
            factors = [task[name] for task in self.tasks if name in task]
            if not factors:
                continue
            value = _small_quadratic(delta, factors)
            total = value if total is None else total + value
        if total is None:
            return next(iter(model.parameters())).new_zeros(())
        return total


class L2AnchorPenalty:
    """``1/2 ||theta - theta*||^2`` over all trainable parameters: L2
    toward the previous weights (L2-SP), and XK-FAC's damping realised as
    weight decay centred on the previous solution."""

    name = 'l2'

    def __init__(self) -> None:
        self.anchors: Dict[str, Tensor] = {}

    def set_anchor(self, model: nn.Module) -> None:
        self.anchors = {
            name: p.detach().clone()
            for name, p in model.named_parameters() if p.requires_grad
        }

    def __call__(self, model: nn.Module) -> Tensor:
        params = dict(model.named_parameters())
        deltas = [params[n] - a for n, a in self.anchors.items()]
        if not deltas:
            return next(iter(model.parameters())).new_zeros(())
        return 0.5 * sum((d * d).sum() for d in deltas)

    def state_dict(self) -> Dict:
        return dict(anchors=dict(self.anchors))

    def load_state_dict(self, state: Dict) -> None:
        self.anchors = dict(state['anchors'])


PENALTIES = {cls.name: cls for cls in (KFACPenalty, XKFACPenalty, EWCPenalty)}
