# Copyright (c) mmdl contributors. All rights reserved.
from .delegating_ddp import (DelegatingDistributedDataParallel,
                             average_gradients, gradients_averaged_before_step)

__all__ = [
    'DelegatingDistributedDataParallel', 'average_gradients',
    'gradients_averaged_before_step'
]
