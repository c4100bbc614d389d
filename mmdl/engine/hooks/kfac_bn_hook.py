# Copyright (c) mmdl contributors. All rights reserved.
"""Curvature penalties (EWC, K-FAC, XK-FAC) for batch-norm networks, with
the batch-norm modes and statistics handling of Lee et al. (CVPR 2020)."""
from typing import Any, Dict, List, Optional

import torch
from mmengine import dist
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from mmdl.continual import BN_CURVATURES
from mmdl.continual.bn_merge import (bn_input_moments, find_bn_pairs, fold_bn,
                                     fold_bn_into_affine, moments_to_mean_var,
                                     reparameterise_bn)
from mmdl.registry import HOOKS
from .regularizer_hook import RegularizerHook

#: ``curvature`` -> the regulariser registered in ``REGULARIZERS``.
CURVATURE_REGULARIZERS = {
    'xkfac': 'XKFACRegularizer',
    'kfac': 'KFACRegularizer',
    'ewc': 'EWCRegularizer',
}
BN_MODES = ('train', 'fixed')
BN_STATS = ('track', 'merge', 'merge_reparam')
MERGE_INTO = ('affine', 'producer')


def _set_bn_eval(model: nn.Module) -> None:
    for module in model.modules():
        if isinstance(module, _BatchNorm):
            module.eval()


