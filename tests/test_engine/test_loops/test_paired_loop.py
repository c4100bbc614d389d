# Copyright (c) mmdl contributors. All rights reserved.
"""PairedEpochBasedTrainLoop through mmengine's runner: every batch gets
the next batch of each paired dataloader, which cycle with a new sampler
epoch per pass."""
import pytest
import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

from mmdl.engine.loops import CyclingIterator, PairedEpochBasedTrainLoop


class Indices(Dataset):

    def __init__(self, n, offset=0):
        self.n, self.offset = n, offset

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return dict(inputs=torch.tensor(float(i)),
                    data_samples=i + self.offset)


class Recorder(BaseModel):
    """Records the sample indices of every batch it is given."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(1))
        self.seen = []

    def forward(self, *args, **kwargs):
        return {}

    def train_step(self, data, optim_wrapper):
        self.seen.append({
            key: list(value['data_samples'])
            if isinstance(value, dict) else list(value)
            for key, value in data.items() if key != 'inputs'
        })
        return {}


def _runner(tmp_path, paired, epochs=2):
    loader = dict(
        batch_size=2,
        dataset=Indices(6),
        sampler=dict(type='DefaultSampler', shuffle=False))
    return Runner(
        model=Recorder(),
        work_dir=str(tmp_path),
        train_dataloader=loader,
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.0)),
        train_cfg=dict(
            type='PairedEpochBasedTrainLoop',
            max_epochs=epochs,
            paired_dataloaders=paired),
        default_scope='mmdl',
        default_hooks=dict(checkpoint=None, logger=None),
        randomness=dict(seed=0))


def test_every_batch_is_paired_and_paired_loaders_cycle(tmp_path):
    paired = dict(
        source=dict(
            batch_size=2,
            dataset=Indices(4, offset=100),
            sampler=dict(type='DefaultSampler', shuffle=True)))
    runner = _runner(tmp_path, paired)
    assert isinstance(runner.train_loop, PairedEpochBasedTrainLoop)
    runner.train()
    seen = runner.model.seen
    # 2 epochs of 3 main batches, each with a source batch of 2
    assert [s['data_samples'] for s in seen] == [[0, 1], [2, 3], [4, 5]] * 2
    source = [i for s in seen for i in s['source']]
    assert len(source) == 12
    # epoch e restarts the paired loader at sampler epoch 2 e (2 passes of
    # 2 batches cover its 3 steps), so it pairs the same batches as a run
    # resumed at that epoch: epoch 0 is pass 0 and half of pass 1, epoch 1
    # pass 2 and half of pass 3
    sampler = runner.train_loop.paired_dataloaders['source'].sampler
    for start, epoch in ((0, 0), (4, 1), (6, 2), (10, 3)):
        sampler.set_epoch(epoch)
        order = [100 + i for i in sampler]
        length = 4 if start in (0, 6) else 2
        assert source[start:start + length] == order[:length]
    assert sorted(source[0:4]) == sorted(source[6:10]) == [100, 101, 102, 103]
    orders = set()
    for epoch in range(4):
        sampler.set_epoch(epoch)
        orders.add(tuple(sampler))
    assert len(orders) > 1  # reshuffled from pass to pass


def test_bad_paired_dataloaders(tmp_path):
    loader = dict(batch_size=2, dataset=Indices(2))
    with pytest.raises(ValueError, match='may not be named'):
        _runner(tmp_path, dict(inputs=loader)).train_loop
    with pytest.raises(ValueError, match='non-empty dict'):
        _runner(tmp_path, {}).train_loop


def test_cycling_iterator_sets_the_sampler_epoch():

    class Sampler(torch.utils.data.Sampler):

        def __init__(self):
            self.epochs = []

        def set_epoch(self, epoch):
            self.epochs.append(epoch)

        def __iter__(self):
            return iter(range(3))

        def __len__(self):
            return 3

    sampler = Sampler()
    loader = torch.utils.data.DataLoader(
        list(range(3)), batch_size=2, sampler=sampler)
    it = CyclingIterator(loader, epoch=5)
    batches = [next(it).tolist() for _ in range(5)]
    assert batches == [[0, 1], [2], [0, 1], [2], [0, 1]]
    assert sampler.epochs == [5, 6, 7]
    with pytest.raises(ValueError, match='yields no batch'):
        next(CyclingIterator(torch.utils.data.DataLoader([])))
