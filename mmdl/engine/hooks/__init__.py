# Copyright (c) mmdl contributors. All rights reserved.
from .epoch_seed_hook import EpochSeedHook, epoch_seed
from .kfac_bn_hook import KFACBNHook

__all__ = ['EpochSeedHook', 'KFACBNHook', 'epoch_seed']
