# Copyright (c) mmdl contributors. All rights reserved.
"""Miniature Stanford Cars in the single-archive layout of the original."""
import os
import os.path as osp

import numpy as np

from .images import class_images, random_box, write_jpeg


def write_stanford_cars(root: str,
                        num_classes: int = 3,
                        train_per_class: int = 2,
                        test_per_class: int = 2,
                        image_size: int = 32,
                        seed: int = 0) -> dict:
    """Write a miniature Stanford Cars in the single-archive layout of the
    original (``car_ims.tgz`` + ``cars_annos.mat``), as read by
    mmpretrain's ``StanfordCars`` (``data_root='data/Stanford_Cars'``).

    Written under ``root`` (created if needed):

    * ``car_ims/<6 digits>.jpg``, numbered from 1;
    * ``cars_annos.mat``: MATLAB v5 file with ``annotations``, a 1 x N
      struct array with the fields ``relative_im_path``
      (``'car_ims/000001.jpg'``), ``bbox_x1``, ``bbox_y1``, ``bbox_x2``,
      ``bbox_y2``, ``class`` (from 1) and ``test`` (1 for the test split)
      as 1 x 1 integer arrays, and ``class_names``, a 1 x C cell array with
      the first ``num_classes`` names of mmpretrain's
      ``STANFORDCARS_CATEGORIES``.

    Needs ``scipy`` (``scipy.io.savemat``).

    Args:
        root (str): Directory to write into (the ``data_root``).
        num_classes (int): Number of classes (<= 196). Defaults to 3.
        train_per_class (int): Training images per class. Defaults to 2.
        test_per_class (int): Test images per class. Defaults to 2.
        image_size (int): Image side in pixels. Defaults to 32.
        seed (int): Seed of the random content. Defaults to 0.

    Returns:
        dict: ``data_root`` (str), ``classes`` (list of str), ``train`` and
        ``test`` (lists of ``(path relative to data_root, label from 0)``
        in file order).
    """
    from mmpretrain.datasets.categories import STANFORDCARS_CATEGORIES
    from scipy.io import savemat
    if not 0 < num_classes <= len(STANFORDCARS_CATEGORIES):
        raise ValueError(f'num_classes must be in [1, 196], got '
                         f'{num_classes}')
    rng = np.random.default_rng(seed)
    os.makedirs(osp.join(root, 'car_ims'), exist_ok=True)
    classes = list(STANFORDCARS_CATEGORIES[:num_classes])
    image = class_images(rng, num_classes, image_size)
    per_class = train_per_class + test_per_class
    labels = rng.permutation(np.repeat(np.arange(num_classes), per_class))
    is_test = np.zeros(len(labels), dtype=np.uint8)
    for label in range(num_classes):
        index = np.flatnonzero(labels == label)
        is_test[rng.choice(index, test_per_class, replace=False)] = 1
    fields = [('relative_im_path', 'O'), ('bbox_x1', 'O'), ('bbox_y1', 'O'),
              ('bbox_x2', 'O'), ('bbox_y2', 'O'), ('class', 'O'),
              ('test', 'O')]
    annotations = np.zeros((1, len(labels)), dtype=fields)
    splits = dict(train=[], test=[])
    for i, (label, test) in enumerate(zip(labels.tolist(), is_test)):
        path = f'car_ims/{i + 1:06d}.jpg'
        write_jpeg(osp.join(root, path), image(label))
        box = random_box(rng, image_size)
        values = [np.array([[v]], dtype=np.uint16) for v in box]
        values += [
            np.array([[label + 1]], dtype=np.uint8),
            np.array([[test]], dtype=np.uint8)
        ]
        annotations[0, i] = (path, *values)
        splits['test' if test else 'train'].append((path, label))
    names = np.empty((1, num_classes), dtype=object)
    names[0, :] = classes
    savemat(
        osp.join(root, 'cars_annos.mat'),
        dict(annotations=annotations, class_names=names))
    return dict(data_root=root, classes=classes, **splits)
