# Copyright (c) mmdl contributors. All rights reserved.
"""scikit-learn's bundled handwritten digits as an mmpretrain dataset."""
from typing import List, Optional, Sequence

import numpy as np
from mmpretrain.datasets import BaseDataset

from mmdl.registry import DATASETS

#: Number of images in scikit-learn's digits set.
NUM_DIGITS = 1797
#: The fixed test split: the last 360 images (about 20%).
NUM_TEST = 360


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
        super().__init__(metainfo=metainfo, pipeline=pipeline, **kwargs)

    def load_data_list(self) -> List[dict]:
        """Load the images of the split.

        Returns:
            list[dict]: One dict per image with ``img`` (uint8, 8x8) and
            ``gt_label`` (int).
        """
        from sklearn.datasets import load_digits
        digits = load_digits()
        images = np.rint(digits.images * (255.0 / 16.0)).astype(np.uint8)
        labels = digits.target.astype(np.int64)
        num_train = len(images) - NUM_TEST
        part = slice(0, num_train) if self.split == 'train' else slice(
            num_train, None)
        return [
            dict(img=img, gt_label=int(label))
            for img, label in zip(images[part], labels[part])
        ]
