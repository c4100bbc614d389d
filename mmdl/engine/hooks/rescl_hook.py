# Copyright (c) mmdl contributors. All rights reserved.
"""Drive the stages of ResCL (residual continual learning) through a task
sequence."""
import os
import os.path as osp
from typing import Any, Dict, Optional, Sequence, Union

import torch
from mmengine import dist
from mmengine.dist import master_only
from torch.utils.data import DataLoader

from mmdl.registry import HOOKS
from mmdl.utils.config_checks import ConfigError
from .continual_hook import ContinualHook

#: Export file of the unwrapped network after task ``t``.
EXPORT_NAME = 'merged_task_{}.pth'


def sync_norm_statistics(model) -> None:
    """Give every process rank 0's batch-norm statistics (distributed
    training does not synchronise buffers), before they become parameters
    (merge, reparameterisation) or soft targets."""
    if dist.get_world_size() == 1:
        return
    for name, buffer in model.named_buffers():
        if 'running_' in name or 'num_batches_tracked' in name:
            dist.broadcast(buffer.data, src=0)


@HOOKS.register_module()
class ResCLHook(ContinualHook):
    """The stages of ResCL (Lee et al., AAAI 2020) in a
    :class:`~mmdl.engine.loops.TaskSequenceTrainLoop` over a
    :class:`~mmdl.models.ResCLWrapper`.

    Task 0 trains the source network. Each later task ``t`` has
    ``train_cfg.max_epochs[t]`` epochs:

    1. ``before_task``: the source batch norms get the statistics of the
       new task's inputs without changing the network
       (``reparameterise_norms``), and the target copy starts from the
       source; it is fine-tuned for ``finetune_epochs`` epochs;
    2. at the end of the last fine-tuning epoch the soft targets are
       recorded (``soft_targets='recorded'`` in the wrapper) and the
       coefficients start at ``alpha_init``;
    3. the remaining epochs train the combination;
    4. ``after_task`` (after the task's row of the accuracy matrix was
       evaluated on the combined network): the exact merge; the merged,
       unwrapped classifier is written to
       ``<work_dir>/merged_task_<t>.pth``, a checkpoint for the unwrapped
       classifier's config (``tools/test.py``).

    With as many fine-tuning epochs as the task has, the combination is
    merged at ``alpha_init`` without training: mean-IMM for ``(-0.5,
    0.5)``. The recorded soft targets are kept in checkpoints, so a run
    resumes in any stage. One optimiser serves the whole task (stage 1 and
    3; its per-task ``param_scheduler`` may change the learning rate at the
    stage boundary).

    Args:
        finetune_epochs (int | Sequence[int]): Fine-tuning epochs of every
            task >= 1, or one number per task (entry 0 is ignored).
        reparameterise_norms (bool): Give the source batch norms the new
            task's input statistics before fine-tuning
            (:func:`~mmdl.continual.bn_merge.reparameterise_bn`; the
            function is unchanged). **Reconstruction**: after a merge the
            batch norms hold identity statistics, with which the target
            copy's train-mode batch norms would start far from the merged
            network. Defaults to True.
        export_merged (bool): Write ``merged_task_<t>.pth``. Defaults to
            True.
        batch_size (int, optional): Batch size of the passes that record
            soft targets and statistics. Defaults to the training loader's.
    """

    priority = 'NORMAL'  # before CheckpointHook in 'after_train_epoch'
    state_key = 'rescl_hook'

    def __init__(self,
                 finetune_epochs: Union[int, Sequence[int]],
                 reparameterise_norms: bool = True,
                 export_merged: bool = True,
                 batch_size: Optional[int] = None) -> None:
        values = ([finetune_epochs] if isinstance(finetune_epochs, int) else
                  list(finetune_epochs))
        if any(int(v) < 0 for v in values):
            raise ValueError('finetune_epochs must be >= 0, got '
                             f'{finetune_epochs}')
        self.finetune_epochs = finetune_epochs
        self.reparameterise_norms = reparameterise_norms
        self.export_merged = export_merged
        self.batch_size = batch_size
        self._soft: Optional[Dict[int, torch.Tensor]] = None

    def task_finetune_epochs(self, task: int) -> int:
        """Fine-tuning epochs of ``task`` (>= 1)."""
        if isinstance(self.finetune_epochs, int):
            return self.finetune_epochs
        return int(self.finetune_epochs[task])

    @staticmethod
    def wrapper(runner):
        """The runner's :class:`~mmdl.models.ResCLWrapper` (unwrapped)."""
        from mmdl.models import ResCLWrapper
        model = ContinualHook.unwrap(runner.model)
        if not isinstance(model, ResCLWrapper):
            raise TypeError('ResCLHook needs model=dict(type='
                            "'mmdl.ResCLWrapper', ...), got "
                            f'{type(model).__name__}')
        return model

    def before_train(self, runner) -> None:
        loop = self.task_loop(runner)
        wrapper = self.wrapper(runner)
        epochs = loop.task_epochs
        if not isinstance(self.finetune_epochs, int) and len(
                self.finetune_epochs) != len(epochs):
            raise ConfigError(
                f'ResCLHook.finetune_epochs has {len(self.finetune_epochs)} '
                f'entries for train_cfg.num_tasks={len(epochs)}')
        for task in range(1, len(epochs)):
            if self.task_finetune_epochs(task) > epochs[task]:
                raise ConfigError(
                    f'ResCLHook.finetune_epochs: task {task} fine-tunes for '
                    f'{self.task_finetune_epochs(task)} epochs but has '
                    f'{epochs[task]} (train_cfg.max_epochs)')
        if self._soft is not None:  # resumed in the combination stage
            wrapper.set_soft_targets(self._soft)

    def before_task(self, runner, task_index: int) -> None:
        wrapper = self.wrapper(runner)
        if task_index == 0:
            wrapper.set_mode('source')
            return
        sync_norm_statistics(wrapper)
        if self.reparameterise_norms:
            count = wrapper.reparameterise_source_norms(
                self._sequential(runner))
            runner.logger.info(
                f'ResCL task {task_index}: {count} source batch norm(s) '
                "reparameterised with the task's input statistics.")
        wrapper.begin_task(task_index)
        epochs = self.task_finetune_epochs(task_index)
        total = self.task_loop(runner).task_epochs[task_index]
        runner.logger.info(
            f'ResCL task {task_index}: fine-tuning the target copy for '
            f'{epochs} epoch(s), then training the combination for '
            f'{total - epochs}.')
        if epochs == 0:
            self._begin_combination(runner)

    def before_train_epoch(self, runner) -> None:
        optimizer = getattr(runner.optim_wrapper, 'optimizer', None)
        if optimizer is None:
            return
        held = {id(p) for g in optimizer.param_groups for p in g['params']}
        missing = [
            n for n, p in self.wrapper(runner).named_parameters()
            if id(p) not in held
        ]
        if missing:
            raise ConfigError(
                f'ResCL: the optimiser holds {len(missing)} of the model\'s '
                f'parameters less (e.g. {missing[0]}): remove '
                'optim_wrapper.paramwise_cfg, with which mmengine leaves out '
                'the parameters frozen when the optimiser is built')

    def after_train_epoch(self, runner) -> None:
        loop = self.task_loop(runner)
        task = loop.task
        if task == 0:
            return
        done = loop.epoch + 1 - loop.task_start_epochs[task]
        if done == self.task_finetune_epochs(task):
            self._begin_combination(runner)

    def after_task(self, runner, task_index: int) -> None:
        wrapper = self.wrapper(runner)
        if task_index > 0:
            sync_norm_statistics(wrapper)
            alphas = torch.cat([
                torch.stack([u.alpha_source, u.alpha_target]).detach()
                for u in wrapper.units
            ], 1)
            wrapper.merge()
            self._soft = None
            runner.logger.info(
                f'ResCL task {task_index}: combination merged (mean a_s '
                f'{alphas[0].mean():.3f}, mean a_t {alphas[1].mean():.3f}, '
                f'{float((alphas == 0).all(0).float().mean()) * 100:.1f}% '
                'of the channels back at the source).')
        if self.export_merged:
            self._export(runner, wrapper, task_index)

    def _begin_combination(self, runner) -> None:
        wrapper = self.wrapper(runner)
        sync_norm_statistics(wrapper)
        table = None
        if wrapper.soft_targets == 'recorded':
            loader = self._sequential(runner)
            table = wrapper.record_soft_targets(loader, len(loader.dataset))
        self._soft = table
        wrapper.begin_combination(table)
        runner.logger.info(
            f'ResCL task {wrapper.current_task}: combination stage '
            f'({wrapper.soft_targets} soft targets, lambda '
            f'{wrapper.l1_weight:g}, T {wrapper.temperature:g}).')

    def _sequential(self, runner) -> DataLoader:
        """Every sample of the current task's training data once, in order,
        on every rank (so that all ranks hold the same tables)."""
        loader = self.train_dataloader(runner)
        return DataLoader(
            loader.dataset,
            batch_size=self.batch_size or loader.batch_size,
            shuffle=False,
            num_workers=0,
            collate_fn=loader.collate_fn)

    @master_only
    def _export(self, runner, wrapper, task: int) -> None:
        loop = self.task_loop(runner)
        meta = dict(
            epoch=loop.task_start_epochs[task + 1],
            iter=loop.iter,
            mmdl_rescl=dict(task=task, merged=task > 0))
        meta.update(loop.checkpoint_meta())
        path = osp.join(runner.work_dir, EXPORT_NAME.format(task))
        tmp = f'{path}.tmp{os.getpid()}'
        torch.save(
            dict(meta=meta, state_dict=wrapper.plain_state_dict('source')),
            tmp)
        os.replace(tmp, path)
        runner.logger.info(f'ResCL task {task}: unwrapped classifier '
                           f'written to {path}')

    def state_dict(self) -> Dict[str, Any]:
        return dict(soft_targets=self._soft)

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        self._soft = state.get('soft_targets')
