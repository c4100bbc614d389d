# Copyright (c) mmdl contributors. All rights reserved.
"""Class-split image sequences: Split CIFAR-10/100, split (Fashion-)MNIST
and split digits.

Task ``t`` keeps the images of the classes
``class_order[classes_per_task * t:classes_per_task * (t + 1)]`` (by default
``class_order = range(num_classes)``, so the classes
``classes_per_task * t ... classes_per_task * (t + 1) - 1``); the last task
is shorter when ``classes_per_task`` does not divide the number of classes.

Labels: ``relabel=False`` (default) keeps the global labels (class- or
domain-incremental learning with one head over all classes);
``relabel=True`` maps the task's ``i``-th class to ``i``, i.e. labels
``0 ... classes_per_task - 1`` for task-incremental learning with one head
per task, and narrows ``metainfo['classes']`` to the task's class names in
that order.

Every sample carries ``task_id`` (int); keep it through the pipeline with
``dict(type='mmpretrain.PackInputs', algorithm_keys=['task_id'])``. The
metainfo holds ``task_id``, ``task_classes`` (the global indices of the
task's classes, in label order) and ``num_tasks``.
"""
import math
from typing import List, Optional, Sequence

import numpy as np
from mmpretrain.datasets.categories import FASHIONMNIST_CATEGORITES

from mmdl.registry import DATASETS
from ..cifar import CIFAR10, CIFAR100
from ..digits import DigitsDataset
from .mnist_files import FASHION_MNIST_DEBIAN_ROOT, MNISTFiles
from .task_base import check_task_id


class _ClassSplitMixin:
    """Keep the classes of one task and optionally relabel them.

    Put it before a dataset class whose ``load_data_list`` returns dicts
    with an integer ``gt_label``; ``_init_split`` must be called before the
    dataset's ``__init__``.
    """

    #: Classes per task when ``classes_per_task`` is None.
    DEFAULT_CLASSES_PER_TASK = 2

    def _init_split(self, task_id: int, classes_per_task: Optional[int],
                    class_order: Optional[Sequence[int]], relabel: bool,
                    metainfo: Optional[dict]) -> dict:
        """Check the arguments, store the task's classes and return the
        metainfo to use."""
        name = type(self).__name__
        metainfo = dict(metainfo or {})
        all_classes = tuple(
            metainfo.get('classes',
                         type(self).METAINFO['classes']))
        num_classes = len(type(self).METAINFO['classes'])
        if classes_per_task is None:
            classes_per_task = self.DEFAULT_CLASSES_PER_TASK
        if class_order is None:
            class_order = list(range(num_classes))
        class_order = [int(c) for c in class_order]
        if (len(set(class_order)) != len(class_order)
                or not all(0 <= c < num_classes for c in class_order)):
            raise ValueError(f'{name}: class_order must hold distinct class '
                             f'indices in [0, {num_classes}), got '
                             f'{class_order}')
        if classes_per_task < 1:
            raise ValueError(f'{name}: classes_per_task must be >= 1, got '
                             f'{classes_per_task}')
        num_tasks = math.ceil(len(class_order) / classes_per_task)
        self.task_id = check_task_id(name, task_id, num_tasks)
        self.classes_per_task = classes_per_task
        self.class_order = class_order
        self.relabel = relabel
        self.num_tasks = num_tasks
        start = classes_per_task * self.task_id
        self.task_classes = tuple(class_order[start:start + classes_per_task])
        metainfo.update(
            task_id=self.task_id,
            task_classes=self.task_classes,
            num_tasks=num_tasks)
        if relabel and len(all_classes) == num_classes:
            metainfo['classes'] = tuple(all_classes[c]
                                        for c in self.task_classes)
        return metainfo

    def load_data_list(self) -> List[dict]:
        """Keep the task's samples, relabel them if asked and tag them with
        ``task_id``.

        Returns:
            list[dict]: The task's samples of the base dataset, in their
            order, with ``gt_label`` (int) and ``task_id`` (int).
        """
        data_list = super().load_data_list()
        num_classes = len(type(self).METAINFO['classes'])
        label_map = np.full(num_classes, -1, dtype=np.int64)
        label_map[list(self.task_classes)] = (
            np.arange(len(self.task_classes))
            if self.relabel else self.task_classes)
        labels = np.array([int(info['gt_label']) for info in data_list],
                          dtype=np.int64)
        new_labels = label_map[labels]
        kept = []
        for info, label in zip(data_list, new_labels.tolist()):
            if label >= 0:
                info['gt_label'] = label
                info['task_id'] = self.task_id
                kept.append(info)
        return kept


