# Copyright (c) mmdl contributors. All rights reserved.
"""Neural architecture search spaces."""
from .operations import (PRIMITIVES, DilConv, FactorizedReduce, ReLUConvBN,
                         SepConv, Zero, build_operation)

__all__ = [
    'PRIMITIVES', 'DilConv', 'FactorizedReduce', 'ReLUConvBN', 'SepConv',
    'Zero', 'build_operation'
]
