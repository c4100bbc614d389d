# Copyright (c) mmdl contributors. All rights reserved.
"""Continual-learning building blocks: curvature and quadratic penalties."""
from .bn_merge import (bn_input_moments, find_bn_pairs, fold_bn,
                       fold_bn_into_affine, moments_to_mean_var,
                       reparameterise_bn)
from .curvature import (BN_CURVATURES, CURVATURES, FISHER_TYPES,
                        LayerCurvature, collect_curvature, find_layers,
                        flat_weight, is_affine_bn)
from .objective import ContinualObjective
from .penalties import (PENALTIES, EWCPenalty, KFACPenalty, KroneckerQuadratic,
                        L2AnchorPenalty, QuadraticPenalty, XKFACPenalty)

__all__ = [
    'BN_CURVATURES', 'bn_input_moments', 'find_bn_pairs', 'fold_bn',
    'fold_bn_into_affine', 'moments_to_mean_var', 'reparameterise_bn',
    'is_affine_bn', 'ContinualObjective', 'CURVATURES', 'FISHER_TYPES',
    'LayerCurvature', 'collect_curvature', 'find_layers', 'flat_weight',
    'PENALTIES', 'EWCPenalty', 'KFACPenalty', 'KroneckerQuadratic',
    'L2AnchorPenalty', 'QuadraticPenalty', 'XKFACPenalty'
]
