# Copyright (c) mmdl contributors. All rights reserved.
"""Miniature FGVC-Aircraft (2013b) in the layout of the original archive."""
import os
import os.path as osp

import numpy as np

from .images import class_images, write_jpeg


def write_fgvc_aircraft(root: str,
                        num_classes: int = 3,
                        train_per_class: int = 2,
                        val_per_class: int = 1,
                        test_per_class: int = 2,
                        image_size: int = 32,
                        seed: int = 0) -> dict:
    """Write a miniature FGVC-Aircraft (2013b) in the layout of the
    ``fgvc-aircraft-2013b`` archive, as read by mmpretrain's
    ``FGVCAircraft`` (``data_root='data/fgvc-aircraft-2013b'``).

    Written under ``root`` (created if needed):

    * ``data/images/<7 digits>.jpg``;
    * ``data/variants.txt`` (the first ``num_classes`` variant names of
      mmpretrain's ``FGVCAIRCRAFT_CATEGORIES``, one per line);
    * ``data/images_variant_{train,val,trainval,test}.txt``
      (``<image id> <variant name>``, names may contain spaces; trainval
      is train followed by val).

    Args:
        root (str): Directory to write into (the ``data_root``).
        num_classes (int): Number of variants (<= 100). Defaults to 3.
        train_per_class (int): Training images per class. Defaults to 2.
        val_per_class (int): Validation images per class. Defaults to 1.
        test_per_class (int): Test images per class. Defaults to 2.
        image_size (int): Image side in pixels. Defaults to 32.
        seed (int): Seed of the random content. Defaults to 0.

    Returns:
        dict: ``data_root`` (str), ``classes`` (list of str), and for every
        split (``train``, ``val``, ``trainval``, ``test``) a list of
        ``(path relative to data_root, label)`` in file order.
    """
    from mmpretrain.datasets.categories import FGVCAIRCRAFT_CATEGORIES
    if not 0 < num_classes <= len(FGVCAIRCRAFT_CATEGORIES):
        raise ValueError(f'num_classes must be in [1, 100], got '
                         f'{num_classes}')
    rng = np.random.default_rng(seed)
    data = osp.join(root, 'data')
    os.makedirs(osp.join(data, 'images'), exist_ok=True)
    classes = list(FGVCAIRCRAFT_CATEGORIES[:num_classes])
    image = class_images(rng, num_classes, image_size)
    counts = dict(
        train=train_per_class, val=val_per_class, test=test_per_class)
    total = num_classes * sum(counts.values())
    ids = iter(sorted(rng.choice(10**7, total, replace=False).tolist()))
    splits = {}
    for split, per_class in counts.items():
        items = []
        for label in range(num_classes):
            for _ in range(per_class):
                image_id = f'{next(ids):07d}'
                write_jpeg(
                    osp.join(data, 'images', f'{image_id}.jpg'), image(label))
                items.append((image_id, label))
        splits[split] = [items[i] for i in rng.permutation(len(items))]
    splits['trainval'] = splits['train'] + splits['val']
    with open(osp.join(data, 'variants.txt'), 'w', encoding='utf-8') as f:
        f.writelines(f'{name}\n' for name in classes)
    result = dict(data_root=root, classes=classes)
    for split, items in splits.items():
        with open(
                osp.join(data, f'images_variant_{split}.txt'),
                'w',
                encoding='utf-8') as f:
            f.writelines(f'{image_id} {classes[label]}\n'
                         for image_id, label in items)
        result[split] = [(osp.join('data', 'images', f'{image_id}.jpg'), label)
                         for image_id, label in items]
    return result
