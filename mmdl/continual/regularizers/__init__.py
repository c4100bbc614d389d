# Copyright (c) mmdl contributors. All rights reserved.
"""Continual-learning regularisers, registered in
:data:`~mmdl.registry.REGULARIZERS`."""
from .base import BaseRegularizer, LogitsFn
from .ewc import EWCRegularizer
from .kfac import KFACRegularizer
from .l2 import L2Regularizer
from .importance import ParameterImportanceRegularizer
from .l2_sp import L2SPRegularizer
from .lwf import LwFRegularizer
from .mas import MASRegularizer
from .quadratic import QuadraticRegularizer
from .si import SIRegularizer
from .xkfac import XKFACRegularizer

__all__ = [
    'BaseRegularizer', 'LogitsFn', 'QuadraticRegularizer', 'EWCRegularizer',
    'KFACRegularizer', 'XKFACRegularizer', 'L2Regularizer', 'L2SPRegularizer',
    'LwFRegularizer', 'ParameterImportanceRegularizer', 'SIRegularizer',
    'MASRegularizer'
]
