# Copyright (c) mmdl contributors. All rights reserved.
"""Consolidate a regulariser after every task and attach it to the model."""
from typing import Any, Dict, Union

import torch
from torch import nn

from mmdl.continual import ContinualObjective
from mmdl.continual.regularizers import (BaseRegularizer, L2Regularizer,
                                         LogitsFn)
from mmdl.registry import HOOKS, REGULARIZERS
from .continual_hook import ContinualHook


@HOOKS.register_module()
class RegularizerHook(ContinualHook):
    """Continual learning with a penalty on the old tasks: consolidate a
    regulariser at the end of every task and optimise

    ``lambda_t alpha_t L_t + lambda_s alpha_s w R + lambda_d D``

    during the following tasks, where ``R`` is the regulariser
    (:mod:`mmdl.continual.regularizers`), ``D`` the weight decay toward the
    previous task's weights
    (:class:`~mmdl.continual.regularizers.L2Regularizer`) and the weights
    are those of :class:`~mmdl.continual.ContinualObjective` (the task
    weighting of Lee et al., CVPR 2020; the adaptive scales ``alpha`` are a
    **Reconstruction**, see there).

    Works with :class:`~mmdl.engine.loops.TaskSequenceTrainLoop` and a model
    with ``set_regularizers`` / ``set_objective``
    (:class:`~mmdl.models.ContinualImageClassifier`). At ``after_task`` it

    1. consolidates the regulariser on the finished task
       (:meth:`consolidate`: the model in train mode, the task's training
       dataloader, labels sampled with a generator seeded from (seed,
       task) so that a resumed run consolidates identically);
    2. re-centres the damping term on the current weights;
    3. attaches the regulariser and the objective to the model.

    The state of the regulariser, the damping term and the objective is
    stored in checkpoints (key :attr:`state_key`) and re-attached on resume.

    A regulariser with ``observes_steps`` (e.g.
    :class:`~mmdl.continual.regularizers.SIRegularizer`) also sees every
    optimisation step, from the first task on: at ``before_train_iter`` the
    hook makes sure that the runner's current optimiser (rebuilt at every
    task start, restored on resume) carries a step pre-hook and a step
    post-hook (``torch.optim.Optimizer.register_step_pre_hook`` /
    ``register_step_post_hook``) that call the regulariser's
    :meth:`~mmdl.continual.regularizers.BaseRegularizer.before_step` and
    :meth:`~mmdl.continual.regularizers.BaseRegularizer.after_step` with the
    unwrapped model. They run inside ``optim_wrapper.step()``, so the
    gradients are still in ``.grad`` (mmengine zeroes them after the step),
    already averaged across processes under DDP, accumulated over
    ``accumulative_counts`` and clipped; steps that AMP skips are not seen.
    The hooks are removed at ``after_train``. A single optimiser is
    required (not an ``OptimWrapperDict``).

    A new regulariser needs no new hook: register it in
    :data:`~mmdl.registry.REGULARIZERS` and name it in ``regularizer``::

        custom_hooks = [
            dict(type='RegularizerHook',
                 regularizer=dict(type='L2SPRegularizer', alpha=0.01),
                 task_weighting=False)
        ]

    Args:
        regularizer (dict | BaseRegularizer): The regulariser or its config
            (built from :data:`~mmdl.registry.REGULARIZERS`).
        penalty_weight (float): Factor ``w`` on the regulariser. Defaults
            to 1.
        damping (float): ``lambda_d``. Defaults to 0.
        task_weighting (bool): ``lambda_s = T/(T+1)``, ``lambda_t =
            1/(T+1)`` after ``T`` tasks; otherwise both are 1. Defaults to
            True.
        adaptive_scaling (bool): Running normalisers ``alpha``. Defaults to
            False.
    """

    priority = 'NORMAL'
    state_key = 'regularizer_hook'

    def __init__(self,
                 regularizer: Union[dict, BaseRegularizer],
                 penalty_weight: float = 1.0,
                 damping: float = 0.0,
                 task_weighting: bool = True,
                 adaptive_scaling: bool = False) -> None:
        if isinstance(regularizer, dict):
            regularizer = REGULARIZERS.build(regularizer)
        if not isinstance(regularizer, BaseRegularizer):
            raise TypeError(f'{type(self).__name__}: regularizer must be a '
                            'BaseRegularizer or its config, got '
                            f'{type(regularizer).__name__}')
        self.regularizer = regularizer
        # the optimiser carrying the step hooks and their handles
        # (regularisers with observes_steps)
        self._watched_optimizer = None
        self._step_handles: list = []
        #: The damping term ``D`` (always kept, used when ``damping > 0``).
        self.damping = L2Regularizer()
        self.objective = ContinualObjective(
            penalty_weight=penalty_weight,
            task_weighting=task_weighting,
            adaptive_scaling=adaptive_scaling,
            damping=damping,
            damping_fn=self.damping)

    @property
    def num_consolidated(self) -> int:
        """int: Tasks consolidated so far (the objective's old tasks)."""
        return self.objective.num_old_tasks

    # ------------------------------------------------------------------
    # consolidation
    # ------------------------------------------------------------------
    @staticmethod
    def logits_fn(model: nn.Module) -> LogitsFn:
        """``logits_fn(model, batch) -> (logits, labels)`` for a dataloader
        batch of an mmpretrain classifier (data preprocessor, ``'tensor'``
        mode, ``gt_label`` of the data samples)."""
        preprocessor = model.data_preprocessor

        def logits_fn(model, batch):
            data = preprocessor(batch, True)
            logits = model(data['inputs'], data['data_samples'], 'tensor')
            labels = torch.cat([s.gt_label for s in data['data_samples']])
            return logits, labels.to(logits.device)

        return logits_fn

    @staticmethod
    def task_seed(runner, task_index: int) -> int:
        """Seed of the consolidation generator of a task."""
        return (runner.seed or 0) * 1000003 + task_index

    def set_consolidation_mode(self, model: nn.Module) -> None:
        """Put the model in the mode the regulariser consolidates in: train
        mode. Override to change (e.g. batch norms in eval mode)."""
        model.train()

    def consolidate(self, runner, model: nn.Module, task_index: int) -> None:
        """Consolidate :attr:`regularizer` on the finished task.

        The model is put in :meth:`set_consolidation_mode` (and back into
        its previous mode afterwards); the batches are the task's training
        dataloader with its sampler at the current epoch (the batch order
        does not depend on where training stopped: a resumed run
        consolidates with a freshly built loader).

        Args:
            runner (Runner): The runner.
            model (nn.Module): The unwrapped model.
            task_index (int): The task that finished.
        """
        was_training = model.training
        self.set_consolidation_mode(model)
        logits_fn = self.logits_fn(model)
        generator = torch.Generator().manual_seed(
            self.task_seed(runner, task_index))
        loader = self.train_dataloader(runner)
        if hasattr(loader.sampler, 'set_epoch'):
            loader.sampler.set_epoch(runner.epoch)
        try:
            self.regularizer.consolidate(model, loader, logits_fn, generator)
        finally:
            model.train(was_training)

    def consolidation_summary(self, task_index: int) -> str:
        """The first part of the log line written after a consolidation."""
        return (f'{type(self.regularizer).__name__} consolidated on task '
                f'{task_index}')

    def after_task(self, runner, task_index: int) -> None:
        """Consolidate the finished task and attach the penalty.

        Args:
            runner (Runner): The runner.
            task_index (int): The task that finished.
        """
        if self.num_consolidated > task_index:
            return  # already done before the checkpoint we resumed from
        model = self.unwrap(runner.model)
        self.check_model(model)
        self.consolidate(runner, model, task_index)
        self.damping.consolidate(model)
        self.objective.num_old_tasks = self.num_consolidated + 1
        self.attach(model)
        runner.logger.info(
            f'{type(self).__name__}: {self.consolidation_summary(task_index)}'
            f'; penalty installed for {self.num_consolidated} old task(s)')

    # ------------------------------------------------------------------
    # per-step events
    # ------------------------------------------------------------------
    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch: Any = None) -> None:
        """Hook the current optimiser's steps for a regulariser with
        ``observes_steps`` (see the class doc)."""
        if getattr(self.regularizer, 'observes_steps', False):
            self.watch_optimizer(runner)

    def after_train(self, runner) -> None:
        """Remove the optimiser step hooks."""
        self.unwatch_optimizer()

    def watch_optimizer(self, runner) -> None:
        """Register the step pre/post hooks that drive the regulariser's
        ``before_step`` / ``after_step`` on the runner's current optimiser
        (once per optimiser: again only after it has been rebuilt).

        Args:
            runner (Runner): The runner.

        Raises:
            TypeError: ``runner.optim_wrapper`` is not a single optimiser
                wrapper with an ``optimizer``.
        """
        from mmengine.optim import OptimWrapperDict
        wrapper = runner.optim_wrapper
        optimizer = getattr(wrapper, 'optimizer', None)
        if isinstance(wrapper, OptimWrapperDict) or not hasattr(
                optimizer, 'register_step_pre_hook'):
            raise TypeError(
                f'{type(self).__name__}: {type(self.regularizer).__name__} '
                'observes the optimisation steps and needs '
                'runner.optim_wrapper to be one OptimWrapper with a '
                'torch.optim.Optimizer in .optimizer, got '
                f'{type(wrapper).__name__}')
        if optimizer is self._watched_optimizer:
            return
        self.unwatch_optimizer()
        regularizer = self.regularizer

        def before(opt, args, kwargs):
            regularizer.before_step(self.unwrap(runner.model))

        def after(opt, args, kwargs):
            regularizer.after_step(self.unwrap(runner.model))

        self._step_handles = [
            optimizer.register_step_pre_hook(before),
            optimizer.register_step_post_hook(after)
        ]
        self._watched_optimizer = optimizer

    def unwatch_optimizer(self) -> None:
        """Remove the step hooks of :meth:`watch_optimizer`, if any."""
        for handle in self._step_handles:
            handle.remove()
        self._step_handles = []
        self._watched_optimizer = None

    # ------------------------------------------------------------------
    # the model
    # ------------------------------------------------------------------
    def check_model(self, model: nn.Module) -> None:
        """Raise a TypeError unless the model can take the penalty."""
        if not (callable(getattr(model, 'set_regularizers', None))
                and callable(getattr(model, 'set_objective', None))):
            raise TypeError(
                f'{type(self).__name__} attaches its penalty with '
                'model.set_regularizers() and model.set_objective(), which '
                f'{type(model).__name__} does not have: use '
                "model=dict(type='mmdl.ContinualImageClassifier', ...) or a "
                'model with these methods')

    def attach(self, model: nn.Module) -> None:
        """Attach the regulariser (after the model's other regularisers)
        and the objective to the model."""
        self.check_model(model)
        others = [r for r in model.regularizers if r is not self.regularizer]
        model.set_regularizers(others + [self.regularizer])
        model.set_objective(self.objective)

    # ------------------------------------------------------------------
    # checkpoints
    # ------------------------------------------------------------------
    def state_dict(self) -> Dict[str, Any]:
        """Regulariser, damping and objective states."""
        return dict(
            type=type(self.regularizer).__name__,
            regularizer=self.regularizer.state_dict(),
            damping=self.damping.state_dict(),
            objective=self.objective.state_dict())

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        """Restore :meth:`state_dict`'s output.

        Raises:
            ValueError: The checkpoint holds another regulariser's state.
        """
        name = type(self.regularizer).__name__
        if state['type'] != name:
            raise ValueError(f'{type(self).__name__}: the checkpoint holds a '
                             f"{state['type']}, the config asks for {name}")
        self.regularizer.load_state_dict(state['regularizer'])
        self.damping.load_state_dict(state['damping'])
        self.objective.load_state_dict(state['objective'])

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Restore the state and re-attach the penalty on resume."""
        super().after_load_checkpoint(runner, checkpoint)
        if self.state_key in checkpoint and self.num_consolidated:
            self.attach(self.unwrap(runner.model))
