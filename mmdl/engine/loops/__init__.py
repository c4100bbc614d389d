# Copyright (c) mmdl contributors. All rights reserved.
from .task_sequence_loop import TaskSequenceTrainLoop

__all__ = ['TaskSequenceTrainLoop']
