# Copyright (c) mmdl contributors. All rights reserved.
"""Collect curvature at the end of each task and install the quadratic
penalty for the following tasks (EWC, K-FAC, XK-FAC)."""
from typing import List, Optional

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from torch.nn.modules.batchnorm import _BatchNorm

from mmdl.continual import (PENALTIES, L2AnchorPenalty, collect_curvature,
                            find_layers)
from mmdl.continual.objective import ContinualObjective
from mmdl.registry import HOOKS

BN_MODES = ('train', 'fixed')


def _unwrap(model):
    return model.module if is_model_wrapper(model) else model


def _set_bn_eval(model) -> None:
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.eval()


@HOOKS.register_module()
class KFACBNHook(Hook):
    """Quadratic-penalty continual learning with batch-norm networks
    (Lee et al., "Continual Learning with Extended Kronecker-factored
    Approximate Curvature", CVPR 2020).

    Works with :class:`~mmdl.engine.loops.TaskSequenceTrainLoop` (events
    ``after_task``) and a model with ``cl_penalties`` / ``cl_objective``
    attributes (:class:`~mmdl.models.ContinualImageClassifier`). At the end
    of each task it

    1. estimates the curvature of every Linear/Conv2d layer over the task's
       training data, with the training dataloader (same batch size as
       training), batch norm in train mode (``bn_mode='train'``) or eval mode
       (``bn_mode='fixed'``), running statistics untouched, labels sampled
       from the model (``fisher='true'``) or the ground truth
       (``fisher='empirical'``), seeded from (seed, task) so that a resumed
       run collects the same curvature;
    2. appends it to the per-task list of the penalty (each task's curvature
       is estimated at its own solution), re-centres the penalty and the
       damping on the current weights;
    3. installs the penalty and the objective on the model: the next tasks
       minimise ``lambda_t alpha_t L_t + lambda_s alpha_s w P + lambda_d D``
       (see :class:`~mmdl.continual.objective.ContinualObjective`).

    The penalty state is stored in checkpoints (key ``'kfac_bn_hook'``) and
    restored on resume.

    ``bn_mode='fixed'`` is the "fixed BN" baseline: from the second task on,
    batch norms stay in eval mode with the first task's statistics, so there
    is no inter-example dependence and plain K-FAC is valid.

    Not implemented yet: the paper's batch-norm weight merging and
    reparameterisation (brief section 6); the batch-norm affine parameters
    get no curvature (only the Linear/Conv2d layers are penalised).

    Args:
        curvature (str): ``'xkfac'``, ``'kfac'`` or ``'ewc'``. Defaults to
            ``'xkfac'``.
        fisher (str): ``'true'`` or ``'empirical'``. Defaults to ``'true'``.
        penalty_weight (float): Factor ``w`` on the penalty. Defaults to 1.
        damping (float): ``lambda_d``, weight decay toward the previous
            solution. Defaults to 0.
        task_weighting (bool): ``lambda_s = T/(T+1)``, ``lambda_t =
            1/(T+1)``. Defaults to True.
        adaptive_scaling (bool): Running normalisers ``alpha``. Defaults to
            False.
        bn_mode (str): ``'train'`` or ``'fixed'``. Defaults to ``'train'``.
        layers (list[str], optional): Layer names to penalise. Defaults to
            every Linear/Conv2d layer.
        max_batches (int, optional): Batches used for the curvature.
            Defaults to the whole training set.
    """

    priority = 'NORMAL'

    def __init__(self,
                 curvature: str = 'xkfac',
                 fisher: str = 'true',
                 penalty_weight: float = 1.0,
                 damping: float = 0.0,
                 task_weighting: bool = True,
                 adaptive_scaling: bool = False,
                 bn_mode: str = 'train',
                 layers: Optional[List[str]] = None,
                 max_batches: Optional[int] = None) -> None:
        if curvature not in PENALTIES:
            raise ValueError(f'KFACBNHook: curvature={curvature!r} is not '
                             f'one of {tuple(PENALTIES)}')
        if bn_mode not in BN_MODES:
            raise ValueError(f'KFACBNHook: bn_mode={bn_mode!r} is not one '
                             f'of {BN_MODES}')
        self.curvature = curvature
        self.fisher = fisher
        self.bn_mode = bn_mode
        self.layers = layers
        self.max_batches = max_batches
        self.penalty = PENALTIES[curvature](layers)
        self.anchor = L2AnchorPenalty()
        self.objective = ContinualObjective(
            penalty_weight=penalty_weight,
            task_weighting=task_weighting,
            adaptive_scaling=adaptive_scaling,
            damping=damping,
            damping_fn=self.anchor)

    @property
    def num_tasks_collected(self) -> int:
        return len(self.penalty.tasks)

    def _install(self, model) -> None:
        model.cl_penalties = [self.penalty]
        model.cl_objective = self.objective

    def before_train_epoch(self, runner) -> None:
        """Keep batch norms in eval mode after the first task
        (``bn_mode='fixed'``)."""
        if self.bn_mode == 'fixed' and self.num_tasks_collected > 0:
            _set_bn_eval(_unwrap(runner.model))

    def after_task(self, runner, task_index: int) -> None:
        """Collect the finished task's curvature and install the penalty.

        Args:
            runner: The runner.
            task_index (int): The task that just finished.
        """
        if self.num_tasks_collected > task_index:
            return  # already done before the checkpoint we resumed from
        model = _unwrap(runner.model)
        was_training = model.training
        model.train()
        if self.bn_mode == 'fixed':
            _set_bn_eval(model)
        find_layers(model, self.layers)  # names checked early
        preprocessor = model.data_preprocessor

        def logits_fn(model, batch):
            data = preprocessor(batch, True)
            logits = model(data['inputs'], data['data_samples'], 'tensor')
            labels = torch.cat([s.gt_label for s in data['data_samples']])
            return logits, labels.to(logits.device)

        seed = (runner.seed or 0) * 1000003 + task_index
        generator = torch.Generator().manual_seed(seed)
        loader = runner.train_loop.dataloader
        # the batch order must not depend on where training stopped (a
        # resumed run collects with a freshly built loader)
        if hasattr(loader.sampler, 'set_epoch'):
            loader.sampler.set_epoch(runner.epoch)
        curvature = collect_curvature(
            model,
            loader,
            logits_fn,
            curvature=self.curvature,
            fisher=self.fisher,
            layers=(None if self.layers is None else find_layers(
                model, self.layers)),
            max_batches=self.max_batches,
            generator=generator)
        model.train(was_training)
        self.penalty.add_task(curvature)
        self.penalty.set_anchor(model)
        self.anchor.set_anchor(model)
        self.objective.num_old_tasks = self.num_tasks_collected
        self._install(model)
        runner.logger.info(
            f'KFACBNHook: {self.curvature} curvature of task {task_index} '
            f'collected for {len(curvature)} layers; penalty installed for '
            f'{self.num_tasks_collected} old task(s)')

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['kfac_bn_hook'] = dict(
            curvature=self.curvature,
            penalty=self.penalty.state_dict(),
            anchor=self.anchor.state_dict(),
            objective=self.objective.state_dict())

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get('kfac_bn_hook')
        if state is None:
            return
        if state['curvature'] != self.curvature:
            raise ValueError(
                f"KFACBNHook: the checkpoint holds {state['curvature']!r} "
                f'curvature, the config asks for {self.curvature!r}')
        self.penalty.load_state_dict(state['penalty'])
        self.anchor.load_state_dict(state['anchor'])
        self.objective.load_state_dict(state['objective'])
        if self.num_tasks_collected:
            self._install(_unwrap(runner.model))