@DATASETS.register_module()
class SplitCIFAR10(_ClassSplitMixin, CIFAR10):
    """Split CIFAR-10: task ``t`` holds the images of ``classes_per_task``
    classes of :class:`~mmdl.datasets.CIFAR10` (see the module docstring).

    With the defaults, 5 tasks of 2 classes: task ``t`` keeps classes
    ``2t`` and ``2t + 1``.

    Args:
        data_root (str): Folder holding ``cifar-10-batches-py``.
        split (str): ``'train'`` or ``'test'``. Defaults to ``'train'``.
        task_id (int): Index of the task, in ``[0, num_tasks)``; set as
            ``task_id`` on every sample and in the metainfo. Defaults to 0.
        classes_per_task (int): Classes per task. Defaults to 2.
        class_order (Sequence[int], optional): The order in which classes
            are assigned to tasks (distinct indices; may leave classes out).
            Defaults to None (``0, 1, ..., 9``).
        relabel (bool): Map the task's classes to ``0 ...
            classes_per_task - 1`` (task-incremental heads) instead of
            keeping the global labels. Defaults to False.
        **kwargs: Other arguments of :class:`~mmdl.datasets.CIFAR10`
            (``verify_md5``, ``pipeline``, ...).
    """

    DEFAULT_CLASSES_PER_TASK = 2

    def __init__(self,
                 data_root: str = '',
                 split: str = 'train',
                 task_id: int = 0,
                 classes_per_task: Optional[int] = None,
                 class_order: Optional[Sequence[int]] = None,
                 relabel: bool = False,
                 metainfo: Optional[dict] = None,
                 **kwargs) -> None:
        metainfo = self._init_split(task_id, classes_per_task, class_order,
                                    relabel, metainfo)
        super().__init__(data_root, split=split, metainfo=metainfo, **kwargs)


@DATASETS.register_module()
class SplitCIFAR100(_ClassSplitMixin, CIFAR100):
    """Split CIFAR-100: task ``t`` holds the images of ``classes_per_task``
    classes of :class:`~mmdl.datasets.CIFAR100` (see the module
    docstring).

    With the defaults, 10 tasks of 10 classes: task ``t`` keeps classes
    ``10t ... 10t + 9``.

    Args:
        data_root (str): Folder holding ``cifar-100-python``.
        split (str): ``'train'`` or ``'test'``. Defaults to ``'train'``.
        task_id (int): Index of the task, in ``[0, num_tasks)``. Defaults
            to 0.
        classes_per_task (int): Classes per task. Defaults to 10.
        class_order (Sequence[int], optional): The order in which classes
            are assigned to tasks. Defaults to None (``0, 1, ..., 99``).
        relabel (bool): Map the task's classes to ``0 ...
            classes_per_task - 1``. Defaults to False.
        **kwargs: Other arguments of :class:`~mmdl.datasets.CIFAR100`.
    """

    DEFAULT_CLASSES_PER_TASK = 10

    def __init__(self,
                 data_root: str = '',
                 split: str = 'train',
                 task_id: int = 0,
                 classes_per_task: Optional[int] = None,
                 class_order: Optional[Sequence[int]] = None,
                 relabel: bool = False,
                 metainfo: Optional[dict] = None,
                 **kwargs) -> None:
        metainfo = self._init_split(task_id, classes_per_task, class_order,
                                    relabel, metainfo)
        super().__init__(data_root, split=split, metainfo=metainfo, **kwargs)


