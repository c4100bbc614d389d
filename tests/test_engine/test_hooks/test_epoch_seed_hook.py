# Copyright (c) mmdl contributors. All rights reserved.
import random
from types import SimpleNamespace

import numpy as np
import torch

from mmdl.engine.hooks import EpochSeedHook, epoch_seed


def _draws():
    return (random.random(), float(np.random.rand()), float(torch.rand(1)))


def _runner(seed, epoch, diff_rank_seed=False):
    return SimpleNamespace(
        seed=seed,
        epoch=epoch,
        _randomness_cfg=dict(diff_rank_seed=diff_rank_seed))


def test_same_epoch_same_draws_whatever_came_before():
    hook = EpochSeedHook()
    hook.before_train_epoch(_runner(0, 3))
    first = _draws()
    _draws()  # consume some randomness (e.g. a validation run)
    torch.randn(100)
    hook.before_train_epoch(_runner(0, 3))
    assert _draws() == first


def test_epochs_and_seeds_give_different_streams():
    hook = EpochSeedHook()
    seen = set()
    for seed, epoch in [(0, 0), (0, 1), (1, 0), (1, 1)]:
        hook.before_train_epoch(_runner(seed, epoch))
        seen.add(_draws())
    assert len(seen) == 4


def test_epoch_seed_rank_streams():
    assert epoch_seed(0, 1) == epoch_seed(0, 1)
    assert epoch_seed(0, 1, rank=0) != epoch_seed(0, 1, rank=1)
    assert 0 <= epoch_seed(2**40, 5) < 2**32
