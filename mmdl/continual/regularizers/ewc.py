# Copyright (c) mmdl contributors. All rights reserved.
"""Elastic weight consolidation (EWC)."""
from typing import List

from torch import Tensor

from mmdl.registry import REGULARIZERS
from ..curvature import LayerCurvature
from ..quadratic_forms import small_quadratic
from .quadratic import QuadraticRegularizer


@REGULARIZERS.register_module()
class EWCRegularizer(QuadraticRegularizer):
    """EWC penalty ``1/2 sum_t sum F_diag^(t) * dW^2`` (Kirkpatrick et al.,
    "Overcoming catastrophic forgetting in neural networks", PNAS 2017),
    one diagonal Fisher per task, anchored at the latest task's weights.

    Penalises the Linear/Conv2d weights and biases, and the batch-norm
    gamma/beta with ``bn_curvature`` (always their diagonal). Each task's
    Fisher is estimated at its own solution; the Fishers are summed and the
    anchor follows the latest solution (the online form of Schwarz et al.,
    ICML 2018, without decay), whereas Kirkpatrick et al. centre each
    task's quadratic on that task's own weights.

    Args:
        fisher (str): ``'true'`` or ``'empirical'``. Defaults to ``'true'``.
        layers (list[str], optional): Layers to penalise. Defaults to all.
        max_batches (int, optional): Batches per task. Defaults to all.
        bn_curvature (str, optional): Any non-None value penalises the
            affine batch norms with their diagonal Fisher. Defaults to
            None.
    """

    curvature = 'ewc'

    def layer_penalty(self, delta: Tensor,
                      factors: List[LayerCurvature]) -> Tensor:
        """``1/2 sum_t sum F_diag^(t) dW^2`` of one layer."""
        return small_quadratic(delta, factors)
