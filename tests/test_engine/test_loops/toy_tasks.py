# Copyright (c) mmdl contributors. All rights reserved.
"""An in-process task sequence for the loop's API tests: a linear
classifier on 4 features, a task dataset whose labels are a function of the
features (or a constant), a top-1 metric and a hook that runs callbacks at
the loop's events."""
import copy
import uuid
from types import SimpleNamespace
from typing import Callable, Dict, List, Optional

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.evaluator import BaseMetric
from mmengine.hooks import Hook
from mmengine.logging import MessageHub
from mmengine.model import BaseModel
from torch import nn
from torch.utils.data import Dataset

from mmdl.engine import MMDLRunner
from mmdl.registry import DATASETS, METRICS

NUM_FEATURES = 4
NUM_CLASSES = 3
VAL_SAMPLES = 12


def task_features(task_id: int, num_samples: int) -> np.ndarray:
    """The inputs of a task: ``num_samples x 4`` normal samples drawn from
    ``default_rng(100 + task_id)``."""
    rng = np.random.default_rng(100 + task_id)
    return rng.normal(size=(num_samples, NUM_FEATURES)).astype(np.float32)


@DATASETS.register_module(force=True)
class ToyTaskDataset(Dataset):
    """Task ``task_id``: inputs of :func:`task_features`; label
    ``argmax(x[:3])`` after rolling the features by ``task_id``, or
    ``label`` for every sample."""

    def __init__(self,
                 task_id: int = 0,
                 num_samples: int = 24,
                 label: Optional[int] = None) -> None:
        self.task_id = task_id
        self.inputs = task_features(task_id, num_samples)
        if label is None:
            rolled = np.roll(self.inputs, task_id, axis=1)
            self.labels = rolled[:, :NUM_CLASSES].argmax(1)
        else:
            self.labels = np.full(num_samples, label)
        self.metainfo = dict(task_id=task_id)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> dict:
        return dict(
            inputs=torch.from_numpy(self.inputs[index]),
            data_samples=torch.tensor(int(self.labels[index])))


class ToyClassifier(BaseModel):
    """A linear layer; ``predict`` returns ``(pred, gt)`` pairs."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(NUM_FEATURES, NUM_CLASSES)
        self.current_task = -1

    def forward(self, inputs, data_samples=None, mode='tensor'):
        logits = self.fc(torch.stack(inputs))
        if mode == 'loss':
            return dict(
                loss=F.cross_entropy(logits, torch.stack(data_samples)))
        if mode == 'predict':
            return [(int(p), int(g))
                    for p, g in zip(logits.argmax(1), data_samples)]
        return logits


@METRICS.register_module(force=True)
class ToyTop1(BaseMetric):
    """Percentage of ``(pred, gt)`` pairs with ``pred == gt``, as
    ``accuracy/top1``."""

    default_prefix = 'accuracy'

    def process(self, data_batch, data_samples) -> None:
        self.results.extend(p == g for p, g in data_samples)

    def compute_metrics(self, results: List[bool]) -> Dict[str, float]:
        return dict(top1=100.0 * float(np.mean(results)))


def top1(model: nn.Module, dataset: ToyTaskDataset) -> float:
    """Reference accuracy (%) of ``model.fc`` on ``dataset``."""
    with torch.no_grad():
        logits = model.fc(torch.from_numpy(dataset.inputs))
    return 100.0 * float((logits.argmax(1).numpy() == dataset.labels).mean())


class CallbackHook(Hook):
    """Calls ``callbacks[event](runner, **kwargs)`` at the loop's events
    (``before_train``, ``before_task``, ``before_train_epoch``,
    ``before_train_iter``, ``after_task``)."""

    priority = 'LOW'

    def __init__(self, **callbacks: Callable) -> None:
        self.callbacks = callbacks

    def _call(self, event, runner, **kwargs):
        if event in self.callbacks:
            self.callbacks[event](runner, **kwargs)

    def before_train(self, runner):
        self._call('before_train', runner)

    def before_task(self, runner, task_index):
        self._call('before_task', runner, task_index=task_index)

    def before_train_epoch(self, runner):
        self._call('before_train_epoch', runner)

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self._call('before_train_iter', runner, data_batch=data_batch)

    def after_task(self, runner, task_index):
        self._call('after_task', runner, task_index=task_index)


def loader_cfg(num_samples: int = 24) -> dict:
    """A dataloader template of :class:`ToyTaskDataset` (batch 8, no
    shuffling)."""
    return dict(
        dataset=dict(type='ToyTaskDataset', num_samples=num_samples),
        sampler=dict(type='DefaultSampler', shuffle=False),
        batch_size=8,
        num_workers=0)


def toy_runner(work_dir,
               hooks=(),
               num_tasks: int = 2,
               max_epochs=2,
               model: Optional[nn.Module] = None,
               **loop_kwargs) -> MMDLRunner:
    """An :class:`MMDLRunner` training :class:`ToyClassifier` on a
    sequence of :class:`ToyTaskDataset` tasks (24 training and 12
    validation samples per task, SGD, lr 0.5, seed 0, no checkpoints)."""
    return MMDLRunner(
        model=model or ToyClassifier(),
        work_dir=str(work_dir),
        experiment_name=f'toy_tasks_{uuid.uuid4().hex}',
        train_dataloader=loader_cfg(),
        val_dataloader=loader_cfg(VAL_SAMPLES),
        val_evaluator=dict(type='ToyTop1'),
        val_cfg=dict(),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.5)),
        train_cfg=dict(
            type='TaskSequenceTrainLoop',
            num_tasks=num_tasks,
            max_epochs=max_epochs,
            **loop_kwargs),
        default_hooks=dict(checkpoint=None, logger=None),
        custom_hooks=list(hooks),
        randomness=dict(seed=0),
        default_scope='mmdl')


class FakeLoader:
    """What ``FakeRunner.build_dataloader`` returns: the config, a length
    of ``lengths[task_id]`` (default 5) and a dataset stand-in."""

    def __init__(self, cfg: dict, lengths: Dict[int, int]) -> None:
        self.cfg = cfg
        self.dataset = SimpleNamespace(**{
            k: v
            for k, v in cfg['dataset'].items() if k != 'type'
        })
        self.length = lengths.get(cfg['dataset'].get('task_id'), 5)

    def __len__(self) -> int:
        return self.length


class FakeRunner:
    """The runner accessors the loop and its parts read when the loop is
    built, without models or data; ``built`` lists the built configs."""

    def __init__(self,
                 lengths: Optional[Dict[int, int]] = None,
                 val_dataloader: Optional[dict] = None,
                 name: Optional[str] = None) -> None:
        self.optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1))
        self.param_schedulers = dict(type='MultiStepLR', milestones=[1])
        self.cfg = None
        self.seed = 0
        self.randomness_cfg = dict(seed=0)
        self.visualizer = SimpleNamespace(dataset_meta=None)
        self.message_hub = MessageHub.get_instance(
            name or f'fake_runner_{uuid.uuid4().hex}')
        self.lengths = lengths or {}
        self.built: List[dict] = []
        self.val_loop_built = False
        self._val = dict(dataset=dict(type='X')) if val_dataloader is None \
            else val_dataloader

    @property
    def val_dataloader_cfg(self):
        return copy.deepcopy(self._val)

    def set_val_dataloader_cfg(self, cfg: dict) -> None:
        self._val = copy.deepcopy(cfg)

    def build_dataloader(self, cfg, seed=None, diff_rank_seed=False):
        self.built.append(cfg)
        return FakeLoader(cfg, self.lengths)
