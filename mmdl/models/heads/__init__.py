# Copyright (c) mmdl contributors. All rights reserved.
from .multi_task_head import MultiTaskLinearClsHead

__all__ = ['MultiTaskLinearClsHead']
