# Copyright (c) mmdl contributors. All rights reserved.
from .partitioned_constructor import PartitionedOptimWrapperConstructor
from .selective_clip import (SelectiveClipAmpOptimWrapper,
                             SelectiveClipOptimWrapper, clipped_parameters)

__all__ = [
    'PartitionedOptimWrapperConstructor', 'SelectiveClipOptimWrapper',
    'SelectiveClipAmpOptimWrapper', 'clipped_parameters'
]
