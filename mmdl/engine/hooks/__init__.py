# Copyright (c) mmdl contributors. All rights reserved.
from .continual_hook import ContinualHook
from .drop_path_schedule_hook import DropPathScheduleHook
from .epoch_seed_hook import EpochSeedHook, epoch_seed
from .kfac_bn_hook import KFACBNHook
from .regularizer_hook import RegularizerHook
from .rescl_hook import ResCLHook

__all__ = [
    'ContinualHook', 'DropPathScheduleHook', 'EpochSeedHook',
    'KFACBNHook', 'RegularizerHook', 'ResCLHook', 'epoch_seed'
]
