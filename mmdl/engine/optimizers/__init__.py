# Copyright (c) mmdl contributors. All rights reserved.
from .partitioned_constructor import PartitionedOptimWrapperConstructor

__all__ = ['PartitionedOptimWrapperConstructor']
