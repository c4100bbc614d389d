# Copyright (c) mmdl contributors. All rights reserved.
"""Rotated image sequences (domain-incremental): rotated MNIST,
Fashion-MNIST and digits.

Every task holds the same images and labels, rotated by the task's angle
once, vectorised, when the data list is loaded: task ``t`` rotates every
image (both splits) by ``angles[t]`` degrees, or ``10 * t`` degrees when
``angles`` is None (task 0: the original images), counter-clockwise as
displayed (row 0 at the top, like ``np.rot90`` and torchvision's
``rotate``), about the image centre, bilinearly, with zeros outside; see
:func:`~.task_base.rotate_images`.
"""
from typing import Optional, Sequence

import numpy as np
from mmpretrain.datasets.categories import FASHIONMNIST_CATEGORITES

from mmdl.registry import DATASETS
from ..digits import DigitsDataset
from .mnist_files import FASHION_MNIST_DEBIAN_ROOT, MNISTFiles
from .task_base import TaskImagesMixin, rotate_images


class RotatedMixin(TaskImagesMixin):
    """Rotate the images by the angle of the task; call :meth:`_init_angle`
    after ``_init_task``. The angle is kept as ``self.angle``."""

    #: Degrees per task when ``angles`` is not given.
    ANGLE_STEP = 10.0

    def _init_angle(self, angles: Optional[Sequence[float]]) -> None:
        """Store the angle of ``self.task_id``."""
        if angles is None:
            self.angle = self.ANGLE_STEP * self.task_id
        elif self.task_id >= len(angles):
            raise ValueError(f'{type(self).__name__}: task_id={self.task_id} '
                             f'but only {len(angles)} angles are given')
        else:
            self.angle = float(angles[self.task_id])

    def transform_images(self, images: np.ndarray) -> np.ndarray:
        """Rotate every image by the task's angle."""
        return rotate_images(images, self.angle)


@DATASETS.register_module()
class RotatedMNIST(RotatedMixin, MNISTFiles):
    """Rotated MNIST, read from the IDX files of MNIST (layout as in
    :class:`~mmdl.datasets.PermutedMNIST`), rotated as in the module
    docstring.

    Args:
        data_root (str): Folder of the IDX files.
        split (str): ``'train'`` or ``'test'``. Defaults to ``'train'``.
        task_id (int): Index of the task, ``>= 0``; set as ``task_id`` on
            every sample and in the metainfo. Defaults to 0.
        angles (Sequence[float], optional): Angle of every task in degrees.
            Defaults to None (``10 * task_id``).
        file_prefix (str): Prefix of the four file names. Defaults to ''.
        **kwargs: Other arguments of :class:`mmpretrain.datasets.BaseDataset`.
    """

    def __init__(self,
                 data_root: str = '',
                 split: str = 'train',
                 task_id: int = 0,
                 angles: Optional[Sequence[float]] = None,
                 file_prefix: str = '',
                 metainfo: Optional[dict] = None,
                 **kwargs) -> None:
        metainfo = self._init_task(task_id, metainfo)
        self._init_angle(angles)
        super().__init__(
            data_root=data_root,
            split=split,
            file_prefix=file_prefix,
            metainfo=metainfo,
            **kwargs)


@DATASETS.register_module()
class RotatedFashionMNIST(RotatedMNIST):
    """Rotated Fashion-MNIST: :class:`RotatedMNIST` (same file names,
    angles and arguments) on the IDX files of Fashion-MNIST, with its
    classes. ``data_root`` defaults to ``/usr/share/datasets/fashion-mnist``
    (Debian's ``dataset-fashion-mnist``).

    Args:
        data_root (str): Folder of the IDX files. Defaults to
            ``'/usr/share/datasets/fashion-mnist'``.
        **kwargs: Other arguments of :class:`RotatedMNIST`.
    """

    METAINFO = {'classes': FASHIONMNIST_CATEGORITES}

    def __init__(self, data_root: str = FASHION_MNIST_DEBIAN_ROOT,
                 **kwargs) -> None:
        super().__init__(data_root=data_root, **kwargs)


@DATASETS.register_module()
class RotatedDigits(RotatedMixin, DigitsDataset):
    """Rotated digits: :class:`~mmdl.datasets.DigitsDataset` (8x8, fixed
    split) rotated by the task's angle, as in :class:`RotatedMNIST`.

    Args:
        split (str): ``'train'`` or ``'test'``. Defaults to ``'train'``.
        task_id (int): Index of the task, ``>= 0``. Defaults to 0.
        angles (Sequence[float], optional): Angle of every task in degrees.
            Defaults to None (``10 * task_id``).
        **kwargs: Other arguments of :class:`~mmdl.datasets.DigitsDataset`.
    """

    def __init__(self,
                 split: str = 'train',
                 task_id: int = 0,
                 angles: Optional[Sequence[float]] = None,
                 metainfo: Optional[dict] = None,
                 **kwargs) -> None:
        metainfo = self._init_task(task_id, metainfo)
        self._init_angle(angles)
        super().__init__(split=split, metainfo=metainfo, **kwargs)
