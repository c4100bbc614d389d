# Copyright (c) mmdl contributors. All rights reserved.
"""L2-SP: weight decay toward the starting point."""
from typing import Dict, Optional, Sequence

import torch
from torch import Tensor, nn

from mmdl.registry import REGULARIZERS
from .base import BaseRegularizer, LogitsFn


def _matches(name: str, prefixes: Sequence[str]) -> bool:
    return any(name == p or name.startswith(p + '.') for p in prefixes)


@REGULARIZERS.register_module()
class L2SPRegularizer(BaseRegularizer):
    """L2-SP (Li, Grandvalet and Davoine, "Explicit Inductive Bias for
    Transfer Learning with Convolutional Networks", ICML 2018):

    ``alpha / 2 ||w_S - w_S^0||^2 + beta / 2 ||w_new||^2``

    ``w^0`` is the starting point: the weights at the first
    :meth:`consolidate`, i.e. at the end of the first task (the pretrained
    weights when that task has 0 epochs). The anchor is never re-centred
    by later tasks. ``w_S`` are the trainable parameters that existed at
    the starting point, ``w_new`` the trainable parameters that did not
    (created later, e.g. a new head) and those named in ``new_params``,
    which Li et al. decay toward 0 with their own coefficient ``beta``.

    The starting point cannot be re-expressed after a change of coordinates
    (batch-norm merging): :meth:`scale_layer_outputs` and
    :meth:`transform_bn_unit` raise.

    Args:
        alpha (float): Coefficient of the starting-point term. Defaults to
            1 (scale it with the hook's ``penalty_weight`` instead, or
            here).
        beta (float): Coefficient of the plain L2 on the new parameters.
            Defaults to 0 (new parameters are not penalised).
        new_params (Sequence[str], optional): Parameter names, or module
            prefixes such as ``'head.fcs.1'``, treated as new even though
            they exist at the starting point (e.g. the target task's
            classifier of a multi-task head, whose starting values are its
            initialisation). Defaults to None.
    """

    def __init__(self,
                 alpha: float = 1.0,
                 beta: float = 0.0,
                 new_params: Optional[Sequence[str]] = None) -> None:
        self.alpha = alpha
        self.beta = beta
        self.new_params = tuple(new_params or ())
        #: Starting point by parameter name (None before the first task).
        self.anchors: Optional[Dict[str, Tensor]] = None

    def consolidate(self,
                    model: nn.Module,
                    batches=None,
                    logits_fn: Optional[LogitsFn] = None,
                    generator: Optional[torch.Generator] = None) -> None:
        """Record the starting point at the first call; later calls change
        nothing (the data are not used)."""
        if self.anchors is None:
            self.set_anchor(model)

    def set_anchor(self, model: nn.Module) -> None:
        """Make the model's current trainable parameters (except
        ``new_params``) the starting point.

        Args:
            model (nn.Module): The model.
        """
        self.anchors = {
            name: p.detach().clone()
            for name, p in model.named_parameters()
            if p.requires_grad and not _matches(name, self.new_params)
        }

    def __call__(self, model: nn.Module) -> Tensor:
        """The L2-SP penalty (see the class doc).

        Args:
            model (nn.Module): The model being trained.

        Returns:
            Tensor: A scalar; zero before the starting point is recorded.

        Raises:
            KeyError: A parameter of the starting point no longer exists.
        """
        if self.anchors is None:
            return next(iter(model.parameters())).new_zeros(())
        params = dict(model.named_parameters())
        missing = sorted(set(self.anchors) - set(params))
        if missing:
            raise KeyError(f'L2SPRegularizer: parameters {missing} of the '
                           'starting point are not in the model')
        deltas = [params[n] - a for n, a in self.anchors.items()]
        value = self.alpha * (0.5 * sum((d * d).sum() for d in deltas))
        if self.beta:
            new = [
                p for n, p in params.items()
                if p.requires_grad and n not in self.anchors
            ]
            if new:
                value = value + self.beta * (0.5 * sum(
                    (p * p).sum() for p in new))
        if not torch.is_tensor(value):  # no anchored parameter
            value = next(iter(model.parameters())).new_zeros(()) + value
        return value

    def state_dict(self) -> Dict:
        """The starting point (None before the first task)."""
        return dict(
            anchors=None if self.anchors is None else dict(self.anchors))

    def load_state_dict(self, state: Dict) -> None:
        """Restore the output of :meth:`state_dict`."""
        anchors = state['anchors']
        self.anchors = None if anchors is None else dict(anchors)