@HOOKS.register_module()
class KFACBNHook(RegularizerHook):
    """Quadratic-penalty continual learning with batch-norm networks
    (Lee et al., "Continual Learning with Extended Kronecker-factored
    Approximate Curvature", CVPR 2020).

    A :class:`RegularizerHook` with the curvature regulariser named by
    ``curvature`` (:class:`~mmdl.continual.regularizers.XKFACRegularizer`,
    :class:`~mmdl.continual.regularizers.KFACRegularizer` or
    :class:`~mmdl.continual.regularizers.EWCRegularizer`). At the end of
    each task it

    1. estimates the curvature of every Linear/Conv2d layer over the task's
       training data, with the training dataloader (same batch size as
       training), batch norm in train mode (``bn_mode='train'``) or eval mode
       (``bn_mode='fixed'``), running statistics untouched, labels sampled
       from the model (``fisher='true'``) or the ground truth
       (``fisher='empirical'``), seeded from (seed, task) so that a resumed
       run collects the same curvature;
    2. appends it to the per-task list of the regulariser (each task's
       curvature is estimated at its own solution), re-centres the penalty
       and the damping on the current weights;
    3. attaches the penalty and the objective to the model: the next tasks
       minimise ``lambda_t alpha_t L_t + lambda_s alpha_s w P + lambda_d D``
       (see :class:`~mmdl.continual.objective.ContinualObjective`).

    The state is stored in checkpoints (key ``'kfac_bn_hook'``) and
    restored on resume.

    ``bn_mode='fixed'`` is the "fixed BN" baseline: from the second task on,
    batch norms stay in eval mode with the first task's statistics, so there
    is no inter-example dependence and plain K-FAC is valid.

    Batch-norm gamma/beta get a unit-wise (2x2 per channel) or diagonal
    curvature (``bn_curvature``; **Reconstruction**, see
    :mod:`mmdl.continual.curvature`).

    Batch-norm statistics (``bn_stats``; **Reconstruction** of the paper's
    "weight merging and reparameterization", whose procedure was not
    available; see :mod:`mmdl.continual.bn_merge`):

    * ``'track'``: running statistics follow the data of every task (the
      newest task's statistics serve all tasks at test time);
    * ``'merge'``: at the end of every task, after the curvature is
      collected, the running statistics of each batch norm fed directly by
      a Linear/Conv2d layer are folded into that layer and the batch norm's
      ``beta`` (``merge_into='producer'``) or into its ``gamma``/``beta``
      (``merge_into='affine'``); the running statistics become (0, 1).
      The stored curvature of all tasks and the anchors are re-expressed
      exactly in the merged parameters (the regulariser's
      ``scale_layer_outputs`` / ``transform_bn_unit`` / ``set_anchor``).
      The final model is merged: inference uses one set of statistics held
      in the weights;
    * ``'merge_reparam'``: ``'merge'``, and at the start of every later
      task each merged batch norm is reparameterised with the statistics
      of its input on the new task's training data (one pass without
      gradients), so that training starts from the merged network in both
      train and eval mode; the curvature and anchors follow the change of
      coordinates.

    Both merges keep the eval-mode network exactly; under distributed
    training the statistics are summed over processes and the merged
    tensors broadcast from rank 0. configs/xkfac/README.md compares the
    modes; ``'track'`` is the default.

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
        max_batches (int, optional): Batches used for the curvature (and
            for the statistics of ``'merge_reparam'``). Defaults to the
            whole training set.
        bn_curvature (str, optional): ``'unitwise'`` or ``'diag'``
            curvature of the batch-norm gamma/beta, None for none. EWC uses
            the diagonal. Defaults to ``'unitwise'``.
        bn_stats (str): ``'track'``, ``'merge'`` or ``'merge_reparam'``.
            Defaults to ``'track'``.
        merge_into (str): Where the merge folds the running statistics:
            ``'producer'``, the Linear/Conv2d layer feeding the batch norm,
            or ``'affine'``, the batch norm's own gamma/beta (the layer's
            weights keep their scale, so SGD sees the same geometry).
            Defaults to ``'producer'``.
    """

    priority = 'NORMAL'
    state_key = 'kfac_bn_hook'

    def __init__(self,
                 curvature: str = 'xkfac',
                 fisher: str = 'true',
                 penalty_weight: float = 1.0,
                 damping: float = 0.0,
                 task_weighting: bool = True,
                 adaptive_scaling: bool = False,
                 bn_mode: str = 'train',
                 layers: Optional[List[str]] = None,
                 max_batches: Optional[int] = None,
                 bn_curvature: Optional[str] = 'unitwise',
                 bn_stats: str = 'track',
                 merge_into: str = 'producer') -> None:
        if curvature not in CURVATURE_REGULARIZERS:
            raise ValueError(f'KFACBNHook: curvature={curvature!r} is not '
                             f'one of {tuple(CURVATURE_REGULARIZERS)}')
        if bn_mode not in BN_MODES:
            raise ValueError(f'KFACBNHook: bn_mode={bn_mode!r} is not one '
                             f'of {BN_MODES}')
        if bn_curvature is not None and bn_curvature not in BN_CURVATURES:
            raise ValueError(f'KFACBNHook: bn_curvature={bn_curvature!r} is '
                             f'not one of {BN_CURVATURES} or None')
        if bn_stats not in BN_STATS:
            raise ValueError(f'KFACBNHook: bn_stats={bn_stats!r} is not one '
                             f'of {BN_STATS}')
        if merge_into not in MERGE_INTO:
            raise ValueError(f'KFACBNHook: merge_into={merge_into!r} is not '
                             f'one of {MERGE_INTO}')
        super().__init__(
            regularizer=dict(
                type=CURVATURE_REGULARIZERS[curvature],
                fisher=fisher,
                layers=layers,
                max_batches=max_batches,
                bn_curvature=bn_curvature),
            penalty_weight=penalty_weight,
            damping=damping,
            task_weighting=task_weighting,
            adaptive_scaling=adaptive_scaling)
        self.curvature = curvature
        self.fisher = fisher
        self.bn_mode = bn_mode
        self.layers = layers
        self.max_batches = max_batches
        self.bn_curvature = bn_curvature
        self.bn_stats = bn_stats
        self.merge_into = merge_into

    @property
    def num_tasks_collected(self) -> int:
        """int: Tasks whose curvature the regulariser holds."""
        return len(self.regularizer.tasks)

    def before_train_epoch(self, runner) -> None:
        """Keep batch norms in eval mode after the first task
        (``bn_mode='fixed'``)."""
        if self.bn_mode == 'fixed' and self.num_tasks_collected > 0:
            _set_bn_eval(self.unwrap(runner.model))

    def set_consolidation_mode(self, model: nn.Module) -> None:
        """Train mode; batch norms in eval mode with ``bn_mode='fixed'``."""
        model.train()
        if self.bn_mode == 'fixed':
            _set_bn_eval(model)

    def consolidate(self, runner, model: nn.Module, task_index: int) -> None:
        """Collect the finished task's curvature (see
        :meth:`RegularizerHook.consolidate`), then merge the batch norms
        (``bn_stats='merge'``/``'merge_reparam'``)."""
        super().consolidate(runner, model, task_index)
        if self.bn_stats != 'track':
            self._merge(runner, model)
            self.regularizer.set_anchor(model)

    def consolidation_summary(self, task_index: int) -> str:
        """``'<curvature> curvature of task <t> collected for <n>
        layers'``."""
        return (f'{self.curvature} curvature of task {task_index} collected '
                f'for {len(self.regularizer.tasks[-1])} layers')

    # ------------------------------------------------------------------
    # batch-norm statistics
    # ------------------------------------------------------------------
    def _bn_pairs(self, runner, model) -> Dict[str, str]:
        """Batch norm -> the Linear/Conv2d feeding it (one traced batch)."""
        logits_fn = self.logits_fn(model)
        batch = next(iter(self.train_dataloader(runner)))
        was_training = model.training
        model.eval()
        try:
            pairs = find_bn_pairs(model, lambda: logits_fn(model, batch))
        finally:
            model.train(was_training)
        return pairs

    @staticmethod
    def _broadcast(model, names) -> None:
        """Make every process hold rank 0's merged tensors."""
        if dist.get_world_size() == 1:
            return
        modules = dict(model.named_modules())
        for name in names:
            for tensor in list(modules[name].parameters(recurse=False)) + \
                    list(modules[name].buffers(recurse=False)):
                dist.broadcast(tensor.data, src=0)

    def _penalty_terms(self):
        """The regulariser and the damping term: both follow every change
        of coordinates."""
        return (self.regularizer, self.damping)

    def _merge(self, runner, model) -> None:
        """Fold the running statistics of every batch norm fed by a
        Linear/Conv2d layer into that layer or into the batch norm's
        gamma/beta (``merge_into``) and re-express the stored curvature
        (``bn_stats='merge'``/``'merge_reparam'``)."""
        pairs = self._bn_pairs(runner, model)
        modules = dict(model.named_modules())
        # every process folds rank 0's running statistics
        self._broadcast(model, list(pairs))
        for bn_name, producer_name in pairs.items():
            if self.merge_into == 'producer':
                scale, jac = fold_bn(modules[producer_name], modules[bn_name])
            else:
                scale, jac = None, fold_bn_into_affine(modules[bn_name])
            for term in self._penalty_terms():
                if scale is not None:
                    term.scale_layer_outputs(producer_name, scale)
                term.transform_bn_unit(bn_name, jac)
        self._broadcast(model, list(pairs) + list(pairs.values()))
        where = ('the layers feeding them' if self.merge_into == 'producer'
                 else 'their affine parameters')
        runner.logger.info(f'KFACBNHook: merged {len(pairs)} batch norm(s) '
                           f'into {where}')

    def _reparameterise(self, runner, model) -> None:
        """Give the merged batch norms the new task's input statistics."""
        pairs = self._bn_pairs(runner, model)
        modules = dict(model.named_modules())
        bns = {name: modules[name] for name in pairs}
        logits_fn = self.logits_fn(model)
        was_training = model.training
        model.eval()
        try:
            moments = bn_input_moments(model, bns,
                                       self.train_dataloader(runner),
                                       logits_fn, self.max_batches)
        finally:
            model.train(was_training)
        for name, bn in bns.items():
            values, count = moments[name]
            count = torch.tensor(float(count), dtype=values.dtype)
            dist.all_reduce(values)
            dist.all_reduce(count)
            mean, var = moments_to_mean_var(values, float(count))
            jac = reparameterise_bn(bn, mean, var)
            for term in self._penalty_terms():
                term.transform_bn_unit(name, jac)
        self._broadcast(model, list(bns))
        for term in self._penalty_terms():
            term.set_anchor(model)
        runner.logger.info(f'KFACBNHook: reparameterised {len(bns)} batch '
                           "norm(s) with the new task's statistics")

    def before_task(self, runner, task_index: int) -> None:
        """Reparameterise the merged batch norms with the new task's
        statistics (``bn_stats='merge_reparam'``)."""
        if self.bn_stats == 'merge_reparam' and self.num_tasks_collected:
            self._reparameterise(runner, self.unwrap(runner.model))

    # ------------------------------------------------------------------
    # checkpoints (the format of earlier versions: key 'kfac_bn_hook')
    # ------------------------------------------------------------------
    def state_dict(self) -> Dict[str, Any]:
        """``curvature``, ``penalty`` (the regulariser), ``anchor`` (the
        damping term) and ``objective`` states."""
        return dict(
            curvature=self.curvature,
            penalty=self.regularizer.state_dict(),
            anchor=self.damping.state_dict(),
            objective=self.objective.state_dict())

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        """Restore :meth:`state_dict`'s output.

        Raises:
            ValueError: The checkpoint holds another kind of curvature.
        """
        if state['curvature'] != self.curvature:
            raise ValueError(
                f"KFACBNHook: the checkpoint holds {state['curvature']!r} "
                f'curvature, the config asks for {self.curvature!r}')
        self.regularizer.load_state_dict(state['penalty'])
        self.damping.load_state_dict(state['anchor'])
        self.objective.load_state_dict(state['objective'])
