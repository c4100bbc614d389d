# Copyright (c) mmdl contributors. All rights reserved.
"""Replace the data of some tasks of a task sequence from the config."""
import copy
from typing import Dict, Union

from mmdl.registry import HOOKS
from .continual_hook import ContinualHook


@HOOKS.register_module()
class TaskDataOverrideHook(ContinualHook):
    """Train (or validate) some tasks of a
    :class:`~mmdl.engine.loops.TaskSequenceTrainLoop` on other datasets,
    e.g. the poisoned data of a task written by
    ``tools/attack/poison_continual.py``
    (:class:`~mmdl.datasets.PoisonedTaskDataset`)::

        custom_hooks = [
            ...,
            dict(type='TaskDataOverrideHook',
                 datasets={2: dict(type='PoisonedTaskDataset',
                                   data_root='work_dirs/poison/task2')}),
        ]

    At ``before_train`` every entry goes through the loop's
    ``replace_task_dataset(task, dataset, split)``. Replacements are not
    kept in checkpoints; as ``before_train`` runs on every start, a resumed
    run re-applies them before the loop builds the task's loader. The rest
    of the task's dataloader (batch size, sampler) stays the template's.

    A dataset config without ``pipeline`` gets the template dataset's
    pipeline (the same transforms as the clean task); with ``set_task_id``
    one without ``task_id`` gets the task index (the task datasets and
    ``PoisonedTaskDataset`` take it).

    Args:
        datasets (dict[int, dict]): Task index (int, or its decimal string)
            to dataset config.
        split (str): ``'train'`` or ``'val'``. Defaults to ``'train'``.
        set_task_id (bool): Fill in ``task_id``. Defaults to True.
    """

    priority = 'ABOVE_NORMAL'

    def __init__(self,
                 datasets: Dict[Union[int, str], dict],
                 split: str = 'train',
                 set_task_id: bool = True) -> None:
        name = type(self).__name__
        if not isinstance(datasets, dict) or not datasets:
            raise TypeError(f'{name}: datasets must be a non-empty dict '
                            'task -> dataset config, got '
                            f'{type(datasets).__name__}')
        if split not in ('train', 'val'):
            raise ValueError(f"{name}: split={split!r} is not 'train' or "
                             "'val'")
        self.datasets: Dict[int, dict] = {}
        for key, cfg in datasets.items():
            try:
                task = int(key)
            except (TypeError, ValueError):
                task = -1
            if isinstance(key, bool) or task < 0 or str(task) != str(key):
                raise ValueError(f'{name}: datasets key {key!r} is not a '
                                 'task index (an int >= 0)')
            if not isinstance(cfg, dict) or 'type' not in cfg:
                raise TypeError(f'{name}: datasets[{key!r}] must be a '
                                "dataset config dict with 'type', got "
                                f'{cfg!r}')
            self.datasets[task] = copy.deepcopy(dict(cfg))
        self.split = split
        self.set_task_id = set_task_id

    def dataset_cfg(self, loop, task: int) -> dict:
        """The config put in place of task ``task``'s dataset."""
        cfg = copy.deepcopy(self.datasets[task])
        if 'pipeline' not in cfg:
            template = loop.task_dataloader_cfg(task, self.split)['dataset']
            if 'pipeline' in template:
                cfg['pipeline'] = copy.deepcopy(template['pipeline'])
        if self.set_task_id:
            cfg.setdefault('task_id', task)
        return cfg

    def before_train(self, runner) -> None:
        """Replace the datasets (on every start, resumes included).

        Raises:
            ValueError: A task index is not in the sequence.
        """
        loop = self.task_loop(runner)
        for task in sorted(self.datasets):
            if task >= loop.num_tasks:
                raise ValueError(
                    f'{type(self).__name__}: datasets has task {task}, but '
                    f'the sequence has {loop.num_tasks} tasks '
                    '(train_cfg.num_tasks)')
            cfg = self.dataset_cfg(loop, task)
            loop.replace_task_dataset(task, cfg, self.split)
            runner.logger.info(
                f'{type(self).__name__}: task {task} {self.split}s on '
                f"{cfg['type']}" +
                (f" ({cfg['data_root']})" if 'data_root' in cfg else ''))
