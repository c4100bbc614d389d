# Copyright (c) mmdl contributors. All rights reserved.
"""Piggyback-learning (PL) accuracy: how well a feature extractor can be
retrained on a task it should no longer serve (Koh et al., ICCV 2023).

Reconstruction: the paper defines PL accuracy only as the accuracy reached
by retraining the scrubbed model on a subset of the source data or on new
downstream data. The protocol here (class-balanced subset, linear probe or
full fine-tuning, SGD with a cosine schedule, final-epoch accuracy, the
pre-trained and random references and the normalised leakage) is a design
choice made here; every part is a parameter.
"""
import functools
import random
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.dataset import pseudo_collate, worker_init_fn
from mmengine.registry import OPTIMIZERS
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset, Subset, TensorDataset

#: Retraining modes: a linear probe on frozen features, or full
#: fine-tuning of the extractor with a new head.
PL_MODES = ('linear', 'finetune')

#: A batch of the dataloader to ``(inputs, labels)`` on the device; it
#: must also accept the ``(inputs, labels)`` batches of a cached task.
Preprocess = Callable[[Any], Tuple[Tensor, Tensor]]


def class_balanced_indices(labels: Sequence[int], fraction: float,
                           seed: int) -> List[int]:
    """A class-balanced random subset: ``max(1, round(fraction * n_c))``
    samples of each class ``c`` (``n_c`` of them), drawn without
    replacement with ``seed``, in increasing index order.

    Args:
        labels (Sequence[int]): Label of every sample.
        fraction (float): In (0, 1].
        seed (int): Seed of the draw.

    Returns:
        list[int]: The chosen indices.
    """
    if not 0 < fraction <= 1:
        raise ValueError(f'fraction must be in (0, 1], got {fraction}')
    labels = np.asarray(labels, dtype=np.int64)
    rng = np.random.default_rng(seed)
    chosen = []
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        count = max(1, int(round(fraction * len(members))))
        chosen.append(rng.choice(members, size=count, replace=False))
    return sorted(int(i) for i in np.concatenate(chosen))


def dataset_labels(dataset: Dataset) -> List[int]:
    """``gt_label`` of every sample (mmpretrain's ``get_gt_labels`` when
    the dataset has it, else each sample's data info)."""
    if hasattr(dataset, 'get_gt_labels'):
        return [int(v) for v in dataset.get_gt_labels()]
    return [int(dataset.get_data_info(i)['gt_label'])
            for i in range(len(dataset))]


def normalised_leakage(pl: float, pl_pretrained: float,
                       pl_random: float) -> float:
    """``(PL - PL_random) / (PL_pretrained - PL_random)``: 1 leaks as much
    as the pre-trained weights, 0 no more than a random initialisation;
    NaN when the two references are equal."""
    span = pl_pretrained - pl_random
    return float('nan') if span == 0 else (pl - pl_random) / span


@dataclass
class PiggybackTask:
    """One retraining task.

    Attributes:
        name (str): Its name (``'source'``, ``'downstream'``).
        train (Dataset): Training set (already the subset).
        test (Dataset): Test set.
        num_classes (int): Classes of the new head.
        batch_size (int): Training batch size.
        test_batch_size (int): Test batch size.
        num_workers (int): Dataloader workers.
        collate_fn (callable): Collate function.
        cache (bool): Run the pipeline and the preprocessor once per sample
            (:meth:`prepare`) and retrain from the cached tensors: much
            faster for small models, and only right for pipelines without
            random augmentation.
    """
    name: str
    train: Dataset
    test: Dataset
    num_classes: int
    batch_size: int = 64
    test_batch_size: int = 256
    num_workers: int = 0
    collate_fn: Callable = field(default=pseudo_collate)
    cache: bool = False
    _cached: Dict[str, TensorDataset] = field(default_factory=dict)

    def prepare(self, preprocess: Preprocess) -> None:
        """With ``cache``, preprocess both sets once (in order)."""
        if not self.cache or self._cached:
            return
        for part in ('train', 'test'):
            loader = DataLoader(
                getattr(self, part),
                batch_size=self.test_batch_size,
                num_workers=self.num_workers,
                collate_fn=self.collate_fn)
            inputs, labels = zip(*(preprocess(b) for b in loader))
            self._cached[part] = TensorDataset(
                torch.cat(inputs), torch.cat(labels))

    def _dataset(self, part: str) -> Tuple[Dataset, Optional[Callable]]:
        if part in self._cached:
            return self._cached[part], None  # torch's default collate
        return getattr(self, part), self.collate_fn

    def train_loader(self, seed: int) -> DataLoader:
        """Shuffled with ``seed`` (the same order for the same seed)."""
        generator = torch.Generator().manual_seed(seed)
        dataset, collate_fn = self._dataset('train')
        init = None
        if self.num_workers and collate_fn is not None:
            init = functools.partial(
                worker_init_fn,
                num_workers=self.num_workers,
                rank=0,
                seed=seed)
        return DataLoader(
            dataset,
            batch_size=self.batch_size,
            shuffle=True,
            generator=generator,
            num_workers=self.num_workers if collate_fn else 0,
            worker_init_fn=init,
            collate_fn=collate_fn)

    def test_loader(self) -> DataLoader:
        """The test set in order."""
        dataset, collate_fn = self._dataset('test')
        return DataLoader(
            dataset,
            batch_size=self.test_batch_size,
            shuffle=False,
            num_workers=self.num_workers if collate_fn else 0,
            collate_fn=collate_fn)


