# Copyright (c) mmdl contributors. All rights reserved.
"""Quadratic forms ``1/2 dW^T F dW`` of stored curvature.

``dW`` is the displacement of a layer's flat weight ``W_bar`` (weights with
the bias column, see :func:`~mmdl.continual.curvature.flat_weight`) from
its anchor, ``F`` one task's :class:`~mmdl.continual.curvature.LayerCurvature`.

Kronecker forms never build the Kronecker product: with the vec trick
``vec(X)^T (A kron G) vec(X) = <G X A, X>``, the value and its gradient
come from the same product ``M = G dW A`` (value ``<M, dW> / 2``, gradient
``M``), computed once in the forward pass (:class:`KroneckerQuadratic`).
"""
from typing import List

import torch
from torch import Tensor

from .curvature import LayerCurvature


class KroneckerQuadratic(torch.autograd.Function):
    """``1/2 <M, dW>`` with ``M = sum_k G_k dW A_k`` over the factors of
    several tasks.

    With ``xkfac=True`` each term is the extended K-FAC product
    ``G_d dW (A - mu mu^T) + (G_sum dW mu) mu^T`` instead. The backward
    pass returns ``M`` without a second product.

    Args (of ``apply``):
        delta (Tensor): ``dW``, (C_out, D).
        factors (list[LayerCurvature]): One entry per task, with ``a`` and
            ``g`` (and ``mu``, ``g_sum`` for XK-FAC).
        xkfac (bool): Use the extended K-FAC product.

    Returns:
        Tensor: The scalar ``1/2 sum_k <M_k, dW>``.
    """

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


def small_quadratic(delta: Tensor, factors: List[LayerCurvature]) -> Tensor:
    """``1/2 d^T F d`` for diagonal and unit-wise curvature, summed over
    tasks.

    Args:
        delta (Tensor): ``dW`` of a Linear/Conv2d layer (diagonal, EWC) or
            ``(gamma, beta)`` displacement of a batch norm, (C, 2).
        factors (list[LayerCurvature]): One entry per task, with ``diag``
            (shaped like ``delta``) or ``unit`` ((C, 2, 2), one block per
            batch-norm channel).

    Returns:
        Tensor: The scalar value.
    """
    value = delta.new_zeros(())
    for f in factors:
        if f.unit is not None:
            value = value + 0.5 * torch.einsum('ci,cij,cj->', delta, f.unit,
                                               delta)
        elif f.diag is not None:
            value = value + 0.5 * (f.diag * delta * delta).sum()
    return value
