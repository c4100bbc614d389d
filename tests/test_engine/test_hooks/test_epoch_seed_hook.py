# Copyright (c) mmdl contributors. All rights reserved.
import random
from types import SimpleNamespace

import numpy as np
import torch
from mmengine.config import Config

from mmdl.engine.hooks import EpochSeedHook, epoch_seed
from mmdl.engine.hooks import epoch_seed_hook


def _draws():
    return (random.random(), float(np.random.rand()), float(torch.rand(1)))


def _runner(seed, epoch, diff_rank_seed=False):
    """What the hook reads from an MMDLRunner."""
    return SimpleNamespace(
        seed=seed,
        epoch=epoch,
        randomness_cfg=dict(seed=seed, diff_rank_seed=diff_rank_seed))


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


def test_seed_is_derived_from_seed_and_epoch():
    EpochSeedHook().before_train_epoch(_runner(7, 2))
    assert _draws() == _seeded_draws(epoch_seed(7, 2))


def _seeded_draws(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return _draws()


def test_rank_streams_follow_randomness(monkeypatch):
    monkeypatch.setattr(epoch_seed_hook, 'get_rank', lambda: 1)
    hook = EpochSeedHook()
    hook.before_train_epoch(_runner(5, 1, diff_rank_seed=True))
    assert _draws() == _seeded_draws(epoch_seed(5, 1, rank=1))
    hook.before_train_epoch(_runner(5, 1, diff_rank_seed=False))
    assert _draws() == _seeded_draws(epoch_seed(5, 1))
    # mmengine's plain Runner has no randomness_cfg: its config is read
    for cfg, rank in ((Config(dict(randomness=dict(diff_rank_seed=True))), 1),
                      (Config(dict()), None)):
        hook.before_train_epoch(SimpleNamespace(seed=5, epoch=1, cfg=cfg))
        assert _draws() == _seeded_draws(epoch_seed(5, 1, rank=rank))
    # an explicit argument wins
    EpochSeedHook(diff_rank_seed=False).before_train_epoch(
        _runner(5, 1, diff_rank_seed=True))
    assert _draws() == _seeded_draws(epoch_seed(5, 1))


def test_epoch_seed_rank_streams():
    assert epoch_seed(0, 1) == epoch_seed(0, 1)
    assert epoch_seed(0, 1, rank=0) != epoch_seed(0, 1, rank=1)
    assert 0 <= epoch_seed(2**40, 5) < 2**32
