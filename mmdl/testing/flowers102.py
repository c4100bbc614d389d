# Copyright (c) mmdl contributors. All rights reserved.
"""Miniature Oxford 102 Flowers in the layout of the original files."""
import os
import os.path as osp

import numpy as np

from .images import class_images, write_jpeg


def write_flowers102(root: str,
                     num_classes: int = 3,
                     train_per_class: int = 2,
                     val_per_class: int = 2,
                     test_per_class: int = 2,
                     image_size: int = 32,
                     seed: int = 0) -> dict:
    """Write a miniature Oxford 102 Flowers in the layout of the original
    files, as read by mmpretrain's ``Flowers102``
    (``data_root='data/Flowers102'``).

    Written under ``root`` (created if needed):

    * ``jpg/image_<5 digits>.jpg``, numbered from 1 in random class order;
    * ``imagelabels.mat``: MATLAB v5 file with ``labels``, a 1 x N
      ``uint8`` array of classes counted from 1;
    * ``setid.mat``: ``trnid``, ``valid`` and ``tstid``, 1 x n ``uint16``
      arrays of image numbers.

    Integer arrays, as in the real files: mmpretrain reads them with
    ``mat4py``, which returns doubles as floats that cannot index a list.
    Every split needs at least 2 images (``mat4py`` returns a 1 x 1 array as
    a scalar). Needs ``scipy`` (``scipy.io.savemat``).

    Args:
        root (str): Directory to write into (the ``data_root``).
        num_classes (int): Number of classes. Defaults to 3.
        train_per_class (int): Training images per class. Defaults to 2.
        val_per_class (int): Validation images per class. Defaults to 2.
        test_per_class (int): Test images per class. Defaults to 2.
        image_size (int): Image side in pixels. Defaults to 32.
        seed (int): Seed of the random content. Defaults to 0.

    Returns:
        dict: ``data_root`` (str) and for every split (``train``, ``val``,
        ``trainval``, ``test``) a list of ``(path relative to data_root,
        label from 0)`` in the order mmpretrain reads them.
    """
    from scipy.io import savemat
    counts = dict(
        trnid=train_per_class, valid=val_per_class, tstid=test_per_class)
    if min(counts.values()) * num_classes < 2:
        raise ValueError('every split needs at least 2 images')
    rng = np.random.default_rng(seed)
    os.makedirs(osp.join(root, 'jpg'), exist_ok=True)
    image = class_images(rng, num_classes, image_size)
    labels = rng.permutation(
        np.repeat(np.arange(num_classes), sum(counts.values())))
    numbers = {
        label: (np.flatnonzero(labels == label) + 1).tolist()
        for label in range(num_classes)
    }
    for number, label in enumerate(labels.tolist(), 1):
        write_jpeg(
            osp.join(root, 'jpg', f'image_{number:05d}.jpg'), image(label))
    setid, start = {}, 0
    for key, per_class in counts.items():
        setid[key] = sorted(
            n for label in range(num_classes)
            for n in numbers[label][start:start + per_class])
        start += per_class
    savemat(
        osp.join(root, 'imagelabels.mat'),
        dict(labels=(labels + 1).astype(np.uint8)[None]))
    ids = {k: np.asarray(v, dtype=np.uint16)[None] for k, v in setid.items()}
    savemat(osp.join(root, 'setid.mat'), ids)

    def items(ids):
        return [(osp.join('jpg', f'image_{n:05d}.jpg'), int(labels[n - 1]))
                for n in ids]

    return dict(
        data_root=root,
        train=items(setid['trnid']),
        val=items(setid['valid']),
        trainval=items(setid['trnid'] + setid['valid']),
        test=items(setid['tstid']))
