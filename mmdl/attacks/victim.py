# Copyright (c) mmdl contributors. All rights reserved.
"""The victim of a poisoning attack as a function of its parameters.

The attacks differentiate through the victim's training step, so they need
the victim's logits and its regularised training loss at parameters
``theta`` other than the ones stored in the model (the unrolled steps
``theta_1 .. theta_J``). :class:`FunctionalVictim` evaluates both with
:func:`torch.func.functional_call`, which substitutes the given tensors
for the module's parameters and buffers for the duration of one call.

Regularisers read the model's parameters themselves
(``regularizer(model)``, see
:class:`~mmdl.continual.regularizers.BaseRegularizer`): they look up the
model's layers and read ``layer.weight`` / ``model.named_parameters()``.
To evaluate ``R(theta_j)`` they are called inside ``functional_call`` on a
small wrapper module (:class:`PenaltyCall`) whose ``forward`` calls every
regulariser on the wrapped model; while that call runs, the model's
parameters *are* ``theta_j``, so the regularisers see them, unchanged and
differentiable (second-order gradients included), without knowing about
the attack. The logits go through a wrapper module (:class:`LogitsCall`)
in the same way.

Inputs are images in ``[0, 1]`` pixel space, ``(N, C, H, W)``: the victim
applies the model's own input normalisation (the mean/std of its data
preprocessor, on the 0-255 scale, with its channel flip) before the
forward, as the data preprocessor does for the uint8 images of the
training pipeline.
"""
from typing import Dict, Optional, Sequence, Tuple

import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call

#: ``(regulariser, weight)``: ``weight * regularizer(model)`` is added to
#: the victim's loss.
WeightedPenalty = Tuple[object, float]


