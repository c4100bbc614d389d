# Copyright (c) mmdl contributors. All rights reserved.
from .continual_evaluator import ContinualEvaluator
from .continual_test_loop import ContinualTestLoop
from .paired_loop import CyclingIterator, PairedEpochBasedTrainLoop
from .piggyback_test_loop import PiggybackTestLoop
from .task_data import TaskDataloaders
from .task_optim import TaskOptimization, merge_optim_cfg
from .task_schedule import TaskSchedule
from .task_sequence_loop import TaskSequenceTrainLoop

__all__ = [
    'ContinualEvaluator', 'ContinualTestLoop', 'CyclingIterator',
    'PairedEpochBasedTrainLoop', 'PiggybackTestLoop', 'TaskDataloaders',
    'TaskOptimization', 'TaskSchedule', 'TaskSequenceTrainLoop',
    'merge_optim_cfg'
]
