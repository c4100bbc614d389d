# Copyright (c) mmdl contributors. All rights reserved.
"""The piggyback-learning protocol: subsets, retraining, summary."""
import math

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import Dataset

from mmdl.evaluation.piggyback import (PiggybackTask, class_balanced_indices,
                                       normalised_leakage,
                                       piggyback_accuracy, subset, summarise)


def test_class_balanced_indices():
    labels = [0] * 50 + [1] * 30 + [2] * 20
    chosen = class_balanced_indices(labels, 0.1, seed=3)
    counts = np.bincount(np.asarray(labels)[chosen])
    assert counts.tolist() == [5, 3, 2]
    assert chosen == sorted(set(chosen))
    assert chosen == class_balanced_indices(labels, 0.1, seed=3)
    assert chosen != class_balanced_indices(labels, 0.1, seed=4)
    # at least one sample per class
    assert np.bincount(np.asarray(labels)[class_balanced_indices(
        labels, 0.001, 0)]).tolist() == [1, 1, 1]
    with pytest.raises(ValueError, match='fraction'):
        class_balanced_indices(labels, 1.5, 0)


def test_normalised_leakage_and_summary():
    assert normalised_leakage(70.0, 90.0, 50.0) == pytest.approx(0.5)
    assert math.isnan(normalised_leakage(1.0, 2.0, 2.0))
    results = {('source', 'finetune', 'model', s): v
               for s, v in enumerate([60.0, 62.0, 64.0])}
    results.update({('source', 'finetune', 'pretrained', s): 90.0
                    for s in range(3)})
    results.update({('source', 'finetune', 'random', s): 40.0
                    for s in range(3)})
    metrics = summarise(results)
    assert metrics['pl/source/finetune/model'] == pytest.approx(62.0)
    assert metrics['pl/source/finetune/model_std'] == pytest.approx(2.0)
    assert metrics['leakage/source/finetune'] == pytest.approx(22 / 50)
    assert 'leakage/source/linear' not in metrics


class Blobs(Dataset):
    """Gaussian blobs, one per class, as (inputs, labels) batches of a
    cached task."""

    def __init__(self, n, seed):
        gen = torch.Generator().manual_seed(seed)
        self.y = torch.arange(n) % 3
        centres = torch.tensor([[2.0, 0.0], [-2.0, 1.0], [0.0, -2.0]])
        self.x = centres[self.y] + 0.5 * torch.randn(n, 2, generator=gen)

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return self.x[i], self.y[i]

    def get_gt_labels(self):
        return self.y.numpy()


def _task():
    return PiggybackTask(
        name='blobs',
        train=subset(Blobs(90, 0), 0.5, seed=0),
        test=Blobs(60, 1),
        num_classes=3,
        batch_size=8,
        collate_fn=None)


def _extractor(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(2, 8), nn.BatchNorm1d(8), nn.ReLU())


def _identity(batch):
    return batch[0], batch[1]


@pytest.mark.parametrize('mode', ['linear', 'finetune'])
def test_same_seed_same_number(mode):
    task = _task()
    assert len(task.train) == 45
    sgd = dict(type='SGD', lr=0.1, momentum=0.9)
    runs = [
        piggyback_accuracy(_extractor(), task, _identity, mode, 3, sgd, seed)
        for seed in (7, 7, 8)
    ]
    assert runs[0] == runs[1]
    assert 50 < runs[0] <= 100  # learnable blobs


def test_linear_probe_leaves_the_extractor_unchanged():
    extractor = _extractor()
    before = {k: v.clone() for k, v in extractor.state_dict().items()}
    calls = []
    piggyback_accuracy(extractor, _task(), _identity, 'linear', 2,
                       dict(type='SGD', lr=0.1), 0,
                       on_epoch=lambda: calls.append(1))
    assert calls == [1, 1]
    for k, v in extractor.state_dict().items():
        assert torch.equal(v, before[k]), k
    finetuned = _extractor()
    piggyback_accuracy(finetuned, _task(), _identity, 'finetune', 2,
                       dict(type='SGD', lr=0.1), 0)
    assert not torch.equal(finetuned[0].weight, before['0.weight'])
    with pytest.raises(ValueError, match='mode'):
        piggyback_accuracy(finetuned, _task(), _identity, 'mask', 1,
                           dict(type='SGD', lr=0.1), 0)
