# Copyright (c) mmdl contributors. All rights reserved.
"""Continual-learning building blocks: curvature and quadratic penalties."""
from .curvature import (CURVATURES, FISHER_TYPES, LayerCurvature,
                        collect_curvature, find_layers, flat_weight)
from .objective import ContinualObjective
from .penalties import (PENALTIES, EWCPenalty, KFACPenalty, KroneckerQuadratic,
                        L2AnchorPenalty, QuadraticPenalty, XKFACPenalty)

__all__ = [
    'ContinualObjective', 'CURVATURES', 'FISHER_TYPES', 'LayerCurvature',
    'collect_curvature', 'find_layers', 'flat_weight', 'PENALTIES',
    'EWCPenalty', 'KFACPenalty', 'KroneckerQuadratic', 'L2AnchorPenalty',
    'QuadraticPenalty', 'XKFACPenalty'
]
