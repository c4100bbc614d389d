# Copyright (c) mmdl contributors. All rights reserved.
"""Test helpers imported by configs through ``custom_imports``: a tiny
permuted-digits task dataset, a hook recording the task events and the
optimiser state, a hook that stops training at a given epoch and one that
saves the weights at the task events."""
import json
import os.path as osp
from typing import List

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from torch.nn.modules.batchnorm import _BatchNorm

from mmdl.datasets import DigitsDataset
from mmdl.registry import DATASETS, HOOKS

EVENTS_FILE = 'task_events.jsonl'


@DATASETS.register_module()
class ToyPermutedDigits(DigitsDataset):
    """The first ``num_samples`` digits of a split with the pixels of task
    ``t >= 1`` shuffled by ``np.random.default_rng(t).permutation(64)``;
    every sample carries ``task_id``."""

    def __init__(self, split='train', task_id=0, num_samples=None, **kwargs):
        self.task_id = task_id
        self.num_samples = num_samples
        super().__init__(split=split, **kwargs)

    def load_data_list(self) -> List[dict]:
        data = super().load_data_list()[:self.num_samples]
        perm = np.arange(64) if self.task_id == 0 else \
            np.random.default_rng(self.task_id).permutation(64)
        for info in data:
            info['img'] = np.ascontiguousarray(
                info['img'].reshape(-1)[perm].reshape(8, 8))
            info['task_id'] = self.task_id
        return data


def _model(runner):
    model = runner.model
    return model.module if is_model_wrapper(model) else model


@HOOKS.register_module()
class TaskEventRecorderHook(Hook):
    """Append the task events and, at the first iteration of every epoch,
    the optimiser state to ``work_dir/task_events.jsonl``.

    Args:
        freeze_bn_epoch (int): At the start of this global epoch, switch
            the BN layers to eval mode in ``before_train_epoch``.
    """

    def __init__(self, freeze_bn_epoch=-1):
        self.freeze_bn_epoch = freeze_bn_epoch

    def _write(self, runner, **record):
        with open(osp.join(runner.work_dir, EVENTS_FILE), 'a') as f:
            f.write(json.dumps(record) + '\n')

    def before_task(self, runner, task_index):
        self._write(
            runner,
            event='before_task',
            task_index=task_index,
            epoch=runner.epoch,
            loop_task=runner.train_loop.task,
            current_task=_model(runner).current_task,
            completed=runner.train_loop.completed_tasks,
            loader_task=runner.train_dataloader.dataset.task_id)

    def after_task(self, runner, task_index):
        matrix = runner.train_loop.accuracy_matrix
        self._write(
            runner,
            event='after_task',
            task_index=task_index,
            epoch=runner.epoch,
            completed=runner.train_loop.completed_tasks,
            loader_task=runner.train_dataloader.dataset.task_id,
            row=matrix[task_index])

    def before_train_epoch(self, runner):
        if runner.epoch == self.freeze_bn_epoch:
            for module in runner.model.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        if batch_idx != 0:
            return
        optimizer = runner.optim_wrapper.optimizer
        buffers = sum(1 for state in optimizer.state.values()
                      if 'momentum_buffer' in state)
        bn_training = [
            m.training for m in runner.model.modules()
            if isinstance(m, _BatchNorm)
        ]
        self._write(
            runner,
            event='first_iter',
            epoch=runner.epoch,
            iter=runner.iter,
            task=runner.train_loop.task,
            current_task=_model(runner).current_task,
            loader_task=runner.train_dataloader.dataset.task_id,
            batch_task_ids=sorted(
                {int(s.task_id)
                 for s in data_batch['data_samples']}),
            momentum_buffers=buffers,
            lr=optimizer.param_groups[0]['lr'],
            bn_training=all(bn_training))


@HOOKS.register_module()
class StopAtEpochHook(Hook):
    """Raise ``SystemExit(3)`` once global epoch ``stop_epoch`` (1-based)
    is done and checkpointed (priority LOWEST, after CheckpointHook)."""

    priority = 'LOWEST'

    def __init__(self, stop_epoch):
        self.stop_epoch = stop_epoch

    def after_train_epoch(self, runner):
        if runner.epoch + 1 == self.stop_epoch:
            raise SystemExit(3)


@HOOKS.register_module()
class WeightSnapshotHook(Hook):
    """Save the model's state dict (weights and BN buffers) to
    ``work_dir/weights_{before,after}_task<t>.pth`` at 'before_task' and
    'after_task'; priority LOWEST, so after the other hooks of the event
    (e.g. a curvature collection in 'after_task')."""

    priority = 'LOWEST'

    def _save(self, runner, event, task_index):
        torch.save(
            _model(runner).state_dict(),
            osp.join(runner.work_dir, f'weights_{event}_task{task_index}.pth'))

    def before_task(self, runner, task_index):
        self._save(runner, 'before', task_index)

    def after_task(self, runner, task_index):
        self._save(runner, 'after', task_index)
