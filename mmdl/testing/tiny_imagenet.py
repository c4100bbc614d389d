# Copyright (c) mmdl contributors. All rights reserved.
"""Miniature Tiny ImageNet (CS231N) in the layout of the original archive."""
import os
import os.path as osp

import numpy as np

from .images import class_images, random_box, write_jpeg


def write_tiny_imagenet(root: str,
                        num_classes: int = 3,
                        train_per_class: int = 4,
                        val_per_class: int = 2,
                        test_images: int = 2,
                        image_size: int = 64,
                        seed: int = 0) -> dict:
    """Write a miniature Tiny ImageNet (CS231N) in the layout of the
    original ``tiny-imagenet-200`` archive (see
    :class:`mmdl.datasets.TinyImageNet`).

    Written under ``root`` (created if needed):

    * ``wnids.txt``: the wnids (``n`` and 8 digits), one per line, in an
      order that is *not* sorted, as in the real file, so that readers that
      sort the wnids get the labels wrong;
    * ``words.txt``: ``wnid<TAB>names`` for every wnid plus a few unrelated
      wnids, as the real file lists all ImageNet synsets;
    * ``train/<wnid>/images/<wnid>_<k>.JPEG`` and
      ``train/<wnid>/<wnid>_boxes.txt`` (``file<TAB>x0<TAB>y0<TAB>x1<TAB>y1``);
    * ``val/images/val_<k>.JPEG`` and ``val/val_annotations.txt``
      (``file<TAB>wnid<TAB>x0<TAB>y0<TAB>x1<TAB>y1``), classes interleaved
      in random order;
    * ``test/images/test_<k>.JPEG``.

    Images are real JPEG files of ``image_size`` x ``image_size`` pixels: a
    colour per class plus noise. As in the real data set, where some images
    are greyscale, the last training image of the first class is a
    single-channel JPEG (when ``train_per_class >= 2``).

    Args:
        root (str): Directory to write into (the ``data_root``).
        num_classes (int): Number of classes. Defaults to 3.
        train_per_class (int): Training images per class. Defaults to 4.
        val_per_class (int): Validation images per class. Defaults to 2.
        test_images (int): Unlabelled test images. Defaults to 2.
        image_size (int): Image side in pixels. Defaults to 64.
        seed (int): Seed of the random content. Defaults to 0.

    Returns:
        dict: ``data_root`` (str); ``wnids`` (list of str, class-index
        order); ``classes`` (list of str, the names in ``words.txt``);
        ``train`` and ``val`` (lists of ``(path relative to data_root,
        label)``; ``train`` class by class with each class's files sorted by
        name, ``val`` in the order of ``val_annotations.txt``); ``test``
        (sorted relative paths).
    """
    rng = np.random.default_rng(seed)
    os.makedirs(root, exist_ok=True)
    numbers = rng.choice(10**8, num_classes + 2, replace=False)
    all_wnids = [f'n{n:08d}' for n in numbers]
    extra_wnids = all_wnids[num_classes:]
    wnids = sorted(all_wnids[:num_classes])
    wnids = wnids[1:] + wnids[:1]  # a rotation: not in sorted order
    classes = [
        f'class {i} of {wnid}, miniature' for i, wnid in enumerate(wnids)
    ]
    image = class_images(rng, num_classes, image_size)

    with open(osp.join(root, 'wnids.txt'), 'w', encoding='utf-8') as f:
        f.writelines(f'{wnid}\n' for wnid in wnids)
    with open(osp.join(root, 'words.txt'), 'w', encoding='utf-8') as f:
        f.write(f'{extra_wnids[0]}\tunrelated synset\n')
        f.writelines(f'{wnid}\t{name}\n'
                     for wnid, name in zip(wnids[::-1], classes[::-1]))
        f.write(f'{extra_wnids[1]}\tanother, unrelated synset\n')

    train = []
    for label, wnid in enumerate(wnids):
        image_dir = osp.join(root, 'train', wnid, 'images')
        os.makedirs(image_dir, exist_ok=True)
        names = [f'{wnid}_{k}.JPEG' for k in range(train_per_class)]
        boxes = []
        for k, name in enumerate(names):
            img = image(label)
            if label == 0 and k == train_per_class - 1 and k > 0:
                img = img.mean(axis=2).astype(np.uint8)  # greyscale JPEG
            write_jpeg(osp.join(image_dir, name), img)
            box = '\t'.join(map(str, random_box(rng, image_size)))
            boxes.append(f'{name}\t{box}\n')
        with open(
                osp.join(root, 'train', wnid, f'{wnid}_boxes.txt'),
                'w',
                encoding='utf-8') as f:
            f.writelines(boxes)
        train.extend((osp.join('train', wnid, 'images', name), label)
                     for name in sorted(names))

    val_dir = osp.join(root, 'val', 'images')
    os.makedirs(val_dir, exist_ok=True)
    val_labels = rng.permutation(
        np.repeat(np.arange(num_classes), val_per_class)).tolist()
    val, lines = [], []
    for k, label in enumerate(val_labels):
        name = f'val_{k}.JPEG'
        write_jpeg(osp.join(val_dir, name), image(label))
        box = '\t'.join(map(str, random_box(rng, image_size)))
        lines.append(f'{name}\t{wnids[label]}\t{box}\n')
        val.append((osp.join('val', 'images', name), label))
    with open(
            osp.join(root, 'val', 'val_annotations.txt'), 'w',
            encoding='utf-8') as f:
        f.writelines(lines)

    test_dir = osp.join(root, 'test', 'images')
    os.makedirs(test_dir, exist_ok=True)
    test = []
    for k in range(test_images):
        name = f'test_{k}.JPEG'
        write_jpeg(
            osp.join(test_dir, name), image(int(rng.integers(num_classes))))
        test.append(osp.join('test', 'images', name))

    return dict(
        data_root=root,
        wnids=wnids,
        classes=classes,
        train=train,
        val=val,
        test=sorted(test))
