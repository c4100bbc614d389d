# Copyright (c) mmdl contributors. All rights reserved.
"""Test helpers imported by configs through ``custom_imports``: a hook that
saves every rank's weights, and a classifier with its own train_step."""
import os.path as osp

import torch
from mmengine.hooks import Hook
from mmpretrain.models import ImageClassifier

from mmdl.registry import HOOKS, MODELS


@HOOKS.register_module()
class RankDumpHook(Hook):
    """Save this rank's weights, wrapper type and custom-step count (after
    the run, and with ``every_epoch`` after every training epoch)."""

    priority = 'LOWEST'

    def __init__(self, out_dir, every_epoch=False):
        self.out_dir = out_dir
        self.every_epoch = every_epoch

    def after_train_epoch(self, runner):
        if not self.every_epoch:
            return
        model = runner.model.module if hasattr(runner.model,
                                               'module') else runner.model
        torch.save(
            model.state_dict(),
            osp.join(self.out_dir,
                     f'rank{runner.rank}_epoch{runner.epoch}.pth'))

    def after_run(self, runner):
        model = runner.model.module if hasattr(runner.model,
                                               'module') else runner.model
        torch.save(
            dict(
                state_dict=model.state_dict(),
                wrapper=type(runner.model).__name__,
                custom_calls=getattr(model, 'custom_calls', None)),
            osp.join(self.out_dir, f'rank{runner.rank}.pth'))


@MODELS.register_module()
class CountingClassifier(ImageClassifier):
    """``ImageClassifier`` whose own ``train_step`` counts its calls."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.custom_calls = 0

    def train_step(self, data, optim_wrapper):
        self.custom_calls += 1
        return super().train_step(data, optim_wrapper)
