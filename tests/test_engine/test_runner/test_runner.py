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
