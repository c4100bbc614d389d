# Copyright (c) mmdl contributors. All rights reserved.
"""An image classifier for continual learning: current task and penalties
installed by hooks."""
from typing import Callable, Dict, List, Optional

import torch
from mmpretrain.models import ImageClassifier
from mmpretrain.structures import DataSample
from torch import Tensor

from mmdl.registry import MODELS

#: Key of the summed penalties in the loss dict.
PENALTY_KEY = 'loss_penalty'


@MODELS.register_module()
class ContinualImageClassifier(ImageClassifier):
    """mmpretrain's ``ImageClassifier`` with the state continual learning
    needs.

    * :attr:`current_task` (int, default 0): the task being trained; set by
      ``TaskSequenceTrainLoop`` at every task start and on resume. It is
      forwarded to the head's ``default_task`` when the head has one
      (``MultiTaskLinearClsHead`` uses it for samples without
      ``task_id``). It is not part of the state dict.
    * :attr:`cl_penalties`: a plain Python list (not registered
      sub-modules, not in the state dict) of callables
      ``penalty(model) -> scalar Tensor``, installed by hooks such as a
      curvature-penalty hook. :meth:`loss` adds their sum as
      ``'loss_penalty'`` (mmengine sums every key containing ``'loss'``).
      The hooks own the penalty state (and save/restore it in checkpoints).

    How the task losses and the penalty are combined is
    :meth:`combine_losses`: by the ``cl_objective`` attribute when a hook
    installed one (:class:`~mmdl.continual.ContinualObjective`, e.g. by
    ``KFACBNHook``), else the plain sum; override it for other schemes.

    Build it in mmpretrain's scope so that the data preprocessor, backbone
    and head resolve there (mmdl's registries are not children of
    mmpretrain's)::

        model = dict(
            type='mmdl.ContinualImageClassifier',
            _scope_='mmpretrain',
            backbone=dict(type='mmdl.MLP', in_features=64),
            head=dict(type='LinearClsHead', num_classes=10,
                      in_channels=400))

    Args:
        *args: Arguments of ``ImageClassifier``.
        current_task (int): The initial task. Defaults to 0.
        **kwargs: Keyword arguments of ``ImageClassifier``.
    """

    def __init__(self, *args, current_task: int = 0, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.cl_penalties: List[Callable[['ContinualImageClassifier'],
                                         Tensor]] = []
        self.current_task = current_task

    @property
    def current_task(self) -> int:
        """int: The task being trained (also the head's default task)."""
        return self._current_task

    @current_task.setter
    def current_task(self, task: int) -> None:
        self._current_task = int(task)
        if getattr(self, 'head', None) is not None and hasattr(
                self.head, 'default_task'):
            self.head.default_task = self._current_task

    def penalty(self) -> Optional[Tensor]:
        """Sum of the installed penalties, None when there is none."""
        if not self.cl_penalties:
            return None
        total = None
        for penalty in self.cl_penalties:
            value = penalty(self)
            total = value if total is None else total + value
        return total

    def combine_losses(self, task_loss_dict: Dict[str, Tensor],
                       penalty: Optional[Tensor]) -> Dict[str, Tensor]:
        """Combine the classification losses and the penalty.

        The default adds ``'loss_penalty': penalty`` (unweighted) when there
        is a penalty. Override for weighting schemes (e.g. by the number of
        tasks learned, :attr:`current_task`).

        Args:
            task_loss_dict (dict[str, Tensor]): The head's losses on the
                current batch.
            penalty (Tensor, optional): Sum of :attr:`cl_penalties`, None
                without penalties.

        Returns:
            dict[str, Tensor]: The losses to optimise.
        """
        if penalty is None:
            return task_loss_dict
        objective = getattr(self, 'cl_objective', None)
        if objective is not None:
            # installed by KFACBNHook: task-count weights, adaptive scales
            return objective(self, task_loss_dict, penalty)
        losses = dict(task_loss_dict)
        losses[PENALTY_KEY] = penalty
        return losses

    def loss(self, inputs: torch.Tensor,
             data_samples: List[DataSample]) -> Dict[str, Tensor]:
        """Classification losses plus the continual-learning penalty.

        Args:
            inputs (Tensor): Batch of inputs.
            data_samples (list[DataSample]): The samples.

        Returns:
            dict[str, Tensor]: See :meth:`combine_losses`.
        """
        losses = super().loss(inputs, data_samples)
        return self.combine_losses(losses, self.penalty())
