# Copyright (c) mmdl contributors. All rights reserved.
"""Miniature ImageNet-1k (ILSVRC 2012) in the layouts read by mmpretrain's
``ImageNet``."""
import os
import os.path as osp

import numpy as np

from .images import class_images, write_jpeg


def write_imagenet(root: str,
                   num_classes: int = 3,
                   train_per_class: int = 2,
                   val_per_class: int = 2,
                   image_size: int = 32,
                   ann_files: bool = True,
                   seed: int = 0) -> dict:
    """Write a miniature ImageNet-1k (ILSVRC 2012) in the layouts read by
    mmpretrain's ``ImageNet`` (``data_root='data/imagenet'``).

    Written under ``root`` (created if needed):

    * ``train/<wnid>/<wnid>_<k>.JPEG``: one folder per class, as in the
      training archive (the last image of the first class is a
      single-channel JPEG, as some ImageNet images are greyscale);
    * with ``ann_files=True`` (mmpretrain's documented preparation, the one
      whose label indices match mmpretrain's checkpoints):
      ``val/ILSVRC2012_val_<8 digits>.JPEG`` in one flat folder, classes
      interleaved, and ``meta/train.txt`` (``<wnid>/<file> <label>``) and
      ``meta/val.txt`` (``<file> <label>``); the label of a wnid is its
      index in the sorted wnids. mmpretrain's ``ImageNet`` reads the
      ``meta`` files when they exist;
    * with ``ann_files=False``: ``val/<wnid>/ILSVRC2012_val_<...>.JPEG``
      (class folders) and no ``meta``. mmpretrain's ``ImageNet`` then takes
      the classes from the folders and insists on 1000 of them unless the
      dataset gets ``metainfo=dict(classes=...)`` with the right number.

    The wnids are made up (``n`` and 8 digits), so that the miniature
    cannot be mistaken for real data; image contents are a colour per class
    plus noise.

    Args:
        root (str): Directory to write into (the ``data_root``).
        num_classes (int): Number of classes. Defaults to 3.
        train_per_class (int): Training images per class. Defaults to 2.
        val_per_class (int): Validation images per class. Defaults to 2.
        image_size (int): Image side in pixels. Defaults to 32.
        ann_files (bool): Write ``meta/*.txt`` and a flat ``val`` folder.
            Defaults to True.
        seed (int): Seed of the random content. Defaults to 0.

    Returns:
        dict: ``data_root`` (str), ``wnids`` (sorted list of str, label
        order), ``train`` and ``val`` (lists of ``(path relative to
        data_root, label)``, in the order of the ``meta`` files, or of the
        sorted class folders and files without them).
    """
    rng = np.random.default_rng(seed)
    os.makedirs(root, exist_ok=True)
    numbers = rng.choice(10**8, num_classes, replace=False)
    wnids = sorted(f'n{n:08d}' for n in numbers)
    image = class_images(rng, num_classes, image_size)

    train = []
    for label, wnid in enumerate(wnids):
        folder = osp.join(root, 'train', wnid)
        os.makedirs(folder, exist_ok=True)
        for k in range(train_per_class):
            name = f'{wnid}_{k + 1}.JPEG'
            img = image(label)
            if label == 0 and k == train_per_class - 1 and k > 0:
                img = img.mean(axis=2).astype(np.uint8)  # greyscale JPEG
            write_jpeg(osp.join(folder, name), img)
            train.append((osp.join('train', wnid, name), label))

    val_labels = rng.permutation(
        np.repeat(np.arange(num_classes), val_per_class)).tolist()
    val = []
    for k, label in enumerate(val_labels):
        name = f'ILSVRC2012_val_{k + 1:08d}.JPEG'
        folder = osp.join(root, 'val') if ann_files else osp.join(
            root, 'val', wnids[label])
        os.makedirs(folder, exist_ok=True)
        write_jpeg(osp.join(folder, name), image(label))
        val.append((osp.relpath(osp.join(folder, name), root), label))

    if ann_files:
        meta = osp.join(root, 'meta')
        os.makedirs(meta, exist_ok=True)
        with open(osp.join(meta, 'train.txt'), 'w', encoding='utf-8') as f:
            f.writelines(f'{osp.relpath(path, "train")} {label}\n'
                         for path, label in train)
        with open(osp.join(meta, 'val.txt'), 'w', encoding='utf-8') as f:
            f.writelines(f'{osp.relpath(path, "val")} {label}\n'
                         for path, label in val)
    else:
        val = sorted(val, key=lambda item: (item[1], item[0]))
    return dict(data_root=root, wnids=wnids, train=train, val=val)
