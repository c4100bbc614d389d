# Copyright (c) mmdl contributors. All rights reserved.
from .auxiliary_cls_head import AuxiliaryClsHead
from .multi_task_head import MultiTaskLinearClsHead

__all__ = ['AuxiliaryClsHead', 'MultiTaskLinearClsHead']