class LogitsCall(nn.Module):
    """``forward(inputs, task_id)``: the logits of a classifier (normalised
    inputs) from the head of task ``task_id``.

    Heads with ``task_logits`` (task-incremental
    :class:`~mmdl.models.heads.MultiTaskLinearClsHead`) use the classifier
    of ``task_id`` (unpadded logits); other heads ignore it.

    Args:
        model (nn.Module): A classifier with ``extract_feat`` and ``head``
            (mmpretrain's ``ImageClassifier``).
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, inputs: Tensor, task_id: int) -> Tensor:
        feats = self.model.extract_feat(inputs)
        head = self.model.head
        if callable(getattr(head, 'task_logits', None)):
            return head.task_logits(feats, int(task_id))
        return head(feats)


class PenaltyCall(nn.Module):
    """``forward()``: ``sum_i w_i R_i(model)`` of the wrapped model.

    Called through :func:`torch.func.functional_call` with other
    parameters, it evaluates the regularisers at those parameters (see the
    module docstring).

    Args:
        model (nn.Module): The model the regularisers read.
        penalties (Sequence[tuple]): ``(regularizer, weight)`` pairs.
    """

    def __init__(self, model: nn.Module,
                 penalties: Sequence[WeightedPenalty]) -> None:
        super().__init__()
        self.model = model
        self.penalties = list(penalties)

    def forward(self) -> Tensor:
        total = None
        for regularizer, weight in self.penalties:
            value = regularizer(self.model) * weight
            total = value if total is None else total + value
        if total is None:
            return next(iter(self.model.parameters())).new_zeros(())
        return total


def normalisation(
        model: nn.Module) -> Tuple[Optional[Tensor], Optional[Tensor], bool]:
    """The input normalisation of a model's data preprocessor.

    Args:
        model (nn.Module): A model with an mmpretrain-style
            ``data_preprocessor`` (``mean``/``std`` buffers of shape
            ``(C, 1, 1)`` on the 0-255 scale, ``to_rgb``).

    Returns:
        tuple: ``(mean, std, to_rgb)``; mean and std are None when the
        preprocessor does not normalise.
    """
    preprocessor = getattr(model, 'data_preprocessor', None)
    to_rgb = bool(getattr(preprocessor, 'to_rgb', False))
    if preprocessor is None or not getattr(preprocessor, '_enable_normalize',
                                           False):
        return None, None, to_rgb
    return preprocessor.mean, preprocessor.std, to_rgb


def functional_logits(model: nn.Module,
                      params: Dict[str, Tensor],
                      x: Tensor,
                      task_id: int,
                      buffers: Optional[Dict[str, Tensor]] = None) -> Tensor:
    """The logits of ``model`` at parameters ``params`` for images ``x``.

    A one-off form of :meth:`FunctionalVictim.logits` (which caches the
    wrapper and the normalisation).

    Args:
        model (nn.Module): The classifier (with its data preprocessor).
        params (dict[str, Tensor]): Parameters by the model's names; the
            model's own are used for the others.
        x (Tensor): Images in ``[0, 1]``, ``(N, C, H, W)``.
        task_id (int): The task, selecting the head of a multi-head model.
        buffers (dict[str, Tensor], optional): Buffers to substitute (e.g.
            copies of the batch-norm statistics). Defaults to the model's.

    Returns:
        Tensor: ``(N, num_classes)``.
    """
    return FunctionalVictim(model).logits(params, x, task_id, buffers)


class FunctionalVictim:
    """The victim's model, loss and regularised objective as functions of
    its parameters.

    The victim's loss on task ``T`` is ``task_weight * L_T(x; theta) +
    sum_i w_i R_i(theta)``, with ``L_T`` the mean cross-entropy of the
    task's head (the head's own loss module, e.g. label smoothing, is not
    modelled) and ``R_i`` the regularisers with their weights.

    Batch norm: with ``train_mode=True`` (default; the victim trains in
    train mode) the forward uses batch statistics; every call gets fresh
    copies of the buffers, so the model's running statistics are never
    changed by the attack. With ``train_mode=False`` the running
    statistics are used.

    Args:
        model (nn.Module): The victim after the previous tasks (``theta*``):
            a classifier with ``data_preprocessor``, ``extract_feat`` and
            ``head``.
        penalties (Sequence[tuple]): ``(regularizer, weight)`` pairs, the
            regularisers called as ``regularizer(model)``. Defaults to none.
        task_weight (float): Factor on ``L_T``. Defaults to 1.
        train_mode (bool): Forward in train mode. Defaults to True.

    Raises:
        ValueError: A regulariser needs the current batch (``needs_batch``,
            e.g. LwF): its value would depend on the poisoned inputs in a
            way this victim does not model.
    """

    def __init__(self,
                 model: nn.Module,
                 penalties: Sequence[WeightedPenalty] = (),
                 task_weight: float = 1.0,
                 train_mode: bool = True) -> None:
        penalties = [(r, float(w)) for r, w in penalties]
        for regularizer, _ in penalties:
            if not callable(regularizer):
                raise TypeError('FunctionalVictim: a regulariser must be '
                                'callable as regularizer(model), got '
                                f'{type(regularizer).__name__}')
            if getattr(regularizer, 'needs_batch', False):
                raise ValueError(
                    'FunctionalVictim: regularisers that need the current '
                    f'batch ({type(regularizer).__name__}) are not '
                    'supported: their penalty depends on the poisoned '
                    'inputs')
        self.model = model
        self.penalties = penalties
        self.task_weight = float(task_weight)
        self.train_mode = bool(train_mode)
        self._logits_call = LogitsCall(model)
        self._penalty_call = PenaltyCall(model, penalties)
        self.mean, self.std, self.to_rgb = normalisation(model)

    # ------------------------------------------------------------------
    # parameters
    # ------------------------------------------------------------------
    def initial_params(self) -> Dict[str, Tensor]:
        """``theta*``: detached copies of the model's trainable
        parameters, by name."""
        return {
            name: p.detach().clone()
            for name, p in self.model.named_parameters() if p.requires_grad
        }

    def _state(self, params: Dict[str, Tensor],
               buffers: Optional[Dict[str, Tensor]]) -> Dict[str, Tensor]:
        """The ``functional_call`` dict of a wrapper (prefix ``model.``)."""
        if buffers is None:
            buffers = {
                name: b.clone()
                for name, b in self.model.named_buffers()
            }
        state = {f'model.{n}': t for n, t in buffers.items()}
        state.update({f'model.{n}': t for n, t in params.items()})
        return state

    # ------------------------------------------------------------------
    # forward
    # ------------------------------------------------------------------
    def normalise(self, x: Tensor) -> Tensor:
        """Images in ``[0, 1]`` to the model's normalised inputs (the data
        preprocessor's channel flip and ``(255 x - mean) / std``)."""
        x = x * 255.0
        if self.to_rgb and x.size(1) == 3:
            x = x.flip(1)
        if self.mean is not None:
            x = (x - self.mean.to(x)) / self.std.to(x)
        return x

    def logits(self,
               params: Dict[str, Tensor],
               x: Tensor,
               task_id: int,
               buffers: Optional[Dict[str, Tensor]] = None,
               train_mode: Optional[bool] = None) -> Tensor:
        """The logits at ``params`` (see :func:`functional_logits`), in train
        mode unless ``train_mode`` (default: the victim's) is False."""
        was_training = self.model.training
        self.model.train(
            self.train_mode if train_mode is None else bool(train_mode))
        try:
            return functional_call(self._logits_call,
                                   self._state(params, buffers),
                                   (self.normalise(x), int(task_id)))
        finally:
            self.model.train(was_training)

    def task_loss(self, params: Dict[str, Tensor], x: Tensor, y: Tensor,
                  task_id: int) -> Tensor:
        """Mean cross-entropy of task ``task_id`` on ``(x, y)``."""
        return F.cross_entropy(self.logits(params, x, task_id), y)

    def penalty(self, params: Dict[str, Tensor]) -> Tensor:
        """``sum_i w_i R_i(theta)`` at ``params``: the regularisers called
        inside ``functional_call`` (see the module docstring)."""
        if not self.penalties:
            return next(iter(params.values())).new_zeros(())
        return functional_call(self._penalty_call, self._state(params, None),
                               ())

    def victim_loss(self, params: Dict[str, Tensor], x: Tensor, y: Tensor,
                    task_id: int) -> Tensor:
        """The victim's training objective ``task_weight * L_T + sum_i w_i
        R_i`` at ``params`` on the batch ``(x, y)`` of task ``task_id``."""
        loss = self.task_weight * self.task_loss(params, x, y, task_id)
        if self.penalties:
            loss = loss + self.penalty(params)
        return loss
