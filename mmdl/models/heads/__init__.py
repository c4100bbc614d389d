# Copyright (c) mmdl contributors. All rights reserved.
from .auxiliary_cls_head import AuxiliaryClsHead
from .margin_head import (CombinedMarginHead, combined_margin_target,
                          ignore_sharded_centres_in_ddp, shard_range,
                          sharded_centre_names)
from .multi_task_head import MultiTaskLinearClsHead

__all__ = [
    'AuxiliaryClsHead', 'CombinedMarginHead', 'MultiTaskLinearClsHead',
    'combined_margin_target', 'ignore_sharded_centres_in_ddp', 'shard_range',
    'sharded_centre_names'
]
