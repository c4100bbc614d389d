# Copyright (c) mmdl contributors. All rights reserved.
"""Extended K-FAC (XK-FAC) curvature penalty."""
from mmdl.registry import REGULARIZERS
from .kfac import KFACRegularizer


@REGULARIZERS.register_module()
class XKFACRegularizer(KFACRegularizer):
    """Extended K-FAC penalty (Lee et al., "Continual Learning with Extended
    Kronecker-factored Approximate Curvature", CVPR 2020), per layer and
    task:

    ``1/2 [ <G_d dW (A - mu mu^T), dW> + (dW mu)^T G_sum (dW mu) ]``

    It keeps the inter-example terms of the Fisher that train-mode batch
    norm creates (``G_sum`` holds the outer products of the batch-summed
    output gradients), and for batch norms with ``bn_curvature`` the cross
    terms of the ``(gamma, beta)`` gradients.

    **Reconstruction**: the paper's equations were not available; the
    factors are derived under the assumption ``E[a_n a_m^T] = mu mu^T`` for
    different examples of a batch (see :mod:`mmdl.continual.curvature`).

    Args:
        fisher (str): ``'true'`` or ``'empirical'``. Defaults to ``'true'``.
        layers (list[str], optional): Layers to penalise. Defaults to all.
        max_batches (int, optional): Batches per task. Defaults to all.
        bn_curvature (str, optional): ``'unitwise'``, ``'diag'`` or None.
            Defaults to None.
    """

    curvature = 'xkfac'
    xkfac = True
