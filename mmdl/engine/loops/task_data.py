# Copyright (c) mmdl contributors. All rights reserved.
"""The dataloaders of a task sequence, built per task from templates."""
import copy
import logging
from typing import Dict, Optional, Union

from mmengine.logging import print_log
from torch.utils.data import DataLoader, Dataset

SPLITS = ('train', 'val')


class TaskDataloaders:
    """Builds the training and validation loaders of every task.

    The ``train_dataloader`` and ``val_dataloader`` configs are templates:
    the config of task ``t`` is a deep copy with ``dataset[task_key] = t``
    (on the outermost dataset dict, also when it wraps another dataset).
    Loaders are built with ``runner.build_dataloader(cfg, seed=runner.seed,
    diff_rank_seed=...)``. One training loader is kept, the *current* one
    (the training loop switches it when it enters a task); validation
    loaders are cached per task, and the runner's own validation loader is
    reused for the task whose config it was built from. A dataset
    replaced with :meth:`replace` is used instead of the template's for
    that task and split.

    The runner's validation loop is built from the ``val_dataloader``
    template; when the template's dataset has no ``task_key`` and that loop
    is not built yet, the runner's config gets task 0, so task datasets
    without a default task work.

    Args:
        runner (MMDLRunner): The runner.
        train_template (dict): The ``train_dataloader`` config.
        task_key (str): The dataset argument set to the task index.
            Defaults to ``'task_id'``.
    """

    def __init__(self,
                 runner,
                 train_template: dict,
                 task_key: str = 'task_id') -> None:
        if not isinstance(train_template, dict):
            raise TypeError('TaskSequenceTrainLoop needs the '
                            'train_dataloader config (a dict used as a '
                            'template per task), not a built '
                            f'{type(train_template).__name__}')
        self.runner = runner
        self.task_key = task_key
        self._templates = dict(
            train=copy.deepcopy(train_template),
            val=self._prepare_val_template())
        self._replaced: Dict[str, Dict[int, Union[Dataset, dict]]] = {
            split: {}
            for split in SPLITS
        }
        self._train_loader: Optional[DataLoader] = None
        self._train_task: Optional[int] = None
        self._stale = False
        self._frozen: Optional[int] = None
        self._val_loaders: Dict[int, DataLoader] = {}
        #: Lengths of the training loaders built so far, per task.
        self.train_lengths: Dict[int, int] = {}

    @property
    def has_val(self) -> bool:
        """bool: Whether there is a validation dataloader config."""
        return self._templates['val'] is not None

    @property
    def train_loader(self) -> Optional[DataLoader]:
        """DataLoader: The current training loader (None before
        :meth:`use_train`)."""
        return self._train_loader

    @property
    def train_task(self) -> Optional[int]:
        """int: The task of the current training loader."""
        return self._train_task

    def cfg(self, task: int, split: str = 'train') -> dict:
        """The dataloader config of ``task``: the template with the task
        index set, or with the replaced dataset (a built dataset is not
        copied here; mmengine's ``build_dataloader`` copies its config).

        Args:
            task (int): Index of the task.
            split (str): ``'train'`` or ``'val'``.

        Returns:
            dict: A new config dict.
        """
        _check_split(split)
        template = self._templates[split]
        if template is None:
            raise ValueError('there is no validation dataloader config')
        replaced = self._replaced[split].get(task)
        if replaced is None:
            cfg = copy.deepcopy(template)
            cfg['dataset'][self.task_key] = task
            return cfg
        cfg = copy.deepcopy({
            k: v
            for k, v in template.items() if k != 'dataset'
        })
        cfg['dataset'] = (
            copy.deepcopy(replaced)
            if isinstance(replaced, dict) else replaced)
        return cfg

    def template_cfg(self, task: int, split: str = 'train') -> dict:
        """The template's dataloader config of ``task``, ignoring any
        replaced dataset (what the config asks for)."""
        _check_split(split)
        cfg = copy.deepcopy(self._templates[split])
        if cfg is not None:
            cfg['dataset'][self.task_key] = task
        return cfg

    def replace(self,
                task: int,
                dataset: Union[Dataset, dict],
                split: str = 'train') -> None:
        """Use ``dataset`` (built, or a dataset config) for ``task`` and
        ``split`` from the next build of that loader on.

        Raises:
            RuntimeError: ``split='train'`` for the task whose training
                loader is in use (see :meth:`freeze`).
        """
        _check_split(split)
        if not isinstance(dataset, (Dataset, dict)):
            raise TypeError('dataset must be a Dataset or a dataset config '
                            f'dict, got {type(dataset).__name__}')
        if split == 'train' and task == self._frozen:
            raise RuntimeError(
                f'replace_task_dataset: task {task} has started, its '
                'training loader is in use. Replace its dataset in '
                "'before_task' of that task or earlier (e.g. in "
                "'before_train' on resume).")
        self._replaced[split][task] = dataset
        if split == 'train' and task == self._train_task:
            self._stale = True
        if split == 'val':
            self._val_loaders.pop(task, None)

    def freeze(self, task: Optional[int]) -> None:
        """Refuse training-set replacements for ``task`` (its training
        loader is in use); None allows them again."""
        self._frozen = task

    def build(self, task: int, split: str = 'train') -> DataLoader:
        """Build a new loader of ``task`` (not cached)."""
        runner = self.runner
        return runner.build_dataloader(
            self.cfg(task, split),
            seed=runner.seed,
            diff_rank_seed=runner.randomness_cfg.get('diff_rank_seed', False))

    def use_train(self, task: int) -> DataLoader:
        """Make the training loader of ``task`` current; build it unless it
        already is (and its dataset was not replaced since).

        Returns:
            DataLoader: The current training loader.
        """
        if self._train_task != task or self._stale:
            self._train_loader = None  # free the previous task's data first
            self._train_loader = self.build(task, 'train')
            self._train_task, self._stale = task, False
            self.train_lengths[task] = len(self._train_loader)
            dataset = self._train_loader.dataset
            if hasattr(dataset, 'metainfo'):
                self.runner.visualizer.dataset_meta = dataset.metainfo
        return self._train_loader

    def val_loader(self, task: int) -> DataLoader:
        """The validation loader of ``task`` (cached)."""
        if task not in self._val_loaders:
            runner = self.runner
            cfg = self.cfg(task, 'val')
            if runner.val_loop_built and runner.val_dataloader_cfg == cfg:
                # the runner's validation loop was built from this config
                self._val_loaders[task] = runner.val_loop.dataloader
            else:
                self._val_loaders[task] = self.build(task, 'val')
        return self._val_loaders[task]

    def _prepare_val_template(self) -> Optional[dict]:
        """The validation template; gives the runner's validation config
        task 0 when the template has no task index."""
        runner = self.runner
        template = runner.val_dataloader_cfg
        if not isinstance(template, dict):
            if template is not None:
                print_log(
                    'TaskSequenceTrainLoop: val_dataloader is not a config '
                    'dict; the accuracy matrix is not evaluated.',
                    logger='current',
                    level=logging.WARNING)
            return None
        if (isinstance(template.get('dataset'), dict)
                and self.task_key not in template['dataset']
                and not runner.val_loop_built):
            first = copy.deepcopy(template)
            first['dataset'][self.task_key] = 0
            runner.set_val_dataloader_cfg(first)
        return template


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"split must be 'train' or 'val', got {split!r}")
