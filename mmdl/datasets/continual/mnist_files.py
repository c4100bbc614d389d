# Copyright (c) mmdl contributors. All rights reserved.
"""The four IDX files of MNIST or Fashion-MNIST in one folder, as a dataset
base (not registered) of the permuted and rotated MNIST sequences."""
from typing import List, Optional

import numpy as np
from mmpretrain.datasets import BaseDataset
from mmpretrain.datasets.categories import MNIST_CATEGORITES

from .idx import IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC, find_idx_file, read_idx

#: Where Debian's ``dataset-fashion-mnist`` package installs the IDX files.
FASHION_MNIST_DEBIAN_ROOT = '/usr/share/datasets/fashion-mnist'


class MNISTFiles(BaseDataset):
    """MNIST-style IDX files of one folder.

    Reads ``[file_prefix]train-images-idx3-ubyte`` and
    ``[file_prefix]train-labels-idx1-ubyte`` (``split='train'``) or the
    ``t10k-`` files (``split='test'``) from ``data_root``, each
    uncompressed or with ``.gz`` (the uncompressed file is preferred);
    nothing is downloaded and a missing file is reported by name. Samples
    are ``img`` (uint8, H x W from the header) and ``gt_label`` (int), in
    file order.

    Args:
        data_root (str): Folder of the IDX files.
        split (str): ``'train'`` or ``'test'``. Defaults to ``'train'``.
        file_prefix (str): Prefix of the four file names. Defaults to ''.
        **kwargs: Other arguments of :class:`mmpretrain.datasets.BaseDataset`
            (``pipeline``, ``indices``, ``test_mode``, ...).
    """

    METAINFO = {'classes': MNIST_CATEGORITES}
    SPLITS = ('train', 'test')
    #: File stems of a split: (images, labels).
    FILES = {
        'train': ('train-images-idx3-ubyte', 'train-labels-idx1-ubyte'),
        'test': ('t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'),
    }

    def __init__(self,
                 data_root: str = '',
                 split: str = 'train',
                 file_prefix: str = '',
                 metainfo: Optional[dict] = None,
                 **kwargs) -> None:
        name = type(self).__name__
        if split not in self.SPLITS:
            raise ValueError(f'{name}: split={split!r} is not one of '
                             f'{self.SPLITS}')
        if not data_root:
            raise ValueError(f'{name}: data_root (the folder of the IDX '
                             'files) is not set')
        self.split = split
        self.file_prefix = file_prefix
        kwargs.setdefault('ann_file', '')
        super().__init__(metainfo=metainfo, data_root=data_root, **kwargs)

    def load_data_list(self) -> List[dict]:
        """Read the images and labels of the split.

        Returns:
            list[dict]: One dict per image with ``img`` (uint8, H x W) and
            ``gt_label`` (int).
        """
        name = type(self).__name__
        paths = []
        for stem in self.FILES[self.split]:
            try:
                paths.append(
                    find_idx_file(self.data_root, self.file_prefix + stem))
            except FileNotFoundError as error:
                raise FileNotFoundError(f'{name}: {error}') from None
        images = read_idx(paths[0], IDX_IMAGES_MAGIC)
        labels = read_idx(paths[1], IDX_LABELS_MAGIC)
        if len(images) != len(labels):
            raise ValueError(f'{name}: {len(images)} images in {paths[0]} '
                             f'but {len(labels)} labels in {paths[1]}')
        return [
            dict(img=img, gt_label=label)
            for img, label in zip(images,
                                  labels.astype(np.int64).tolist())
        ]

    def extra_repr(self) -> List[str]:
        """The extra repr information of the dataset."""
        return [f'Data root: \t{self.data_root}', f'Split: \t{self.split}']
