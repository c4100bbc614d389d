# Copyright (c) mmdl contributors. All rights reserved.
"""Sequences of arbitrary datasets, e.g. ImageNet -> a fine-grained dataset.

:class:`TaskDataset` builds any registered dataset and tags its samples
with ``task_id``; given a *list* of dataset configs it builds the one of the
task, so that a sequence of different datasets is one config into which a
task-sequence loop injects ``task_id``.

The sequences of XK-FAC (Lee et al., CVPR 2020: a ResNet-50 trained on
ImageNet, then fine-tuned on a fine-grained dataset; which ones is not
known, the usual choices are below) use mmpretrain's datasets, with the
``mmpretrain.`` prefix in mmdl's scope:

=================  ==============================  ==========================
Dataset            Type (mmpretrain 1.2.0)         Splits (train / test)
=================  ==============================  ==========================
ImageNet-1k        ``mmpretrain.ImageNet``         ``'train'`` / ``'val'``
CUB-200-2011       ``mmpretrain.CUB``              ``'train'`` / ``'test'``
Stanford Cars      ``mmpretrain.StanfordCars``     ``'train'`` / ``'test'``
FGVC-Aircraft      ``mmpretrain.FGVCAircraft``     ``'trainval'`` / ``'test'``
Oxford Flowers     ``mmpretrain.Flowers102``       ``'trainval'`` / ``'test'``
=================  ==============================  ==========================

For example, ImageNet (task 0) then CUB-200-2011 (task 1), each with its
own classification head (the label spaces differ; use ``task_id`` to pick
the head)::

    pipeline = [
        dict(type='LoadImageFromFile'),
        dict(type='mmpretrain.RandomResizedCrop', scale=224),
        dict(type='RandomFlip', prob=0.5),
        dict(type='mmpretrain.PackInputs', algorithm_keys=['task_id']),
    ]
    train_dataset = dict(
        type='TaskDataset',
        dataset=[
            dict(type='mmpretrain.ImageNet', data_root='data/imagenet',
                 split='train'),
            dict(type='mmpretrain.CUB', data_root='data/CUB_200_2011',
                 split='train'),
        ],
        pipeline=pipeline)
    # the loop builds dict(train_dataset, task_id=t) for t = 0, 1

The ImageNet task is usually not trained again (the model starts from an
ImageNet checkpoint); its validation set measures forgetting after the
fine-grained task. Stanford Cars, FGVC-Aircraft and Flowers-102 are used the
same way; see each mmpretrain class for the expected folder layout.
"""
import copy
from typing import Optional, Sequence, Union

import numpy as np
from mmengine.dataset import Compose

from mmdl.registry import DATASETS
from .task_base import check_task_id


@DATASETS.register_module()
class TaskDataset:
    """Tag every sample of a dataset with ``task_id``.

    ``get_data_info(i)`` is the wrapped dataset's with ``task_id`` (int)
    added; ``dataset[i]`` runs ``pipeline`` on it, so
    ``dict(type='mmpretrain.PackInputs', algorithm_keys=['task_id'])`` sets
    ``data_sample.task_id``. ``metainfo`` is the wrapped dataset's with
    ``task_id`` added.

    Args:
        dataset (dict | Sequence[dict] | Dataset): The dataset (a config,
            built with mmdl's ``DATASETS``, or a built dataset), or one per
            task, of which ``dataset[task_id]`` is used. Types of other
            projects need their prefix (``'mmpretrain.CUB'``).
        task_id (int): Index of the task, ``>= 0``.
        pipeline (Sequence[dict | Callable], optional): Transforms applied
            to the tagged samples. Defaults to None: the pipeline of the
            wrapped dataset, applied to the tagged samples instead of by the
            wrapped dataset.
        lazy_init (bool): Leave ``full_init`` of the wrapped dataset until
            first use. Defaults to False.
    """

    def __init__(self,
                 dataset: Union[dict, Sequence[dict], object],
                 task_id: int,
                 pipeline: Optional[Sequence] = None,
                 lazy_init: bool = False) -> None:
        self.task_id = check_task_id('TaskDataset', task_id)
        if isinstance(dataset, (list, tuple)):
            if task_id >= len(dataset):
                raise ValueError(f'TaskDataset: task_id={task_id} but only '
                                 f'{len(dataset)} datasets are given')
            dataset = dataset[task_id]
        if isinstance(dataset, dict):
            dataset = DATASETS.build(dataset)
        self.dataset = dataset
        if pipeline is None:
            self.pipeline = getattr(dataset, 'pipeline', Compose([]))
        else:
            self.pipeline = Compose(pipeline)
        self._fully_initialized = False
        if not lazy_init:
            self.full_init()

    @property
    def metainfo(self) -> dict:
        """The wrapped dataset's metainfo with ``task_id``."""
        metainfo = copy.deepcopy(getattr(self.dataset, 'metainfo', {}))
        metainfo['task_id'] = self.task_id
        return metainfo

    @property
    def test_mode(self) -> bool:
        """Whether the wrapped dataset is in test mode."""
        return getattr(self.dataset, 'test_mode', False)

    def full_init(self) -> None:
        """Fully initialise the wrapped dataset."""
        if self._fully_initialized:
            return
        if hasattr(self.dataset, 'full_init'):
            self.dataset.full_init()
        self._fully_initialized = True

    def get_data_info(self, idx: int) -> dict:
        """The wrapped dataset's ``get_data_info(idx)`` with ``task_id``."""
        self.full_init()
        info = self.dataset.get_data_info(idx)
        info['task_id'] = self.task_id
        return info

    def prepare_data(self, idx: int):
        """Run the pipeline on the tagged sample ``idx``."""
        return self.pipeline(self.get_data_info(idx))

    def __len__(self) -> int:
        self.full_init()
        return len(self.dataset)

    def __getitem__(self, idx: int) -> dict:
        """The tagged sample ``idx`` after the pipeline; as in mmengine's
        ``BaseDataset``, a ``None`` result raises in test mode and is
        replaced by a random other sample otherwise."""
        self.full_init()
        if self.test_mode:
            data = self.prepare_data(idx)
            if data is None:
                raise Exception('Test time pipeline should not get `None` '
                                'data_sample')
            return data
        max_refetch = getattr(self.dataset, 'max_refetch', 1000)
        for _ in range(max_refetch + 1):
            data = self.prepare_data(idx)
            if data is not None:
                return data
            idx = int(np.random.randint(0, len(self)))
        raise Exception(f'Cannot find valid image after {max_refetch}! '
                        'Please check your image path and pipeline')

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(task_id={self.task_id}, '
                f'dataset={type(self.dataset).__name__}, '
                f'len={len(self.dataset)})')
