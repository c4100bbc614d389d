# Copyright (c) mmdl contributors. All rights reserved.
from .continual_evaluator import ContinualEvaluator
from .continual_test_loop import ContinualTestLoop
from .task_data import TaskDataloaders
from .task_optim import TaskOptimization, merge_optim_cfg
from .task_schedule import TaskSchedule
from .task_sequence_loop import TaskSequenceTrainLoop

__all__ = [
    'ContinualEvaluator', 'ContinualTestLoop', 'TaskDataloaders', 'TaskOptimization',
    'TaskSchedule', 'TaskSequenceTrainLoop', 'merge_optim_cfg'
]
