# Copyright (c) mmdl contributors. All rights reserved.
"""The interface of continual-learning regularisers."""
from abc import ABCMeta, abstractmethod
from typing import Any, Callable, Dict, Iterable, Optional, Tuple

import torch
from torch import Tensor, nn

#: ``logits_fn(model, batch) -> (logits (N, K), ground-truth labels (N, ))``.
LogitsFn = Callable[[nn.Module, Any], Tuple[Tensor, Tensor]]


class BaseRegularizer(metaclass=ABCMeta):
    """Base class of the penalties that protect earlier tasks.

    A regulariser lives outside the model: it keeps its own state (anchor
    weights, per-task curvature), is attached to a model through
    :meth:`~mmdl.models.ContinualImageClassifier.set_regularizers` and is
    called with the model at every training step. The life cycle, driven by
    a hook such as :class:`~mmdl.engine.hooks.RegularizerHook`:

    1. :meth:`consolidate` at the end of every task: remember what the
       penalty protects (the current weights, the task's curvature);
    2. ``regularizer(model)`` during the following tasks: the penalty, a
       scalar tensor differentiable with respect to the model's parameters;
    3. :meth:`state_dict` / :meth:`load_state_dict` for checkpoints (plain
       dicts of tensors and numbers).

    Batch-norm merging and reparameterisation
    (:mod:`mmdl.continual.bn_merge`) change the coordinates of the
    parameters while the model sits at the anchor (right after
    :meth:`consolidate`, or before the next task trains). A regulariser
    that supports them re-expresses what it stores with
    :meth:`scale_layer_outputs` and :meth:`transform_bn_unit`, after which
    the caller re-reads the anchor with :meth:`set_anchor`. Those three
    raise ``NotImplementedError`` here.

    A regulariser that needs the current batch (e.g. distillation) sets
    :attr:`needs_batch`; ``ContinualImageClassifier`` then calls it as
    ``regularizer(model, inputs=..., feats=..., data_samples=...)`` with the
    batch's inputs, the model's features of them and the samples.

    A regulariser that needs to observe every optimisation step (e.g. the
    path integral of Synaptic Intelligence) sets :attr:`observes_steps` and
    overrides :meth:`before_step` / :meth:`after_step`, which are no-ops
    here. :class:`~mmdl.engine.hooks.RegularizerHook` then calls them right
    before and right after every ``optimizer.step()`` of the training loop
    (through ``register_step_pre_hook`` / ``register_step_post_hook`` of the
    runner's optimiser), from the first task on, whether or not the
    penalty is attached yet.

    Register a subclass in :data:`~mmdl.registry.REGULARIZERS` to build it
    from a config, ``dict(type='MyRegularizer', ...)``.
    """

    #: Whether :meth:`__call__` takes the current batch (see above).
    needs_batch: bool = False

    #: Whether :meth:`before_step` / :meth:`after_step` must be driven
    #: (see above).
    observes_steps: bool = False

    def before_step(self, model: nn.Module) -> None:
        """Called right before every optimiser step (no-op by default).

        The parameters still hold the weights the gradients were computed
        at, and ``param.grad`` holds the gradient the optimiser is about to
        use: the total loss's (task loss plus penalties), averaged over the
        processes under DDP, summed over the micro-batches of gradient
        accumulation, after gradient clipping. (Under AMP, the step is
        skipped when the scaled gradients overflow, and so are both
        calls.)

        Args:
            model (nn.Module): The model being trained (unwrapped).
        """

    def after_step(self, model: nn.Module) -> None:
        """Called right after every optimiser step (no-op by default); the
        parameters hold the updated weights (``param.grad`` is still set:
        mmengine zeroes it after this call).

        Args:
            model (nn.Module): The model being trained (unwrapped).
        """

    @abstractmethod
    def consolidate(self,
                    model: nn.Module,
                    batches: Optional[Iterable] = None,
                    logits_fn: Optional[LogitsFn] = None,
                    generator: Optional[torch.Generator] = None) -> None:
        """Take a finished task into account.

        Args:
            model (nn.Module): The model at the end of the task, in the
                mode the statistics are to be collected in.
            batches (Iterable, optional): The task's training batches (the
                training dataloader). Regularisers without data statistics
                ignore them.
            logits_fn (callable, optional): ``logits_fn(model, batch) ->
                (logits, labels)``.
            generator (torch.Generator, optional): Generator for any
                sampling (e.g. labels of the true Fisher), for reproducible
                consolidation.
        """

    @abstractmethod
    def __call__(self, model: nn.Module) -> Tensor:
        """The penalty of the model's current weights.

        Args:
            model (nn.Module): The model being trained.

        Returns:
            Tensor: A scalar, differentiable in the model's parameters;
            zero before the first :meth:`consolidate`.
        """

    @abstractmethod
    def state_dict(self) -> Dict[str, Any]:
        """The state to store in checkpoints (tensors and plain data)."""

    @abstractmethod
    def load_state_dict(self, state: Dict[str, Any]) -> None:
        """Restore the output of :meth:`state_dict`."""

    def _no_coordinate_change(self) -> NotImplementedError:
        return NotImplementedError(
            f'{type(self).__name__} cannot be re-expressed after a change '
            'of coordinates of the parameters (batch-norm merging or '
            'reparameterisation)')

    def set_anchor(self, model: nn.Module) -> None:
        """Centre the penalty on the model's current weights.

        After a change of coordinates made at the anchor, this re-reads the
        anchor in the new coordinates.

        Args:
            model (nn.Module): The model.
        """
        raise self._no_coordinate_change()

    def scale_layer_outputs(self, name: str, r: Tensor) -> None:
        """Re-express the penalty after the output channels of the
        Linear/Conv2d layer ``name`` are rescaled, ``W_bar_new = diag(r)
        W_bar_old`` (as :func:`~mmdl.continual.bn_merge.fold_bn` does).

        Args:
            name (str): Module name of the layer.
            r (Tensor): Per-channel factors, (C_out, ).
        """
        raise self._no_coordinate_change()

    def transform_bn_unit(self, name: str, jac: Tensor) -> None:
        """Re-express the penalty after the affine change of coordinates of
        the batch norm ``name``: per channel, the old ``(gamma, beta)``
        displacement is ``jac @`` the new one (as returned by the functions
        of :mod:`mmdl.continual.bn_merge`).

        Args:
            name (str): Module name of the batch norm.
            jac (Tensor): (C, 2, 2).
        """
        raise self._no_coordinate_change()
