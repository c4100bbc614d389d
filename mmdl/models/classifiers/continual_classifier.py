# Copyright (c) mmdl contributors. All rights reserved.
"""An image classifier for continual learning: the current task, and the
regularisers and objective attached by hooks."""
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
from mmpretrain.models import ImageClassifier
from mmpretrain.structures import DataSample
from torch import Tensor, nn

from mmdl.registry import MODELS

#: Key of the summed penalties in the loss dict.
PENALTY_KEY = 'loss_penalty'

#: ``regularizer(model) -> scalar Tensor``.
Regularizer = Callable[[nn.Module], Tensor]
#: ``objective(model, task_losses, penalty) -> losses``.
Objective = Callable[[nn.Module, Dict[str, Tensor], Tensor], Dict[str, Tensor]]


@MODELS.register_module()
class ContinualImageClassifier(ImageClassifier):
    """mmpretrain's ``ImageClassifier`` with the state continual learning
    needs.

    * :attr:`current_task` (int, default 0): the task being trained; set by
      ``TaskSequenceTrainLoop`` at every task start and on resume. It is
      forwarded to the head's ``default_task`` when the head has one
      (``MultiTaskLinearClsHead`` uses it for samples without
      ``task_id``). It is not part of the state dict.
    * :attr:`regularizers`: callables ``regularizer(model) -> scalar
      Tensor`` (e.g. :mod:`mmdl.continual.regularizers`; those with
      ``needs_batch`` also get the batch), attached with
      :meth:`set_regularizers` by hooks such as
      :class:`~mmdl.engine.hooks.RegularizerHook`. They are not registered
      sub-modules and not in the state dict: the hooks own their state and
      keep it in checkpoints. :meth:`loss` adds their sum as
      ``'loss_penalty'`` (mmengine sums every key containing ``'loss'``).
    * :attr:`objective`: how the task losses and the penalty are combined,
      attached with :meth:`set_objective`
      (:class:`~mmdl.continual.ContinualObjective`); without one the
      penalty is added unweighted. :meth:`combine_losses` applies it;
      override that for other schemes.

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
        self._regularizers: Tuple[Regularizer, ...] = ()
        self._objective: Optional[Objective] = None
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

    @property
    def regularizers(self) -> Tuple[Regularizer, ...]:
        """tuple: The attached regularisers (see
        :meth:`set_regularizers`)."""
        return self._regularizers

    def set_regularizers(self, regularizers: Sequence[Regularizer]) -> None:
        """Replace the attached regularisers.

        Args:
            regularizers (Sequence[callable]): ``regularizer(model) ->
                scalar Tensor`` each; their sum is the penalty. An empty
                sequence detaches all.
        """
        regularizers = tuple(regularizers)
        for regularizer in regularizers:
            if not callable(regularizer):
                raise TypeError('regularizers must be callables '
                                '`regularizer(model) -> Tensor`, got '
                                f'{type(regularizer).__name__}')
        self._regularizers = regularizers

    @property
    def objective(self) -> Optional[Objective]:
        """callable | None: The attached objective (see
        :meth:`set_objective`)."""
        return self._objective

    def set_objective(self, objective: Optional[Objective]) -> None:
        """Attach the objective that combines the task losses and the
        penalty, or detach it with None.

        Args:
            objective (callable, optional): ``objective(model, task_losses,
                penalty) -> losses``, e.g.
                :class:`~mmdl.continual.ContinualObjective`.
        """
        if objective is not None and not callable(objective):
            raise TypeError('the objective must be callable, got '
                            f'{type(objective).__name__}')
        self._objective = objective

    def penalty(self, **batch) -> Optional[Tensor]:
        """Sum of the regularisers' values, None without regularisers.

        Args:
            **batch: ``inputs``, ``feats`` and ``data_samples`` of the
                current batch, passed to the regularisers with
                ``needs_batch`` (e.g. LwF's distillation).
        """
        total = None
        for regularizer in self._regularizers:
            if getattr(regularizer, 'needs_batch', False):
                value = regularizer(self, **batch)
            else:
                value = regularizer(self)
            total = value if total is None else total + value
        return total

    def combine_losses(self, task_loss_dict: Dict[str, Tensor],
                       penalty: Optional[Tensor]) -> Dict[str, Tensor]:
        """Combine the classification losses and the penalty.

        Without a penalty the task losses are returned as they are. With
        one, the attached :attr:`objective` combines them, or, without an
        objective, ``'loss_penalty': penalty`` is added unweighted.
        Override for other weighting schemes.

        Args:
            task_loss_dict (dict[str, Tensor]): The head's losses on the
                current batch.
            penalty (Tensor, optional): Sum of the :attr:`regularizers`,
                None without regularisers.

        Returns:
            dict[str, Tensor]: The losses to optimise.
        """
        if penalty is None:
            return task_loss_dict
        if self._objective is not None:
            return self._objective(self, task_loss_dict, penalty)
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
        feats = self.extract_feat(inputs)
        losses = self.head.loss(feats, data_samples)
        penalty = self.penalty(
            inputs=inputs, feats=feats, data_samples=data_samples)
        return self.combine_losses(losses, penalty)
