# Copyright (c) mmdl contributors. All rights reserved.
"""Writers of miniature datasets in their true on-disk formats.

The copies are tiny (a few dozen images) and random, but file names,
directory layout, text formats and pickle contents follow the originals, so
that the real readers (mmdl's, mmpretrain's) are exercised unchanged.
"""
import os
import os.path as osp
import pickle
from typing import Dict, List

import numpy as np
from PIL import Image

#: The 20 CIFAR-100 superclasses (``coarse_label_names``).
CIFAR100_COARSE_NAMES = ('aquatic_mammals', 'fish', 'flowers',
                         'food_containers', 'fruit_and_vegetables',
                         'household_electrical_devices', 'household_furniture',
                         'insects', 'large_carnivores',
                         'large_man-made_outdoor_things',
                         'large_natural_outdoor_scenes',
                         'large_omnivores_and_herbivores', 'medium_mammals',
                         'non-insect_invertebrates', 'people', 'reptiles',
                         'small_mammals', 'trees', 'vehicles_1', 'vehicles_2')


def _write_jpeg(path: str, img: np.ndarray) -> None:
    """Write an HxW (grey) or HxWx3 (RGB) uint8 array as a JPEG file."""
    Image.fromarray(img).save(path, format='JPEG', quality=90)


def _random_box(rng: np.random.Generator, size: int) -> List[int]:
    """A random box ``[x0, y0, x1, y1]`` inside a ``size`` x ``size``
    image."""
    x0, x1 = sorted(rng.choice(size, 2, replace=False).tolist())
    y0, y1 = sorted(rng.choice(size, 2, replace=False).tolist())
    return [x0, y0, x1, y1]


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
    colours = rng.integers(0, 256, (num_classes, 3))

    def image(label: int) -> np.ndarray:
        noise = rng.integers(-40, 41, (image_size, image_size, 3))
        return np.clip(colours[label] + noise, 0, 255).astype(np.uint8)

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
            _write_jpeg(osp.join(image_dir, name), img)
            box = '\t'.join(map(str, _random_box(rng, image_size)))
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
        _write_jpeg(osp.join(val_dir, name), image(label))
        box = '\t'.join(map(str, _random_box(rng, image_size)))
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
        _write_jpeg(
            osp.join(test_dir, name), image(int(rng.integers(num_classes))))
        test.append(osp.join('test', 'images', name))

    return dict(
        data_root=root,
        wnids=wnids,
        classes=classes,
        train=train,
        val=val,
        test=sorted(test))


def _cifar_files(cifar100: bool) -> Dict[str, str]:
    """Folder and file names of mmpretrain's CIFAR10/CIFAR100 classes."""
    from mmpretrain.datasets import CIFAR10, CIFAR100
    cls = CIFAR100 if cifar100 else CIFAR10
    return dict(
        base_folder=cls.base_folder,
        train=[name for name, _ in cls.train_list],
        test=[name for name, _ in cls.test_list],
        meta=cls.meta['filename'])


