# Copyright (c) mmdl contributors. All rights reserved.
from .scaled_non_local import ScaledNonLocal2d, non_local_aggregate

__all__ = ['ScaledNonLocal2d', 'non_local_aggregate']
