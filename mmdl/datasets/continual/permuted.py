# Copyright (c) mmdl contributors. All rights reserved.
"""Permuted image sequences (domain-incremental): permuted digits, MNIST and
Fashion-MNIST.

Every task holds the same images and labels with the pixels shuffled by a
fixed, task-specific permutation, applied once, vectorised, to the whole
image stack when the data list is loaded: task ``t`` uses
:func:`~.task_base.task_permutation` ``(t, H*W, seed_base)``, the identity
for task 0 (the original images) and
``np.random.default_rng(seed_base + t).permutation(H * W)`` for ``t >= 1``,
the same for both splits. With the permutation ``perm``, pixel ``i`` of the
flattened (row-major) result is pixel ``perm[i]`` of the original:
``out.reshape(N, -1)[:, i] == img.reshape(N, -1)[:, perm[i]]``.

MNIST and Fashion-MNIST are read from their IDX files (``.gz`` or
uncompressed); nothing is downloaded.
"""
from typing import Optional

import numpy as np
from mmpretrain.datasets.categories import FASHIONMNIST_CATEGORITES

from mmdl.registry import DATASETS
from ..digits import DigitsDataset
from .mnist_files import FASHION_MNIST_DEBIAN_ROOT, MNISTFiles
from .task_base import TaskImagesMixin, permute_pixels, task_permutation


class PermutedMixin(TaskImagesMixin):
    """Shuffle the pixels with the task's :func:`task_permutation`; needs
    ``self.seed_base``. The permutation is kept as ``self.permutation``
    once loaded."""

    def transform_images(self, images: np.ndarray) -> np.ndarray:
        """Permute the pixels of every image with the task's permutation."""
        h, w = images.shape[1:3]
        self.permutation = task_permutation(self.task_id, h * w,
                                            self.seed_base)
        return permute_pixels(images, self.permutation)


@DATASETS.register_module()
class PermutedDigits(PermutedMixin, DigitsDataset):
    """Permuted digits: :class:`~mmdl.datasets.DigitsDataset` (8x8, fixed
    split) with the pixels of every image shuffled by the task's
    permutation (see the module docstring).

    Args:
        split (str): ``'train'`` or ``'test'``. Defaults to ``'train'``.
        task_id (int): Index of the task, ``>= 0``; set as ``task_id`` on
            every sample and in the metainfo. Defaults to 0.
        seed_base (int): Offset of the permutation seeds. Defaults to 0.
        **kwargs: Other arguments of :class:`~mmdl.datasets.DigitsDataset`.
    """

    def __init__(self,
                 split: str = 'train',
                 task_id: int = 0,
                 seed_base: int = 0,
                 metainfo: Optional[dict] = None,
                 **kwargs) -> None:
        metainfo = self._init_task(task_id, metainfo)
        self.seed_base = seed_base
        super().__init__(split=split, metainfo=metainfo, **kwargs)


@DATASETS.register_module()
class PermutedMNIST(PermutedMixin, MNISTFiles):
    """Permuted MNIST (Goodfellow et al., 2013; Kirkpatrick et al., 2017),
    read from the IDX files of MNIST.

    ``data_root`` holds ``train-images-idx3-ubyte``,
    ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte`` and
    ``t10k-labels-idx1-ubyte``, each uncompressed or as ``.gz`` (the
    layout of the original archive and of mmpretrain's ``MNIST``); nothing
    is downloaded and a missing file is reported by name. Images are uint8
    arrays of 28x28 pixels (the size of the header), permuted as in the
    module docstring.

    Args:
        data_root (str): Folder of the IDX files.
        split (str): ``'train'`` (60,000 images) or ``'test'`` (10,000).
            Defaults to ``'train'``.
        task_id (int): Index of the task, ``>= 0``; set as ``task_id`` on
            every sample and in the metainfo. Defaults to 0.
        seed_base (int): Offset of the permutation seeds. Defaults to 0.
        file_prefix (str): Prefix of the four file names. Defaults to ''.
        **kwargs: Other arguments of :class:`mmpretrain.datasets.BaseDataset`
            (``pipeline``, ``indices``, ``test_mode``, ...).
    """

    def __init__(self,
                 data_root: str = '',
                 split: str = 'train',
                 task_id: int = 0,
                 seed_base: int = 0,
                 file_prefix: str = '',
                 metainfo: Optional[dict] = None,
                 **kwargs) -> None:
        metainfo = self._init_task(task_id, metainfo)
        self.seed_base = seed_base
        super().__init__(
            data_root=data_root,
            split=split,
            file_prefix=file_prefix,
            metainfo=metainfo,
            **kwargs)


@DATASETS.register_module()
class PermutedFashionMNIST(PermutedMNIST):
    """Permuted Fashion-MNIST, read from the IDX files of Fashion-MNIST.

    As :class:`PermutedMNIST` (same file names, permutations and
    arguments) with the Fashion-MNIST classes. ``data_root`` defaults to
    ``/usr/share/datasets/fashion-mnist``, where Debian's
    ``dataset-fashion-mnist`` package (``apt-get install
    dataset-fashion-mnist``) installs ``train-images-idx3-ubyte.gz``,
    ``train-labels-idx1-ubyte.gz``, ``t10k-images-idx3-ubyte.gz`` and
    ``t10k-labels-idx1-ubyte.gz``.

    Args:
        data_root (str): Folder of the IDX files. Defaults to
            ``'/usr/share/datasets/fashion-mnist'``.
        split (str): ``'train'`` (60,000 images) or ``'test'`` (10,000).
            Defaults to ``'train'``.
        task_id (int): Index of the task, ``>= 0``. Defaults to 0.
        seed_base (int): Offset of the permutation seeds. Defaults to 0.
        **kwargs: Other arguments of :class:`PermutedMNIST`.
    """

    METAINFO = {'classes': FASHIONMNIST_CATEGORITES}

    def __init__(self,
                 data_root: str = FASHION_MNIST_DEBIAN_ROOT,
                 split: str = 'train',
                 task_id: int = 0,
                 seed_base: int = 0,
                 **kwargs) -> None:
        super().__init__(
            data_root=data_root,
            split=split,
            task_id=task_id,
            seed_base=seed_base,
            **kwargs)