@DATASETS.register_module()
class SplitDigits(_ClassSplitMixin, DigitsDataset):
    """Split digits: task ``t`` holds the images of ``classes_per_task``
    classes of :class:`~mmdl.datasets.DigitsDataset` (8x8, fixed split; see
    the module docstring). With the defaults, 5 tasks of 2 digits.

    Args:
        split (str): ``'train'`` or ``'test'``. Defaults to ``'train'``.
        task_id (int): Index of the task, in ``[0, num_tasks)``. Defaults
            to 0.
        classes_per_task (int): Classes per task. Defaults to 2.
        class_order (Sequence[int], optional): The order in which classes
            are assigned to tasks. Defaults to None (``0, 1, ..., 9``).
        relabel (bool): Map the task's classes to ``0 ...
            classes_per_task - 1``. Defaults to False.
        **kwargs: Other arguments of :class:`~mmdl.datasets.DigitsDataset`.
    """

    DEFAULT_CLASSES_PER_TASK = 2

    def __init__(self,
                 split: str = 'train',
                 task_id: int = 0,
                 classes_per_task: Optional[int] = None,
                 class_order: Optional[Sequence[int]] = None,
                 relabel: bool = False,
                 metainfo: Optional[dict] = None,
                 **kwargs) -> None:
        metainfo = self._init_split(task_id, classes_per_task, class_order,
                                    relabel, metainfo)
        super().__init__(split=split, metainfo=metainfo, **kwargs)


@DATASETS.register_module()
class SplitMNIST(_ClassSplitMixin, MNISTFiles):
    """Split MNIST: task ``t`` holds the images of ``classes_per_task``
    classes of the MNIST IDX files in ``data_root`` (see the module
    docstring). With the defaults, 5 tasks of 2 digits.

    Args:
        data_root (str): Folder of the four IDX files.
        split (str): ``'train'`` or ``'test'``. Defaults to ``'train'``.
        task_id (int): Index of the task, in ``[0, num_tasks)``. Defaults
            to 0.
        classes_per_task (int): Classes per task. Defaults to 2.
        class_order (Sequence[int], optional): The order in which classes
            are assigned to tasks. Defaults to None (``0, 1, ..., 9``).
        relabel (bool): Map the task's classes to ``0 ...
            classes_per_task - 1``. Defaults to False.
        **kwargs: Other arguments of ``MNISTFiles`` (``file_prefix``,
            ``pipeline``, ``indices``, ...).
    """

    DEFAULT_CLASSES_PER_TASK = 2

    def __init__(self,
                 data_root: str = '',
                 split: str = 'train',
                 task_id: int = 0,
                 classes_per_task: Optional[int] = None,
                 class_order: Optional[Sequence[int]] = None,
                 relabel: bool = False,
                 metainfo: Optional[dict] = None,
                 **kwargs) -> None:
        metainfo = self._init_split(task_id, classes_per_task, class_order,
                                    relabel, metainfo)
        super().__init__(
            data_root=data_root, split=split, metainfo=metainfo, **kwargs)


@DATASETS.register_module()
class SplitFashionMNIST(SplitMNIST):
    """Split Fashion-MNIST: :class:`SplitMNIST` on the Fashion-MNIST IDX
    files, by default those of Debian's ``dataset-fashion-mnist``
    (``/usr/share/datasets/fashion-mnist``). With the defaults, 5 tasks of
    2 classes (T-shirt/top and trouser, pullover and dress, ...).

    Args:
        data_root (str): Folder of the IDX files. Defaults to
            ``'/usr/share/datasets/fashion-mnist'``.
        **kwargs: Other arguments of :class:`SplitMNIST`.
    """

    METAINFO = {'classes': FASHIONMNIST_CATEGORITES}

    def __init__(self, data_root: str = FASHION_MNIST_DEBIAN_ROOT,
                 **kwargs) -> None:
        super().__init__(data_root=data_root, **kwargs)
