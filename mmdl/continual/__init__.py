# Copyright (c) mmdl contributors. All rights reserved.
"""Continual-learning building blocks: curvature, batch-norm merging,
quadratic forms, the objective and the regularisers."""
from .bn_merge import (bn_input_moments, find_bn_pairs, fold_bn,
                       fold_bn_into_affine, moments_to_mean_var,
                       reparameterise_bn)
from .curvature import (BN_CURVATURES, CURVATURES, FISHER_TYPES,
                        LayerCurvature, collect_curvature, find_layers,
                        flat_weight, is_affine_bn)
from .objective import ContinualObjective
from .quadratic_forms import KroneckerQuadratic, small_quadratic
from .regularizers import (BaseRegularizer, EWCRegularizer, KFACRegularizer,
                           L2Regularizer, L2SPRegularizer,
                           QuadraticRegularizer, XKFACRegularizer)

# Names of earlier versions (the regularisers were called penalties).
EWCPenalty = EWCRegularizer
KFACPenalty = KFACRegularizer
XKFACPenalty = XKFACRegularizer
L2AnchorPenalty = L2Regularizer

__all__ = [
    'BN_CURVATURES', 'bn_input_moments', 'find_bn_pairs', 'fold_bn',
    'fold_bn_into_affine', 'moments_to_mean_var', 'reparameterise_bn',
    'is_affine_bn', 'ContinualObjective', 'CURVATURES', 'FISHER_TYPES',
    'LayerCurvature', 'collect_curvature', 'find_layers', 'flat_weight',
    'KroneckerQuadratic', 'small_quadratic', 'BaseRegularizer',
    'QuadraticRegularizer', 'EWCRegularizer', 'KFACRegularizer',
    'XKFACRegularizer', 'L2Regularizer', 'L2SPRegularizer', 'EWCPenalty',
    'KFACPenalty', 'XKFACPenalty', 'L2AnchorPenalty'
]