def subset(dataset: Dataset, fraction: float, seed: int) -> Dataset:
    """``dataset`` itself for ``fraction`` 1, else a class-balanced
    :class:`~torch.utils.data.Subset` (see
    :func:`class_balanced_indices`)."""
    if fraction == 1:
        return dataset
    return Subset(dataset,
                  class_balanced_indices(dataset_labels(dataset), fraction,
                                         seed))


@torch.no_grad()
def accuracy(model: Callable[[Tensor], Tensor], loader: DataLoader,
             preprocess: Preprocess) -> float:
    """Top-1 accuracy in percent of ``model`` (inputs to logits)."""
    correct = total = 0
    for batch in loader:
        inputs, labels = preprocess(batch)
        correct += int((model(inputs).argmax(-1) == labels).sum())
        total += len(labels)
    if total == 0:
        raise ValueError('accuracy: the test set is empty')
    return 100.0 * correct / total


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def piggyback_accuracy(extractor: nn.Module,
                       task: PiggybackTask,
                       preprocess: Preprocess,
                       mode: str,
                       epochs: int,
                       optimizer: dict,
                       seed: int,
                       on_epoch: Optional[Callable[[], None]] = None) -> float:
    """Retrain ``extractor`` with a new linear head on ``task`` and return
    the final-epoch test accuracy (percent).

    ``'linear'``: the extractor is frozen (eval mode), only the head trains.
    ``'finetune'``: extractor and head train. The optimiser is built from
    ``optimizer`` (an mmengine ``OPTIMIZERS`` config, e.g. SGD) and its
    learning rate follows a cosine schedule to 0 over all iterations. The
    head's initialisation, the data order and the augmentations' random
    numbers follow ``seed``; the same seed gives the same number.

    Args:
        extractor (nn.Module): Inputs to ``(N, C)`` features; modified.
        task (PiggybackTask): The task.
        preprocess (callable): A batch to ``(inputs, labels)``.
        mode (str): ``'linear'`` or ``'finetune'``.
        epochs (int): Training epochs (>= 1).
        optimizer (dict): Optimiser config without ``params``.
        seed (int): Seed.
        on_epoch (callable, optional): Called after every epoch (progress).

    Returns:
        float: Test accuracy in percent.
    """
    if mode not in PL_MODES:
        raise ValueError(f'mode must be one of {PL_MODES}, got {mode!r}')
    if epochs < 1:
        raise ValueError(f'epochs must be >= 1, got {epochs}')
    _seed_everything(seed)
    loader = task.train_loader(seed)
    if len(loader) == 0:
        raise ValueError(f'piggyback task {task.name!r}: empty training set')
    device = next(extractor.parameters()).device
    probe_inputs, _ = preprocess(next(iter(task.test_loader())))
    extractor.eval()
    with torch.no_grad():
        dim = extractor(probe_inputs[:2]).shape[-1]
    head = nn.Linear(dim, task.num_classes).to(device)
    linear = mode == 'linear'
    extractor.requires_grad_(not linear)
    params = list(head.parameters()) + (
        [] if linear else list(extractor.parameters()))
    optim = OPTIMIZERS.build(dict(optimizer, params=params))
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(
        optim, T_max=epochs * len(loader))
    for _ in range(epochs):
        extractor.train(not linear)
        for batch in loader:
            inputs, labels = preprocess(batch)
            with torch.set_grad_enabled(not linear):
                feats = extractor(inputs)
            loss = F.cross_entropy(head(feats), labels)
            optim.zero_grad(set_to_none=True)
            loss.backward()
            optim.step()
            schedule.step()
        if on_epoch is not None:
            on_epoch()
    extractor.eval()
    return accuracy(lambda x: head(extractor(x)), task.test_loader(),
                    preprocess)


def mean_std(values: Sequence[float]) -> Tuple[float, float]:
    """Mean and sample standard deviation (0 for one value)."""
    values = np.asarray(values, dtype=np.float64)
    std = float(values.std(ddof=1)) if len(values) > 1 else 0.0
    return float(values.mean()), std


def summarise(results: Dict[Tuple[str, str, str, int], float],
              ) -> Dict[str, float]:
    """Metric dict of per-job PL accuracies.

    Args:
        results (dict): ``(task, mode, subject, seed)`` to accuracy;
            subjects ``'model'``, ``'pretrained'``, ``'random'``.

    Returns:
        dict: ``pl/{task}/{mode}/{subject}`` (mean over seeds) with
        ``..._std``, and ``leakage/{task}/{mode}`` where both references
        were run.
    """
    groups: Dict[Tuple[str, str, str], List[float]] = {}
    for (task, mode, subject, _), value in sorted(results.items()):
        groups.setdefault((task, mode, subject), []).append(value)
    metrics: Dict[str, float] = {}
    for (task, mode, subject), values in groups.items():
        mean, std = mean_std(values)
        metrics[f'pl/{task}/{mode}/{subject}'] = mean
        metrics[f'pl/{task}/{mode}/{subject}_std'] = std
    for (task, mode, subject) in groups:
        key = f'pl/{task}/{mode}/'
        if subject == 'model' and key + 'pretrained' in metrics \
                and key + 'random' in metrics:
            metrics[f'leakage/{task}/{mode}'] = normalised_leakage(
                metrics[key + 'model'], metrics[key + 'pretrained'],
                metrics[key + 'random'])
    return metrics
