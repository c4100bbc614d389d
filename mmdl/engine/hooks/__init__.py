# Copyright (c) mmdl contributors. All rights reserved.
from .epoch_seed_hook import EpochSeedHook, epoch_seed

__all__ = ['EpochSeedHook', 'epoch_seed']
