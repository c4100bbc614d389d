# Copyright (c) mmdl contributors. All rights reserved.
"""Curvature penalties toward the previous solution (EWC, K-FAC, XK-FAC)."""
from typing import Dict, List, Optional, Tuple

import torch
from torch import Tensor, nn

from ..curvature import (BN_CURVATURES, FISHER_TYPES, LayerCurvature,
                         collect_curvature, find_layers, flat_weight)
from .base import BaseRegularizer, LogitsFn


class QuadraticRegularizer(BaseRegularizer):
    """Base class of ``1/2 sum_t sum_l dW_l^T F_l^(t) dW_l``.

    ``dW = W_bar - W_bar*`` is the displacement of each layer's flat weight
    (with the bias column, see :func:`~mmdl.continual.curvature.flat_weight`)
    from the anchor, the weights at the end of the latest task; ``F^(t)`` is
    task ``t``'s curvature, estimated at that task's own solution
    (:func:`~mmdl.continual.curvature.collect_curvature`, kind
    :attr:`curvature`). Subclasses define the quadratic form of a layer
    (:meth:`layer_penalty`).

    :meth:`consolidate` collects the task's curvature over the given batches
    and re-centres the anchor on the current weights. Affine batch norms
    are penalised on ``(gamma, beta)`` when ``bn_curvature`` is set.

    Args:
        fisher (str): ``'true'`` (labels sampled from the model) or
            ``'empirical'`` (ground truth). Defaults to ``'true'``.
        layers (list[str], optional): Names of the Linear/Conv2d layers
            (and affine batch norms, with ``bn_curvature``) to penalise.
            Defaults to all of the model's.
        max_batches (int, optional): Batches used per task. Defaults to all.
        bn_curvature (str, optional): ``'unitwise'`` or ``'diag'`` curvature
            of the batch-norm gamma/beta (EWC always uses the diagonal);
            None for none. Defaults to None.
    """

    #: Kind of curvature collected (see ``collect_curvature``).
    curvature: str = ''

    def __init__(self,
                 fisher: str = 'true',
                 layers: Optional[List[str]] = None,
                 max_batches: Optional[int] = None,
                 bn_curvature: Optional[str] = None) -> None:
        if fisher not in FISHER_TYPES:
            raise ValueError(f'{type(self).__name__}: fisher={fisher!r} is '
                             f'not one of {FISHER_TYPES}')
        if bn_curvature is not None and bn_curvature not in BN_CURVATURES:
            raise ValueError(f'{type(self).__name__}: bn_curvature='
                             f'{bn_curvature!r} is not one of '
                             f'{BN_CURVATURES} or None')
        self.fisher = fisher
        self.layers = layers
        self.max_batches = max_batches
        self.bn_curvature = bn_curvature
        #: Flat anchor weights by layer name.
        self.anchors: Dict[str, Tensor] = {}
        self._tasks: List[Dict[str, LayerCurvature]] = []

    @property
    def include_bn(self) -> bool:
        """bool: Whether affine batch norms are penalised."""
        return self.bn_curvature is not None

    @property
    def tasks(self) -> Tuple[Dict[str, LayerCurvature], ...]:
        """tuple[dict]: Each task's curvature by layer name, oldest first
        (read only: change it through :meth:`add_task` and the
        change-of-coordinates methods)."""
        return tuple(self._tasks)

    def consolidate(self,
                    model: nn.Module,
                    batches=None,
                    logits_fn: Optional[LogitsFn] = None,
                    generator: Optional[torch.Generator] = None) -> None:
        """Collect the task's curvature over ``batches`` (in the model's
        current train/eval mode), add it and re-centre the anchor.

        Args:
            model (nn.Module): The model at the end of the task.
            batches (Iterable): The task's training batches (the training
                batch size matters for the XK-FAC cross terms).
            logits_fn (callable): ``logits_fn(model, batch) -> (logits,
                labels)``.
            generator (torch.Generator, optional): Generator of the sampled
                labels (``fisher='true'``).
        """
        if batches is None or logits_fn is None:
            raise ValueError(f'{type(self).__name__}.consolidate needs the '
                             "task's batches and a logits_fn")
        layers = None if self.layers is None else find_layers(
            model, self.layers, self.include_bn)
        curvature = collect_curvature(
            model,
            batches,
            logits_fn,
            curvature=self.curvature,
            fisher=self.fisher,
            layers=layers,
            max_batches=self.max_batches,
            generator=generator,
            bn_curvature=self.bn_curvature)
        self.add_task(curvature)
        self.set_anchor(model)

    def add_task(self, curvature: Dict[str, LayerCurvature]) -> None:
        """Add one task's curvature (estimated at its own solution).

        Args:
            curvature (dict): Layer name to :class:`LayerCurvature`.
        """
        self._tasks.append(curvature)

    def set_anchor(self, model: nn.Module) -> None:
        """Centre the penalty on the model's current weights.

        Args:
            model (nn.Module): The model.
        """
        self.anchors = {
            name: flat_weight(layer).detach().clone()
            for name, layer in find_layers(model, self.layers,
                                           self.include_bn).items()
        }

    def scale_layer_outputs(self, name: str, r: Tensor) -> None:
        """Re-express the curvature of layer ``name`` of every task after
        ``W_bar_new = diag(r) W_bar_old`` (exact, see
        :meth:`~mmdl.continual.curvature.LayerCurvature.scale_outputs`).

        Args:
            name (str): Module name of the Linear/Conv2d layer.
            r (Tensor): Per-channel factors, (C_out, ).
        """
        for task in self._tasks:
            if name in task:
                task[name].scale_outputs(r)

    def transform_bn_unit(self, name: str, jac: Tensor) -> None:
        """Re-express the batch-norm curvature of ``name`` of every task
        after ``d_old = jac @ d_new`` per channel (``U -> J^T U J``, see
        :meth:`~mmdl.continual.curvature.LayerCurvature.transform_unit`).

        Args:
            name (str): Module name of the batch norm.
            jac (Tensor): (C, 2, 2).
        """
        for task in self._tasks:
            if name in task:
                task[name].transform_unit(jac)

    def deltas(self, model: nn.Module) -> Dict[str, Tensor]:
        """``dW`` of every anchored layer, by name."""
        layers = find_layers(model, list(self.anchors), self.include_bn)
        return {
            name: flat_weight(layer) - self.anchors[name]
            for name, layer in layers.items()
        }

    def layer_penalty(self, delta: Tensor,
                      factors: List[LayerCurvature]) -> Tensor:
        """``1/2 sum_t dW^T F^(t) dW`` of one layer.

        Args:
            delta (Tensor): The layer's ``dW``.
            factors (list[LayerCurvature]): The layer's curvature of the
                tasks that have it (at least one).

        Returns:
            Tensor: The scalar value.
        """
        raise NotImplementedError

    def __call__(self, model: nn.Module) -> Tensor:
        """The penalty summed over layers and tasks (see the class doc).

        Args:
            model (nn.Module): The model being trained.

        Returns:
            Tensor: A scalar; zero before the first task is added.
        """
        total = None
        for name, delta in self.deltas(model).items():
            factors = [task[name] for task in self._tasks if name in task]
            if not factors:
                continue
            value = self.layer_penalty(delta, factors)
            total = value if total is None else total + value
        if total is None:
            return next(iter(model.parameters())).new_zeros(())
        return total

    def state_dict(self) -> Dict:
        """Anchors and per-task curvature as plain dicts of tensors."""
        return dict(
            anchors=dict(self.anchors),
            tasks=[{
                name: c.to_state()
                for name, c in task.items()
            } for task in self._tasks])

    def load_state_dict(self, state: Dict) -> None:
        """Restore the output of :meth:`state_dict`."""
        self.anchors = dict(state['anchors'])
        self._tasks = [{
            name: LayerCurvature.from_state(c)
            for name, c in task.items()
        } for task in state['tasks']]
