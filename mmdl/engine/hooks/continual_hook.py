# Copyright (c) mmdl contributors. All rights reserved.
"""The base of continual-learning hooks: task events, task data, state."""
from typing import Any, Dict, Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from torch import nn
from torch.utils.data import DataLoader


class ContinualHook(Hook):
    """Base class of hooks that act between the tasks of a
    :class:`~mmdl.engine.loops.TaskSequenceTrainLoop`.

    The loop calls two events besides mmengine's:

    * :meth:`before_task` when a task starts (not when a task is resumed in
      the middle), before the optimiser and schedulers are rebuilt, so a
      hook may change the model (see the loop's ``set_model``) or replace
      the task's training data (the loop's ``replace_task_dataset``);
    * :meth:`after_task` when a task has been trained and evaluated.

    Subclasses read data through :meth:`train_dataloader` /
    :meth:`val_dataloader` (the loop's public accessor) and keep their
    state in checkpoints by overriding :meth:`state_dict` and
    :meth:`load_state_dict`: with a :attr:`state_key`, the state is written
    to ``checkpoint[state_key]`` and restored on resume.
    """

    #: Checkpoint key of the hook's state; None keeps no state.
    state_key: Optional[str] = None

    def before_task(self, runner, task_index: int) -> None:
        """Called when task ``task_index`` starts.

        Args:
            runner (Runner): The runner.
            task_index (int): The task that starts.
        """

    def after_task(self, runner, task_index: int) -> None:
        """Called when task ``task_index`` is trained and evaluated.

        Args:
            runner (Runner): The runner.
            task_index (int): The task that finished.
        """

    @staticmethod
    def task_loop(runner):
        """The runner's :class:`~mmdl.engine.loops.TaskSequenceTrainLoop`.

        Raises:
            TypeError: The training loop is another loop.
        """
        from mmdl.engine.loops import TaskSequenceTrainLoop
        loop = runner.train_loop
        if not isinstance(loop, TaskSequenceTrainLoop):
            raise TypeError('continual-learning hooks need train_cfg=dict('
                            "type='TaskSequenceTrainLoop', ...), got "
                            f'{type(loop).__name__}')
        return loop

    def train_dataloader(self,
                         runner,
                         task: Optional[int] = None) -> DataLoader:
        """The training loader of ``task`` (the current one by default)."""
        return self.task_loop(runner).task_dataloader(task, 'train')

    def val_dataloader(self, runner, task: Optional[int] = None) -> DataLoader:
        """The validation loader of ``task`` (the current one by default)."""
        return self.task_loop(runner).task_dataloader(task, 'val')

    @staticmethod
    def unwrap(model: nn.Module) -> nn.Module:
        """``model`` without its distributed wrapper."""
        return model.module if is_model_wrapper(model) else model

    def state_dict(self) -> Dict[str, Any]:
        """The hook's state to keep in checkpoints (plain data/tensors)."""
        return {}

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        """Restore :meth:`state_dict`'s output."""

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if self.state_key is not None:
            checkpoint[self.state_key] = self.state_dict()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if self.state_key is not None and self.state_key in checkpoint:
            self.load_state_dict(checkpoint[self.state_key])
