# Copyright (c) mmdl contributors. All rights reserved.
"""Miniature CUB-200-2011 in the layout of the original archive."""
import os
import os.path as osp

import numpy as np

from .images import class_images, random_box, write_jpeg


def write_cub(root: str,
              num_classes: int = 3,
              train_per_class: int = 2,
              test_per_class: int = 2,
              image_size: int = 32,
              seed: int = 0) -> dict:
    """Write a miniature CUB-200-2011 in the layout of the original
    ``CUB_200_2011`` archive, as read by mmpretrain's ``CUB``
    (``data_root='data/CUB_200_2011'``).

    Written under ``root`` (created if needed), image ids counting from 1
    over the classes in order, as in the real files:

    * ``images/<ccc>.<Class_name>/<Class_name>_<nnnn>_<id>.jpg`` with the
      first ``num_classes`` names of mmpretrain's ``CUB_CATEGORIES``;
    * ``images.txt`` (``<id> <ccc>.<Class_name>/<file>``),
      ``image_class_labels.txt`` (``<id> <class, from 1>``),
      ``train_test_split.txt`` (``<id> <1: train, 0: test>``, the two
      splits interleaved within each class), ``classes.txt``
      (``<class> <ccc>.<Class_name>``) and ``bounding_boxes.txt``
      (``<id> <x> <y> <width> <height>``).

    Args:
        root (str): Directory to write into (the ``data_root``).
        num_classes (int): Number of classes (<= 200). Defaults to 3.
        train_per_class (int): Training images per class. Defaults to 2.
        test_per_class (int): Test images per class. Defaults to 2.
        image_size (int): Image side in pixels. Defaults to 32.
        seed (int): Seed of the random content. Defaults to 0.

    Returns:
        dict: ``data_root`` (str), ``classes`` (list of str), ``train`` and
        ``test`` (lists of ``(path relative to data_root, label from 0)``
        in id order).
    """
    from mmpretrain.datasets.categories import CUB_CATEGORIES
    if not 0 < num_classes <= len(CUB_CATEGORIES):
        raise ValueError(f'num_classes must be in [1, 200], got '
                         f'{num_classes}')
    rng = np.random.default_rng(seed)
    os.makedirs(root, exist_ok=True)
    classes = list(CUB_CATEGORIES[:num_classes])
    folders = [f'{c + 1:03d}.{name}' for c, name in enumerate(classes)]
    image = class_images(rng, num_classes, image_size)
    lines = dict(images=[], labels=[], split=[], boxes=[])
    splits = dict(train=[], test=[])
    image_id = 0
    for label, (name, folder) in enumerate(zip(classes, folders)):
        os.makedirs(osp.join(root, 'images', folder), exist_ok=True)
        is_train = rng.permutation([1] * train_per_class +
                                   [0] * test_per_class).tolist()
        for flag in is_train:
            image_id += 1
            number = int(rng.integers(1, 10000))
            file = f'{folder}/{name}_{number:04d}_{image_id}.jpg'
            write_jpeg(osp.join(root, 'images', file), image(label))
            x0, y0, x1, y1 = random_box(rng, image_size)
            lines['images'].append(f'{image_id} {file}\n')
            lines['labels'].append(f'{image_id} {label + 1}\n')
            lines['split'].append(f'{image_id} {flag}\n')
            lines['boxes'].append(
                f'{image_id} {float(x0)} {float(y0)} {float(x1 - x0)} '
                f'{float(y1 - y0)}\n')
            splits['train' if flag else 'test'].append(
                (osp.join('images', file), label))
    files = dict(
        images='images.txt',
        labels='image_class_labels.txt',
        split='train_test_split.txt',
        boxes='bounding_boxes.txt')
    for key, name in files.items():
        with open(osp.join(root, name), 'w', encoding='utf-8') as f:
            f.writelines(lines[key])
    with open(osp.join(root, 'classes.txt'), 'w', encoding='utf-8') as f:
        f.writelines(f'{c + 1} {folder}\n' for c, folder in enumerate(folders))
    return dict(data_root=root, classes=classes, **splits)
