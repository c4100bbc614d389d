# Copyright (c) mmdl contributors. All rights reserved.
"""The epochs of a task sequence: epochs per task and epoch -> task."""
import bisect
from typing import List, Sequence, Union

import numpy as np


class TaskSchedule:
    """Epochs per task of a sequence and the global epochs they own.

    Epochs are global: the sequence has ``sum(epochs)`` of them and task
    ``t`` owns ``starts[t] .. starts[t + 1] - 1``. A task with 0 epochs
    (e.g. a source task learnt before the sequence and loaded with
    ``load_from``) owns none: with ``[0, 2]`` epochs 0 and 1 belong to task
    1.

    Args:
        num_tasks (int): Number of tasks.
        max_epochs (int | Sequence[int]): Epochs of every task, or one
            number per task (>= 0, not 0 for all).
    """

    def __init__(self, num_tasks: int,
                 max_epochs: Union[int, Sequence[int]]) -> None:
        if int(num_tasks) != num_tasks or num_tasks < 1:
            raise ValueError(f'num_tasks must be a positive integer, got '
                             f'{num_tasks}')
        self.num_tasks = int(num_tasks)
        if isinstance(max_epochs, (int, np.integer)):
            epochs = [int(max_epochs)] * self.num_tasks
        else:
            epochs = [int(e) for e in max_epochs]
        if len(epochs) != self.num_tasks:
            raise ValueError(f'max_epochs has {len(epochs)} entries for '
                             f'{self.num_tasks} tasks')
        if any(e < 0 for e in epochs):
            raise ValueError(f'max_epochs must be >= 0 for every task, got '
                             f'{epochs}')
        if not any(epochs):
            raise ValueError(
                f'max_epochs is 0 for every task ({epochs}): nothing to '
                'train (evaluate a checkpoint with tools/test.py instead)')
        #: Epochs of every task.
        self.epochs: List[int] = epochs
        #: First global epoch of every task, plus the total.
        self.starts: List[int] = [0] + np.cumsum(epochs).tolist()

    @property
    def total(self) -> int:
        """int: Epochs of the whole sequence."""
        return self.starts[-1]

    def task_of_epoch(self, epoch: int) -> int:
        """The task of global epoch ``epoch`` (0-based); the last task for
        ``epoch >= total``."""
        task = bisect.bisect_right(self.starts, epoch) - 1
        return min(max(task, 0), self.num_tasks - 1)

    def task_after(self, epochs_done: int) -> int:
        """The task of the last epoch done (0 when none is)."""
        return 0 if epochs_done == 0 else self.task_of_epoch(epochs_done - 1)

    def check_progress(self, epoch: int, completed: int) -> None:
        """Check that ``epoch`` epochs done and ``completed`` tasks
        completed (e.g. restored from a checkpoint) agree.

        Raises:
            RuntimeError: They do not.
        """
        if completed >= self.num_tasks:
            if epoch != self.total:
                raise RuntimeError(
                    f'All {self.num_tasks} tasks are completed but the '
                    f'epoch is {epoch}, not {self.total}.')
            return
        start, end = self.starts[completed], self.starts[completed + 1]
        if not start <= epoch <= end:
            raise RuntimeError(
                f'Inconsistent continual-learning state: {completed} tasks '
                'are completed (message hub '
                f"'continual/completed_tasks'), so the epoch should be in "
                f'[{start}, {end}], but it is {epoch}. Was the checkpoint '
                'written by TaskSequenceTrainLoop with the same tasks?')
