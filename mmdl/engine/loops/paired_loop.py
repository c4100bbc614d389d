# Copyright (c) mmdl contributors. All rights reserved.
"""An epoch-based training loop that pairs every batch with batches of
other dataloaders."""
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

from mmengine.runner import EpochBasedTrainLoop
from torch.utils.data import DataLoader

from mmdl.registry import LOOPS
from mmdl.utils.config_checks import ConfigError

#: Keys of a data batch that paired batches may not replace.
RESERVED_KEYS = ('inputs', 'data_samples')


class CyclingIterator:
    """Endless iteration over a dataloader: at the end of a pass the
    sampler's epoch advances (``set_epoch``, so a shuffling sampler draws a
    new order) and a new pass starts.

    Args:
        dataloader (DataLoader): The dataloader.
        epoch (int): The sampler epoch of the first pass. Defaults to 0.
    """

    def __init__(self, dataloader: DataLoader, epoch: int = 0) -> None:
        self.dataloader = dataloader
        self.epoch = epoch
        self._iterator: Optional[Iterator] = None

    def _set_epoch(self) -> None:
        sampler = getattr(self.dataloader, 'sampler', None)
        if not hasattr(sampler, 'set_epoch'):
            batch_sampler = getattr(self.dataloader, 'batch_sampler', None)
            sampler = getattr(batch_sampler, 'sampler', None)
        if hasattr(sampler, 'set_epoch'):
            sampler.set_epoch(self.epoch)

    def __iter__(self) -> 'CyclingIterator':
        return self

    def __next__(self):
        if self._iterator is None:
            self._set_epoch()
            self._iterator = iter(self.dataloader)
        try:
            return next(self._iterator)
        except StopIteration:
            self.epoch += 1
            self._set_epoch()
            self._iterator = iter(self.dataloader)
            try:
                return next(self._iterator)
            except StopIteration:
                raise ConfigError('PairedEpochBasedTrainLoop: a paired '
                                 'dataloader yields no batch') from None


@LOOPS.register_module()
class PairedEpochBasedTrainLoop(EpochBasedTrainLoop):
    """mmengine's epoch-based loop, with every training batch paired with
    the next batch of each of ``paired_dataloaders``.

    The data batch given to ``model.train_step`` (and to the iteration
    hooks) is the main dataloader's batch, a dict with ``inputs`` and
    ``data_samples``, plus one entry per paired dataloader under its name,
    itself a batch dict, e.g. ``dict(inputs=..., data_samples=...,
    source=dict(inputs=..., data_samples=...))``. The main dataloader
    (``train_dataloader``) sets the epoch length; the paired ones cycle,
    each with its own sampler, shuffled anew on every pass (sampler epochs
    that depend only on the training epoch, so resuming at an epoch
    boundary reproduces the pairing), and sharded across ranks by their
    sampler like the main one. This is the paired
    loader of disposable transfer learning (target batches paired with
    source batches, :class:`~mmdl.models.DTLClassifier`) and of DARTS-style
    search (weight batches paired with architecture batches).

    Example::

        train_cfg = dict(
            type='PairedEpochBasedTrainLoop',
            max_epochs=10,
            paired_dataloaders=dict(
                source=dict(
                    batch_size=64,
                    dataset=dict(type='CIFAR100', ...),
                    sampler=dict(type='DefaultSampler', shuffle=True))))

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): The main dataloader.
        max_epochs (int): Epochs.
        paired_dataloaders (dict): Name to a dataloader or its config
            (built with the runner's seed, like ``train_dataloader``).
        val_begin (int): First validation epoch. Defaults to 1.
        val_interval (int): Validation interval. Defaults to 1.
        dynamic_intervals (list[tuple[int, int]], optional): As in mmengine.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 max_epochs: int,
                 paired_dataloaders: Dict[str, Union[DataLoader, Dict]],
                 val_begin: int = 1,
                 val_interval: int = 1,
                 dynamic_intervals: Optional[List[Tuple[int, int]]] = None
                 ) -> None:
        super().__init__(runner, dataloader, max_epochs, val_begin,
                         val_interval, dynamic_intervals)
        if not isinstance(paired_dataloaders, dict) or not paired_dataloaders:
            raise ConfigError('PairedEpochBasedTrainLoop: paired_dataloaders '
                             'must be a non-empty dict of name to '
                             'dataloader (config)')
        clash = sorted(set(paired_dataloaders) & set(RESERVED_KEYS))
        if clash:
            raise ConfigError(f'PairedEpochBasedTrainLoop: paired_dataloaders '
                             f'may not be named {clash}: the main batch uses '
                             f'{list(RESERVED_KEYS)}')
        randomness = getattr(runner, 'randomness_cfg', None) or {}
        self.paired_dataloaders: Dict[str, DataLoader] = {}
        for name, loader in paired_dataloaders.items():
            if isinstance(loader, dict):
                loader = runner.build_dataloader(
                    loader,
                    seed=runner.seed,
                    diff_rank_seed=randomness.get('diff_rank_seed', False))
            self.paired_dataloaders[name] = loader
        self._paired: Optional[Dict[str, CyclingIterator]] = None

    def paired_batches(self) -> Dict[str, Sequence[dict]]:
        """The next batch of every paired dataloader."""
        return {name: next(it) for name, it in self._paired.items()}

    def _start_paired(self) -> None:
        """New paired iterators for epoch ``self._epoch``: a paired
        dataloader of ``n`` batches starts at sampler epoch
        ``epoch * ceil(len(main) / n)``, so every training epoch draws its
        own orders and a run resumed at an epoch boundary pairs the same
        batches as an uninterrupted one."""
        steps = len(self.dataloader)
        self._paired = {}
        for name, loader in self.paired_dataloaders.items():
            passes = -(-steps // max(len(loader), 1))
            self._paired[name] = CyclingIterator(loader,
                                                 self._epoch * passes)

    def run_epoch(self) -> None:
        """Iterate one epoch of the main dataloader, pairing each batch."""
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        self._start_paired()
        for idx, data_batch in enumerate(self.dataloader):
            if not isinstance(data_batch, dict):
                raise TypeError('PairedEpochBasedTrainLoop: the main '
                                'dataloader must yield dict batches, got '
                                f'{type(data_batch).__name__}')
            self.run_iter(idx, dict(data_batch, **self.paired_batches()))
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1
