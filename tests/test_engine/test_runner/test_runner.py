# Copyright (c) mmdl contributors. All rights reserved.
import os
import uuid

import pytest
import torch
from mmengine.fileio.backends import LocalBackend
from mmengine.model import BaseModel
from mmengine.registry import DefaultScope
from torch import nn
from torch.utils.data import Dataset

from mmdl.engine import MMDLRunner
from mmdl.engine.runner.checkpoint import load_checkpoint_file
from mmdl.registry import DATASETS


class ToyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.linear(torch.stack(inputs))
        if mode == 'loss':
            return dict(
                loss=(out.squeeze(1) -
                      torch.stack(data_samples)).pow(2).mean())
        return out


class ToyDataset(Dataset):
    metainfo = dict(classes=('a', ))

    def __len__(self):
        return 8

    def __getitem__(self, index):
        x = torch.tensor([float(index), 1.0])
        return dict(inputs=x, data_samples=x.sum())


@pytest.fixture
def runner(tmp_path):
    runner = MMDLRunner(
        model=ToyModel(),
        work_dir=str(tmp_path),
        experiment_name=f'toy_{uuid.uuid4().hex}',
        train_dataloader=dict(
            dataset=ToyDataset(),
            sampler=dict(type='DefaultSampler', shuffle=False),
            batch_size=4,
            num_workers=0),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=True, max_epochs=1),
        default_hooks=dict(logger=dict(type='LoggerHook', interval=1)),
        default_scope='mmdl')
    yield runner
    DefaultScope._instance_dict.clear()


def test_checkpoint_written_atomically(runner, tmp_path, monkeypatch):
    runner.train()
    path = tmp_path / 'epoch_1.pth'
    good = path.read_bytes()
    assert load_checkpoint_file(str(path))['meta']['epoch'] == 1

    def killed_while_writing(self, obj, filepath):
        with open(filepath, 'wb') as f:
            f.write(obj[:len(obj) // 3])
        raise KeyboardInterrupt('killed while saving')

    monkeypatch.setattr(LocalBackend, 'put', killed_while_writing)
    with pytest.raises(KeyboardInterrupt):
        runner.save_checkpoint(str(tmp_path), 'epoch_1.pth')
    # the previous checkpoint is untouched and no partial file is left
    assert path.read_bytes() == good
    assert sorted(
        p for p in os.listdir(tmp_path)
        if p.endswith('.pth') or '.tmp' in p) == ['epoch_1.pth']


def test_saved_checkpoint_holds_no_unsafe_globals(runner, tmp_path):
    runner.train()
    path = str(tmp_path / 'epoch_1.pth')
    assert torch.serialization.get_unsafe_globals_in_checkpoint(path) == []
    # so plain torch.load with weights_only works, and mmdl restores
    # the message hub's HistoryBuffers
    torch.load(path, weights_only=True)
    hub = load_checkpoint_file(path)['message_hub']
    assert type(hub['log_scalars']['train/loss']).__name__ == 'HistoryBuffer'


def test_read_only_accessors(tmp_path):
    val = dict(
        dataset=dict(type='ToyDataset'),
        sampler=dict(type='DefaultSampler', shuffle=False),
        batch_size=4)
    runner = MMDLRunner(
        model=ToyModel(),
        work_dir=str(tmp_path),
        experiment_name=f'toy_{uuid.uuid4().hex}',
        val_dataloader=val,
        val_evaluator=dict(type='mmpretrain.Accuracy'),
        val_cfg=dict(),
        randomness=dict(seed=3, diff_rank_seed=True),
        default_scope='mmdl')
    try:
        randomness = runner.randomness_cfg
        assert randomness['seed'] == 3 and randomness['diff_rank_seed']
        randomness['seed'] = 4  # a copy
        assert runner.randomness_cfg['seed'] == 3
        assert runner.val_dataloader_cfg == val
        runner.val_dataloader_cfg['batch_size'] = 1  # a copy
        assert runner.val_dataloader_cfg['batch_size'] == 4
        assert not runner.val_loop_built
        changed = dict(val, batch_size=2)
        runner.set_val_dataloader_cfg(changed)
        assert runner.val_dataloader_cfg == changed
        # the validation loop is built from the new config
        DATASETS.register_module(
            name='ToyDataset', module=ToyDataset, force=True)
        assert runner.val_loop.dataloader.batch_size == 2
        assert runner.val_loop_built
        with pytest.raises(RuntimeError, match='already built'):
            runner.set_val_dataloader_cfg(val)
    finally:
        DefaultScope._instance_dict.clear()
