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


def _class_images(rng: np.random.Generator, num_classes: int, image_size: int):
    """A function ``image(label)``: an RGB image of a colour per class plus
    noise."""
    colours = rng.integers(0, 256, (num_classes, 3))

    def image(label: int) -> np.ndarray:
        noise = rng.integers(-40, 41, (image_size, image_size, 3))
        return np.clip(colours[label] + noise, 0, 255).astype(np.uint8)

    return image


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
    image = _class_images(rng, num_classes, image_size)

    train = []
    for label, wnid in enumerate(wnids):
        folder = osp.join(root, 'train', wnid)
        os.makedirs(folder, exist_ok=True)
        for k in range(train_per_class):
            name = f'{wnid}_{k + 1}.JPEG'
            img = image(label)
            if label == 0 and k == train_per_class - 1 and k > 0:
                img = img.mean(axis=2).astype(np.uint8)  # greyscale JPEG
            _write_jpeg(osp.join(folder, name), img)
            train.append((osp.join('train', wnid, name), label))

    val_labels = rng.permutation(
        np.repeat(np.arange(num_classes), val_per_class)).tolist()
    val = []
    for k, label in enumerate(val_labels):
        name = f'ILSVRC2012_val_{k + 1:08d}.JPEG'
        folder = osp.join(root, 'val') if ann_files else osp.join(
            root, 'val', wnids[label])
        os.makedirs(folder, exist_ok=True)
        _write_jpeg(osp.join(folder, name), image(label))
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
    image = _class_images(rng, num_classes, image_size)
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
            _write_jpeg(osp.join(root, 'images', file), image(label))
            x0, y0, x1, y1 = _random_box(rng, image_size)
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
    image = _class_images(rng, num_classes, image_size)
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
                _write_jpeg(
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
    image = _class_images(rng, num_classes, image_size)
    labels = rng.permutation(
        np.repeat(np.arange(num_classes), sum(counts.values())))
    numbers = {
        label: (np.flatnonzero(labels == label) + 1).tolist()
        for label in range(num_classes)
    }
    for number, label in enumerate(labels.tolist(), 1):
        _write_jpeg(
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
    image = _class_images(rng, num_classes, image_size)
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
        _write_jpeg(osp.join(root, path), image(label))
        box = _random_box(rng, image_size)
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
