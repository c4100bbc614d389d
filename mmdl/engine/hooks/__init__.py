# Copyright (c) mmdl contributors. All rights reserved.
from .continual_hook import ContinualHook
from .epoch_seed_hook import EpochSeedHook, epoch_seed
from .kfac_bn_hook import KFACBNHook
from .regularizer_hook import RegularizerHook
from .rescl_hook import ResCLHook

__all__ = [
    'ContinualHook', 'EpochSeedHook', 'KFACBNHook', 'RegularizerHook',
    'ResCLHook', 'epoch_seed'
]