def write_cifar(root: str,
                cifar100: bool = False,
                num_train: int = 20,
                num_test: int = 10,
                seed: int = 0) -> str:
    """Write a miniature CIFAR-10 or CIFAR-100 in the layout of the
    "python version" archives, as read by mmpretrain's ``CIFAR10`` and
    ``CIFAR100`` (and torchvision's).

    Written under ``root`` (created if needed):

    * CIFAR-10: ``cifar-10-batches-py/data_batch_1`` ... ``data_batch_5``
      (the ``num_train`` images split as evenly as possible over the five
      batches), ``test_batch`` and ``batches.meta``;
    * CIFAR-100: ``cifar-100-python/train``, ``test`` and ``meta``.

    Each batch is a pickled dict (protocol 2) with the keys of the real
    files: ``'data'`` (``uint8`` array of shape (N, 3072): the 1024 red,
    then green, then blue values of a 32x32 image, row by row), ``'labels'``
    (CIFAR-10) or ``'fine_labels'`` and ``'coarse_labels'`` (CIFAR-100;
    coarse labels are ``fine // 5``, not the real superclass map),
    ``'batch_label'`` and ``'filenames'``. The meta files hold
    ``'label_names'`` (with ``'num_cases_per_batch'`` and ``'num_vis'``) or
    ``'fine_label_names'`` and ``'coarse_label_names'``. Keys are ``str``:
    the real files are Python 2 pickles whose ``str`` keys load as ``str``
    under ``encoding='latin1'``, which is how mmpretrain reads them
    (``entry['data']``). Images are random; labels run over all classes
    (``i % num_classes``) in random order.

    mmpretrain's own ``CIFAR10``/``CIFAR100`` compare every file with the
    md5 sums of the original archive and would reject (or, with
    ``download=True``, overwrite) such a copy; load it with mmdl's
    :class:`~mmdl.datasets.CIFAR10` / ``CIFAR100`` and ``verify_md5=False``::

        data_root = write_cifar(tmp_dir)
        dataset = CIFAR10(data_root=data_root, verify_md5=False)

    Args:
        root (str): Directory to write into (the ``data_root``).
        cifar100 (bool): Write CIFAR-100 instead of CIFAR-10. Defaults to
            False.
        num_train (int): Training images. Defaults to 20.
        num_test (int): Test images. Defaults to 10.
        seed (int): Seed of the random content. Defaults to 0.

    Returns:
        str: ``root``, the ``data_root`` to give to mmpretrain's dataset.
    """
    from mmpretrain.datasets.categories import (CIFAR10_CATEGORIES,
                                                CIFAR100_CATEGORIES)
    rng = np.random.default_rng(seed)
    files = _cifar_files(cifar100)
    folder = osp.join(root, files['base_folder'])
    os.makedirs(folder, exist_ok=True)
    num_classes = 100 if cifar100 else 10

    def batch(num: int, batch_label: str, start: int) -> dict:
        labels = rng.permutation(np.arange(num) % num_classes).tolist()
        entry = dict(
            batch_label=batch_label,
            data=rng.integers(0, 256, (num, 3072), dtype=np.uint8),
            filenames=[f'miniature_s_{start + i:06d}.png' for i in range(num)])
        if cifar100:
            entry['fine_labels'] = labels
            entry['coarse_labels'] = [label // 5 for label in labels]
        else:
            entry['labels'] = labels
        return entry

    def dump(name: str, obj: dict) -> None:
        with open(osp.join(folder, name), 'wb') as f:
            pickle.dump(obj, f, protocol=2)

    sizes = [
        len(part)
        for part in np.array_split(np.arange(num_train), len(files['train']))
    ]
    start = 0
    for i, (name, size) in enumerate(zip(files['train'], sizes)):
        dump(name, batch(size, f'training batch {i + 1} of {len(sizes)}',
                         start))
        start += size
    dump(files['test'][0], batch(num_test, 'testing batch 1 of 1', 0))
    if cifar100:
        meta = dict(
            fine_label_names=list(CIFAR100_CATEGORIES),
            coarse_label_names=list(CIFAR100_COARSE_NAMES))
    else:
        meta = dict(
            num_cases_per_batch=max(sizes),
            label_names=list(CIFAR10_CATEGORIES),
            num_vis=3072)
    dump(files['meta'], meta)
    return root


def _idx_bytes(array: np.ndarray, magic: int) -> bytes:
    """An unsigned-byte array in the IDX format: the big-endian ``uint32``
    magic number and sizes, then the data in row-major order."""
    import struct
    header = struct.pack(f'>{1 + array.ndim}I', magic, *array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def write_mnist_idx(root: str,
                    num_train: int = 20,
                    num_test: int = 10,
                    gzip: bool = True,
                    prefix: str = '',
                    image_size: int = 28,
                    seed: int = 0) -> str:
    """Write a miniature MNIST (or Fashion-MNIST) in the IDX format of the
    original files, as read by :class:`mmdl.datasets.PermutedMNIST` and
    mmpretrain's ``MNIST`` (which needs the uncompressed files).

    Written under ``root`` (created if needed), each with ``.gz`` appended
    when ``gzip`` is True:

    * ``[prefix]train-images-idx3-ubyte`` and ``[prefix]t10k-images-idx3-
      ubyte``: magic number 2051 (``0x00000803``: unsigned bytes, three
      dimensions), then the number of images, the rows and the columns as
      big-endian ``uint32``, then the pixels, image by image, row by row;
    * ``[prefix]train-labels-idx1-ubyte`` and ``[prefix]t10k-labels-idx1-
      ubyte``: magic number 2049 (``0x00000801``), the number of labels,
      then one byte per label.

    Images are random ``uint8``; labels run over the ten classes
    (``i % 10``) in random order.

    Args:
        root (str): Directory to write into (the ``data_root``).
        num_train (int): Training images. Defaults to 20.
        num_test (int): Test images. Defaults to 10.
        gzip (bool): Write gzip-compressed ``.gz`` files (as distributed)
            instead of uncompressed ones. Defaults to True.
        prefix (str): Prefix of the four file names. Defaults to ''.
        image_size (int): Image side in pixels. Defaults to 28.
        seed (int): Seed of the random content. Defaults to 0.

    Returns:
        str: ``root``, the ``data_root`` to give to the dataset.
    """
    import gzip as gzip_module
    rng = np.random.default_rng(seed)
    os.makedirs(root, exist_ok=True)
    suffix = '.gz' if gzip else ''
    for part, num in (('train', num_train), ('t10k', num_test)):
        images = rng.integers(
            0, 256, (num, image_size, image_size), dtype=np.uint8)
        labels = rng.permutation(np.arange(num) % 10).astype(np.uint8)
        for kind, array, magic in (('images-idx3', images, 2051),
                                   ('labels-idx1', labels, 2049)):
            data = _idx_bytes(array, magic)
            if gzip:
                data = gzip_module.compress(data)
            path = osp.join(root, f'{prefix}{part}-{kind}-ubyte{suffix}')
            with open(path, 'wb') as f:
                f.write(data)
    return root
