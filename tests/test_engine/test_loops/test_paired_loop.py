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
    # every pass over the paired loader covers its 4 samples once
    for start in range(0, 12, 4):
        assert sorted(source[start:start + 4]) == [100, 101, 102, 103]
    # passes are reshuffled (sampler epochs 0, 1, 2)
    orders = {tuple(source[s:s + 4]) for s in range(0, 12, 4)}
    assert len(orders) > 1


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
