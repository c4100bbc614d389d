# Copyright (c) mmdl contributors. All rights reserved.
from .continual_hook import ContinualHook
from .drop_path_schedule_hook import DropPathScheduleHook
from .epoch_seed_hook import EpochSeedHook, epoch_seed
from .genotype_hook import GenotypeHook
from .kfac_bn_hook import KFACBNHook
from .regularizer_hook import RegularizerHook
from .rescl_hook import ResCLHook
from .task_data_override_hook import TaskDataOverrideHook

__all__ = [
    'ContinualHook', 'DropPathScheduleHook', 'EpochSeedHook', 'GenotypeHook',
    'KFACBNHook', 'RegularizerHook', 'ResCLHook', 'TaskDataOverrideHook',
    'epoch_seed'
]
