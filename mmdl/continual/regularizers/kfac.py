# Copyright (c) mmdl contributors. All rights reserved.
"""Kronecker-factored (K-FAC) curvature penalty."""
from typing import List

from torch import Tensor

from mmdl.registry import REGULARIZERS
from ..curvature import LayerCurvature
from ..quadratic_forms import KroneckerQuadratic, small_quadratic
from .quadratic import QuadraticRegularizer


@REGULARIZERS.register_module()
class KFACRegularizer(QuadraticRegularizer):
    """K-FAC penalty ``1/2 sum_t sum_l <G_l^(t) dW_l A_l^(t), dW_l>``
    (Ritter et al., "Online Structured Laplace Approximations for
    Overcoming Catastrophic Forgetting", NeurIPS 2018: one Kronecker
    product per layer and task), anchored at the latest task's weights.

    ``A = E[a a^T]`` and ``G = E[g g^T]`` keep only the per-example terms,
    which ignores the dependence between the examples of a batch that
    train-mode batch norm creates (see
    :class:`~mmdl.continual.regularizers.XKFACRegularizer`). Affine batch
    norms get a unit-wise (2x2 per channel) or diagonal quadratic on
    ``(gamma, beta)`` with ``bn_curvature`` (Reconstruction, see
    :mod:`mmdl.continual.curvature`).

    Args:
        fisher (str): ``'true'`` or ``'empirical'``. Defaults to ``'true'``.
        layers (list[str], optional): Layers to penalise. Defaults to all.
        max_batches (int, optional): Batches per task. Defaults to all.
        bn_curvature (str, optional): ``'unitwise'``, ``'diag'`` or None.
            Defaults to None.
    """

    curvature = 'kfac'
    #: Use the extended K-FAC product (:class:`KroneckerQuadratic`).
    xkfac = False

    def layer_penalty(self, delta: Tensor,
                      factors: List[LayerCurvature]) -> Tensor:
        """Kronecker terms of the Linear/Conv2d factors plus the quadratic
        of the batch-norm (diagonal or unit-wise) factors."""
        kron = [f for f in factors if f.g is not None]
        small = [f for f in factors if f.g is None]
        value = None
        if kron:
            value = KroneckerQuadratic.apply(delta, kron, self.xkfac)
        if small:
            extra = small_quadratic(delta, small)
            value = extra if value is None else value + extra
        return value
