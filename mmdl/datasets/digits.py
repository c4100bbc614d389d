# Copyright (c) mmdl contributors. All rights reserved.
"""scikit-learn's bundled handwritten digits as an mmpretrain dataset."""
import functools
import gzip
import importlib.util
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import numpy as np
from mmpretrain.datasets import BaseDataset

from mmdl.registry import DATASETS

#: Number of images in scikit-learn's digits set.
NUM_DIGITS = 1797
#: The fixed test split: the last 360 images (about 20%).
NUM_TEST = 360


@functools.lru_cache(maxsize=1)
def _read_digits() -> Tuple[np.ndarray, np.ndarray]:
    """The digits as read-only arrays: intensities 0-16 (1797, 8, 8) and
    labels (1797, ).

    Reads scikit-learn's bundled ``datasets/data/digits.csv.gz`` (64
    intensities and the label per row) directly: importing scikit-learn
    takes seconds, far more than the file, in every process that builds
    the dataset. Falls back to :func:`sklearn.datasets.load_digits` if the
    file is not where scikit-learn keeps it.
    """
    spec = importlib.util.find_spec('sklearn')
    locations = (spec.submodule_search_locations or []) if spec else []
    path = next((osp.join(loc, 'datasets', 'data', 'digits.csv.gz')
                 for loc in locations if osp.isfile(
                     osp.join(loc, 'datasets', 'data', 'digits.csv.gz'))),
                None)
    if path is None:
        from sklearn.datasets import load_digits
        digits = load_digits()
        images, labels = digits.images, digits.target
    else:
        with gzip.open(path, 'rt') as f:
            table = np.loadtxt(f, delimiter=',')
        if table.shape != (NUM_DIGITS, 65):
            raise ValueError(f'{path}: expected {NUM_DIGITS} rows of 64 '
                             f'pixels and a label, got shape {table.shape}')
        images, labels = table[:, :-1].reshape(-1, 8, 8), table[:, -1]
    images = np.array(images, dtype=np.float64)
    labels = np.asarray(labels).astype(np.int64)
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


@DATASETS.register_module()
class DigitsDataset(BaseDataset):
    """The UCI optical-recognition handwritten digits bundled with
    scikit-learn (:func:`sklearn.datasets.load_digits`): 1,797 grey images of
    8x8 pixels, 10 classes. Real data that needs no download, for quick
    configs and tests.

    Images are given to the pipeline as ``uint8`` arrays of shape (8, 8)
    (the original 0-16 intensities scaled by 255/16 and rounded), like
    mmpretrain's MNIST, so every mmpretrain transform applies.

    Split (fixed, no randomness): scikit-learn's order is kept; ``'train'``
    is the first 1,437 images and ``'test'`` the last 360 (about 20%). The
    split is contiguous rather than shuffled so that it does not depend on a
    random-number generator and, as the images come roughly grouped by
    writer, the test images tend to come from writers not seen in training.

    Args:
        split (str): ``'train'`` or ``'test'``. Defaults to ``'train'``.
        **kwargs: Other arguments of :class:`mmpretrain.datasets.BaseDataset`
            (``pipeline``, ``indices``, ``test_mode``, ...). ``ann_file`` and
            ``data_root`` are not used.
    """

    METAINFO = {'classes': tuple(str(i) for i in range(10))}
    SPLITS = ('train', 'test')

    def __init__(self,
                 split: str = 'train',
                 metainfo: Optional[dict] = None,
                 pipeline: Sequence = (),
                 **kwargs) -> None:
        if split not in self.SPLITS:
            raise ValueError(f'DigitsDataset: split={split!r} is not one of '
                             f'{self.SPLITS}')
        self.split = split
        kwargs.setdefault('ann_file', '')
        # 1,797 small arrays: serialising them for worker processes costs
        # more (a full garbage collection per build) than it saves.
        kwargs.setdefault('serialize_data', False)
        super().__init__(metainfo=metainfo, pipeline=pipeline, **kwargs)

    def load_data_list(self) -> List[dict]:
        """Load the images of the split.

        Returns:
            list[dict]: One dict per image with ``img`` (uint8, 8x8) and
            ``gt_label`` (int).
        """
        intensities, labels = _read_digits()
        images = np.rint(intensities * (255.0 / 16.0)).astype(np.uint8)
        num_train = len(images) - NUM_TEST
        part = slice(0, num_train) if self.split == 'train' else slice(
            num_train, None)
        return [
            dict(img=img, gt_label=int(label))
            for img, label in zip(images[part], labels[part])
        ]
