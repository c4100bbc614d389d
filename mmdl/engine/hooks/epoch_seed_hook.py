# Copyright (c) mmdl contributors. All rights reserved.
"""Reseed every random-number generator at the start of each epoch."""
import random
from typing import Optional

import numpy as np
import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook

from mmdl.registry import HOOKS


def epoch_seed(seed: int, epoch: int, rank: Optional[int] = None) -> int:
    """A 32-bit seed derived from ``(seed, epoch[, rank])``.

    Args:
        seed (int): The run's seed.
        epoch (int): The epoch about to start (0-based).
        rank (int, optional): The process rank, for different streams per
            rank. Defaults to None (same stream on all ranks).

    Returns:
        int: The derived seed.
    """
    entropy = [seed, epoch] + ([] if rank is None else [rank])
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


def _randomness_settings(runner) -> dict:
    """The runner's ``randomness`` settings: ``MMDLRunner.randomness_cfg``,
    or the config's ``randomness`` for mmengine's ``Runner``."""
    cfg = getattr(runner, 'randomness_cfg', None)
    if cfg is None:
        cfg = runner.cfg.get('randomness', None)
    return cfg or {}


@HOOKS.register_module()
class EpochSeedHook(Hook):
    """Reseed Python's, numpy's and torch's global generators before each
    training epoch from ``(runner.seed, epoch)``.

    mmengine seeds the generators once, when the runner starts, and does not
    store their states in checkpoints, so after ``--resume`` the random data
    augmentation, dropout and dataloader-worker seeds differ from an
    uninterrupted run. With this hook, epoch ``e`` draws the same random
    numbers whether or not training was resumed before it; together with
    ``DefaultSampler`` (which already shuffles from ``seed + epoch``),
    resuming an epoch-based run reproduces the uninterrupted run. It is part
    of mmdl's ``default_runtime.py``. Resuming in the middle of an epoch
    (iteration-based loops) is not covered.

    Args:
        diff_rank_seed (bool, optional): Whether ranks get different
            streams. Defaults to None, which follows
            ``randomness.diff_rank_seed``: ``runner.randomness_cfg`` of
            :class:`~mmdl.engine.MMDLRunner`, else ``runner.cfg``.
    """

    priority = 'VERY_HIGH'

    def __init__(self, diff_rank_seed: Optional[bool] = None) -> None:
        self.diff_rank_seed = diff_rank_seed

    def before_train_epoch(self, runner) -> None:
        """Reseed the generators for the epoch about to start."""
        diff_rank = self.diff_rank_seed
        if diff_rank is None:
            diff_rank = _randomness_settings(runner).get(
                'diff_rank_seed', False)
        seed = epoch_seed(runner.seed, runner.epoch,
                          get_rank() if diff_rank else None)
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)
