# Copyright (c) mmdl contributors. All rights reserved.
"""Miniature CIFAR-10 and CIFAR-100 in the layout of the "python version"
archives."""
import os
import os.path as osp
import pickle

import numpy as np

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
#: Folder and file names of the two archives.
CIFAR_FILES = {
    'cifar10':
    dict(
        base_folder='cifar-10-batches-py',
        train=[f'data_batch_{i}' for i in range(1, 6)],
        test=['test_batch'],
        meta='batches.meta'),
    'cifar100':
    dict(
        base_folder='cifar-100-python',
        train=['train'],
        test=['test'],
        meta='meta'),
}


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
    files = CIFAR_FILES['cifar100' if cifar100 else 'cifar10']
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
