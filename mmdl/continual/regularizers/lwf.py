# Copyright (c) mmdl contributors. All rights reserved.
"""Learning without forgetting (LwF)."""
import copy
from typing import Any, Dict, Iterable, Optional

import torch
from torch import Tensor, nn

from mmdl.registry import REGULARIZERS
from ..distillation import soft_target_kl
from .base import BaseRegularizer, LogitsFn


@REGULARIZERS.register_module()
class LwFRegularizer(BaseRegularizer):
    """LwF (Li and Hoiem, "Learning without Forgetting", ECCV 2016): distil
    the outputs the model had at the end of the previous task on the
    current task's inputs,
    ``sum_{j old} T^2 KL(softmax(z_old_j / T) || softmax(z_j / T))``.

    With a multi-head classifier (a head with ``task_logits``, e.g.
    ``MultiTaskLinearClsHead``) every old task's classifier is distilled;
    with a shared head, its logits. The teacher is a frozen copy of the
    model in eval mode, taken at :meth:`consolidate`. The distillation
    weight (LwF's trade-off) is ``RegularizerHook.penalty_weight``.

    Args:
        temperature (float): ``T``. Defaults to 2 (LwF's choice).
    """

    #: Called as ``regularizer(model, inputs=..., feats=...,
    #: data_samples=...)`` by ``ContinualImageClassifier``.
    needs_batch = True

    def __init__(self, temperature: float = 2.0) -> None:
        if temperature <= 0:
            raise ValueError(f'temperature must be > 0, got {temperature}')
        self.temperature = float(temperature)
        self.num_tasks = 0
        self._teacher: Optional[nn.Module] = None
        self._teacher_state: Optional[Dict[str, Tensor]] = None

    def consolidate(self,
                    model: nn.Module,
                    batches: Optional[Iterable] = None,
                    logits_fn: Optional[LogitsFn] = None,
                    generator: Optional[torch.Generator] = None) -> None:
        """Snapshot the model as the teacher of the following tasks (its
        data is not needed)."""
        self._teacher_state = {
            k: v.detach().clone()
            for k, v in model.state_dict().items()
        }
        self._teacher = None  # rebuilt from the snapshot on first use
        self.num_tasks += 1

    def _build_teacher(self, model: nn.Module) -> nn.Module:
        attached = getattr(model, 'regularizers', ())
        objective = getattr(model, 'objective', None)
        if attached:
            model.set_regularizers(())
        if objective is not None:
            model.set_objective(None)
        try:
            teacher = copy.deepcopy(model)
        finally:
            if attached:
                model.set_regularizers(attached)
            if objective is not None:
                model.set_objective(objective)
        teacher.load_state_dict(self._teacher_state)
        teacher.requires_grad_(False)
        return teacher.eval()

    def __call__(self,
                 model: nn.Module,
                 inputs: Optional[Tensor] = None,
                 feats: Optional[tuple] = None,
                 data_samples: Optional[list] = None) -> Tensor:
        """The distillation loss of the batch ``inputs`` (``feats``: the
        model's features of it, computed once by the classifier)."""
        if self._teacher_state is None or inputs is None:
            return next(model.parameters()).new_zeros(())
        if self._teacher is None:
            self._teacher = self._build_teacher(model)
        self._teacher.eval()
        if feats is None:
            feats = model.extract_feat(inputs)
        with torch.no_grad():
            old_feats = self._teacher.extract_feat(inputs)
        head, old_head = model.head, self._teacher.head
        if hasattr(head, 'task_logits'):
            pairs = [(head.task_logits(feats, j),
                      old_head.task_logits(old_feats, j))
                     for j in range(self.num_tasks)]
        else:
            pairs = [(head(feats), old_head(old_feats))]
        return sum(
            soft_target_kl(student, teacher, self.temperature)
            for student, teacher in pairs)

    def state_dict(self) -> Dict[str, Any]:
        return dict(
            num_tasks=self.num_tasks, teacher_state=self._teacher_state)

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        self.num_tasks = int(state['num_tasks'])
        self._teacher_state = state['teacher_state']
        self._teacher = None
