# Copyright (c) mmdl contributors. All rights reserved.
"""A classification head with one linear classifier per task."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
from mmpretrain.evaluation.metrics import Accuracy
from mmpretrain.models.heads import ClsHead
from mmpretrain.structures import DataSample
from torch import Tensor, nn

from mmdl.registry import MODELS


@MODELS.register_module()
class MultiTaskLinearClsHead(ClsHead):
    """One linear classifier per task ("multi-head" task-incremental
    learning).

    Every sample is classified by the classifier of its task, read from
    ``data_sample.task_id`` (keep it through the pipeline with
    ``dict(type='mmpretrain.PackInputs', algorithm_keys=['task_id'])``).
    Samples without ``task_id`` (or ``data_samples=None``) use
    :attr:`default_task`, which mmdl's ``ContinualImageClassifier`` keeps
    equal to its ``current_task``. The batch is grouped by task and each
    group goes through its classifier at once (no per-sample loop).

    Logits: with tasks of different class counts, the logits are padded to
    the largest count with ``-inf`` (predicted probability 0), so
    ``pred_score`` has the same length for every sample and mmpretrain's
    ``Accuracy`` works. The loss is computed per task group on the
    unpadded logits and normalised by the batch size (every sample has the
    weight it has in a single-head loss), so the loss module must accept
    ``avg_factor`` like mmpretrain's losses.

    Only the classifiers of the tasks present in a batch get gradients;
    under DDP, set ``find_unused_parameters=True``. Domain-incremental
    learning uses a normal shared ``mmpretrain.LinearClsHead`` instead.

    Args:
        num_tasks (int): Number of tasks (classifiers).
        num_classes (int | Sequence[int]): Classes of every task, or one
            number per task.
        in_channels (int): Input features.
        loss (dict): Classification loss. Defaults to
            ``dict(type='mmpretrain.CrossEntropyLoss', loss_weight=1.0)``.
        topk (int | tuple[int]): Top-k accuracy for ``cal_acc``. Defaults
            to ``(1, )``.
        cal_acc (bool): Compute the training accuracy. Defaults to False.
        init_cfg (dict, optional): Initialisation. Defaults to
            ``dict(type='Normal', layer='Linear', std=0.01)`` like
            ``LinearClsHead``.
    """

    def __init__(
        self,
        num_tasks: int,
        num_classes: Union[int, Sequence[int]],
        in_channels: int,
        loss: dict = dict(type='mmpretrain.CrossEntropyLoss', loss_weight=1.0),
        topk: Union[int, Tuple[int]] = (1, ),
        cal_acc: bool = False,
        init_cfg: Optional[dict] = dict(
            type='Normal', layer='Linear', std=0.01)
    ) -> None:
        super().__init__(
            loss=loss, topk=topk, cal_acc=cal_acc, init_cfg=init_cfg)
        if num_tasks < 1:
            raise ValueError(f'num_tasks must be positive, got {num_tasks}')
        if isinstance(num_classes, int):
            num_classes = [num_classes] * num_tasks
        num_classes = [int(c) for c in num_classes]
        if len(num_classes) != num_tasks:
            raise ValueError(f'num_classes has {len(num_classes)} entries '
                             f'for {num_tasks} tasks')
        if any(c <= 0 for c in num_classes):
            raise ValueError(f'num_classes must be positive, got '
                             f'{num_classes}')
        self.num_tasks = num_tasks
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.default_task = 0
        self.fcs = nn.ModuleList(
            nn.Linear(in_channels, c) for c in num_classes)

    def pre_logits(self, feats: Tuple[Tensor]) -> Tensor:
        """The features of the last stage."""
        return feats[-1]

    def task_classifier(self, task: int) -> nn.Linear:
        """The linear classifier of ``task``."""
        if not 0 <= int(task) < self.num_tasks:
            raise ValueError(f'task {task} out of range for {self.num_tasks} '
                             'tasks')
        return self.fcs[int(task)]

    def task_logits(self, feats: Tuple[Tensor], task: int) -> Tensor:
        """The logits of every sample from the classifier of ``task``
        (e.g. old tasks' outputs on new data, for distillation).

        Args:
            feats (tuple[Tensor]): Backbone/neck features; the last is used.
            task (int): The task.

        Returns:
            Tensor: ``(N, num_classes[task])``, unpadded.
        """
        return self.task_classifier(task)(self.pre_logits(feats))

    def task_ids(self,
                 data_samples: Optional[List[Optional[DataSample]]],
                 num: int,
                 device: Optional[torch.device] = None) -> Tensor:
        """The task index of every sample.

        Args:
            data_samples (list[DataSample | None], optional): The samples;
                those without ``task_id`` (or None) use
                :attr:`default_task`.
            num (int): Batch size (used when ``data_samples`` is None).
            device (torch.device, optional): Device of the result.

        Returns:
            Tensor: int64 tensor of shape ``(num, )``.
        """
        default = int(self.default_task)
        if data_samples is None:
            ids = [default] * num
        else:
            ids = [
                int(s.task_id) if s is not None and 'task_id' in s else default
                for s in data_samples
            ]
        task_ids = torch.as_tensor(ids, dtype=torch.long, device=device)
        if len(ids) and (int(task_ids.min()) < 0
                         or int(task_ids.max()) >= self.num_tasks):
            raise ValueError(f'task ids {sorted(set(ids))} out of range for '
                             f'{self.num_tasks} tasks')
        return task_ids

    def _groups(self, pre_logits: Tensor,
                task_ids: Tensor) -> List[Tuple[int, Tensor, Tensor]]:
        """``(task, sample indices, logits)`` for every task in the
        batch."""
        groups = []
        for task in torch.unique(task_ids).tolist():
            index = torch.nonzero(task_ids == task, as_tuple=True)[0]
            groups.append(
                (task, index, self.fcs[task](pre_logits.index_select(0,
                                                                     index))))
        return groups

    def _padded(self, groups: List[Tuple[int, Tensor, Tensor]], num: int,
                like: Tensor) -> Tensor:
        """Assemble the logits of the groups, ``-inf`` padded."""
        width = max(self.num_classes)
        logits = like.new_full((num, width), float('-inf'))
        for task, index, group_logits in groups:
            logits[index, :self.num_classes[task]] = group_logits
        return logits

    def forward(self,
                feats: Tuple[Tensor],
                task_ids: Optional[Tensor] = None) -> Tensor:
        """Logits of every sample from its task's classifier.

        Args:
            feats (tuple[Tensor]): Backbone/neck features; the last is used.
            task_ids (Tensor, optional): Task index per sample. Defaults to
                :attr:`default_task` for all.

        Returns:
            Tensor: ``(N, max(num_classes))``, ``-inf`` beyond a task's
            classes.
        """
        pre_logits = self.pre_logits(feats)
        num = pre_logits.size(0)
        if task_ids is None:
            task_ids = pre_logits.new_full((num, ),
                                           int(self.default_task),
                                           dtype=torch.long)
        task_ids = torch.as_tensor(task_ids, device=pre_logits.device)
        if (len(set(self.num_classes)) == 1
                and torch.all(task_ids == task_ids[:1]).item() and num):
            # one task in the batch: no gather needed
            return self.fcs[int(task_ids[0])](pre_logits)
        return self._padded(
            self._groups(pre_logits, task_ids), num, like=pre_logits)

    def loss(self, feats: Tuple[Tensor], data_samples: List[DataSample],
             **kwargs) -> dict:
        """Classification loss, each sample through its task's classifier.

        Args:
            feats (tuple[Tensor]): Backbone/neck features.
            data_samples (list[DataSample]): Samples with ``gt_label`` (or
                ``gt_score``) and ``task_id``.
            **kwargs: Other arguments of the loss module.

        Returns:
            dict[str, Tensor]: ``loss`` (and ``accuracy_top-k`` with
            ``cal_acc``).
        """
        pre_logits = self.pre_logits(feats)
        num = pre_logits.size(0)
        task_ids = self.task_ids(data_samples, num, pre_logits.device)
        if 'gt_score' in data_samples[0]:
            target = torch.stack([s.gt_score for s in data_samples])
        else:
            target = torch.cat([s.gt_label for s in data_samples])
        target = target.to(pre_logits.device)
        groups = self._groups(pre_logits, task_ids)
        loss = 0
        for task, index, logits in groups:
            group_target = target.index_select(0, index)
            if group_target.ndim == 2:
                group_target = group_target[:, :self.num_classes[task]]
            loss = loss + self.loss_module(
                logits, group_target, avg_factor=num, **kwargs)
        losses = dict(loss=loss)
        if self.cal_acc:
            assert target.ndim == 1, 'cal_acc needs hard labels'
            acc = Accuracy.calculate(
                self._padded(groups, num, like=pre_logits),
                target,
                topk=self.topk)
            losses.update({
                f'accuracy_top-{k}': a
                for k, a in zip(self.topk, acc)
            })
        return losses

    def predict(
        self,
        feats: Tuple[Tensor],
        data_samples: Optional[List[Optional[DataSample]]] = None
    ) -> List[DataSample]:
        """Predictions, each sample from its task's classifier.

        Args:
            feats (tuple[Tensor]): Backbone/neck features.
            data_samples (list[DataSample | None], optional): Samples
                (``task_id`` read from them); predictions are set on them.

        Returns:
            list[DataSample]: Samples with ``pred_score`` (length
            ``max(num_classes)``, 0 beyond the task's classes) and
            ``pred_label``.
        """
        pre_logits = self.pre_logits(feats)
        task_ids = self.task_ids(data_samples, pre_logits.size(0),
                                 pre_logits.device)
        cls_score = self.forward(feats, task_ids)
        return self._get_predictions(cls_score, data_samples)
