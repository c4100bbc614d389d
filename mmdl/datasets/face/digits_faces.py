# Copyright (c) mmdl contributors. All rights reserved.
"""A miniature face-recognition set in the real formats, made from
scikit-learn's bundled digits, for quick configs and demos."""
import os
import os.path as osp
import shutil
import tempfile
from typing import Dict

import cv2
import numpy as np

from mmdl.registry import FUNCTIONS

#: What :func:`write_digits_face_set` writes into its folder.
DIGITS_FACE_FILES = ('train.rec', 'train.idx', 'property', 'heldout.bin',
                     'heldout_pairs.txt')


def _render(image: np.ndarray, size: int) -> bytes:
    """An 8x8 digit (0-16) as a ``size`` x ``size`` 3-channel PNG."""
    grey = np.rint(image * (255.0 / 16.0)).astype(np.uint8)
    big = cv2.resize(grey, (size, size), interpolation=cv2.INTER_LINEAR)
    ok, data = cv2.imencode('.png', cv2.cvtColor(big, cv2.COLOR_GRAY2BGR))
    assert ok
    return data.tobytes()


@FUNCTIONS.register_module()
def write_digits_face_set(data_root: str,
                          size: int = 112,
                          num_pairs: int = 300,
                          seed: int = 0) -> Dict[str, str]:
    """Write scikit-learn's digits as a face-recognition set, each digit
    an "identity", rendered to ``size`` x ``size``:

    * ``train.rec``, ``train.idx``, ``property``: the 1,437 images of the
      digits' training split in insightface's RecordIO layout (10 classes,
      :func:`~mmdl.datasets.face.write_rec`);
    * ``heldout/<digit>/<i>.png``, ``heldout_pairs.txt`` and
      ``heldout.bin``: the 360 test-split images as an image folder, a pairs
      list of ``num_pairs`` pairs (half of one digit, half of two; drawn
      with ``seed``) and the ``.bin`` set made from them by
      :func:`~mmdl.datasets.face.make_bin` (the tool
      ``tools/dataset_converters/make_bin.py``).

    Nothing is written when the files exist. The set is written into a
    temporary folder and moved into place, so concurrent processes (ranks,
    workers) never see half a set.

    Args:
        data_root (str): The folder (the cache directory of a config).
        size (int): Image side. Defaults to 112.
        num_pairs (int): Verification pairs. Defaults to 300.
        seed (int): Seed of the pairs. Defaults to 0.

    Returns:
        dict: Paths of ``rec``, ``idx``, ``property`` and ``bin``.
    """
    from mmdl.datasets.digits import NUM_TEST, _read_digits
    from .bin_writer import make_bin
    from .converters import write_rec
    paths = {name: osp.join(data_root, name) for name in DIGITS_FACE_FILES}
    result = dict(
        rec=paths['train.rec'],
        idx=paths['train.idx'],
        property=paths['property'],
        bin=paths['heldout.bin'])
    if all(osp.isfile(p) for p in paths.values()):
        return result
    images, labels = _read_digits()
    train = len(images) - NUM_TEST
    parent = osp.dirname(osp.abspath(data_root))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix='.digits_faces_', dir=parent)
    try:
        by_class = [[] for _ in range(10)]
        for img, label in zip(images[:train], labels[:train]):
            by_class[int(label)].append(_render(img, size))
        write_rec(tmp, by_class)
        names = []
        for i, (img, label) in enumerate(zip(images[train:],
                                             labels[train:])):
            name = f'{int(label)}/{i:03d}.png'
            os.makedirs(osp.join(tmp, 'heldout', str(int(label))),
                        exist_ok=True)
            with open(osp.join(tmp, 'heldout', name), 'wb') as f:
                f.write(_render(img, size))
            names.append((name, int(label)))
        rng = np.random.default_rng(seed)
        by_label = {d: [n for n, l in names if l == d] for d in range(10)}
        pairs = []
        for k in range(num_pairs):
            if k % 2 == 0:  # same digit
                digit = int(rng.integers(10))
                a, b = rng.choice(len(by_label[digit]), 2, replace=False)
                pairs.append((by_label[digit][a], by_label[digit][b], True))
            else:
                d1, d2 = rng.choice(10, 2, replace=False)
                pairs.append((by_label[int(d1)][rng.integers(
                    len(by_label[int(d1)]))], by_label[int(d2)][rng.integers(
                        len(by_label[int(d2)]))], False))
        with open(osp.join(tmp, 'heldout_pairs.txt'), 'w') as f:
            f.writelines(f'{a} {b} {int(s)}\n' for a, b, s in pairs)
        make_bin(pairs, osp.join(tmp, 'heldout'),
                 osp.join(tmp, 'heldout.bin'), size=size)
        os.chmod(tmp, 0o755)  # mkdtemp made it private
        try:
            os.rename(tmp, data_root)
        except OSError:
            if not all(osp.isfile(p) for p in paths.values()):
                raise
            # another process moved its copy into place first
    finally:
        if osp.isdir(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
    return result


def prepare_data(prepare, data_root: str) -> None:
    """Run a dataset's ``prepare`` step: a function of the ``FUNCTIONS``
    registry (e.g. ``dict(type='write_digits_face_set')``) called with
    ``data_root`` and the dict's other keys, or a callable."""
    if prepare is None:
        return
    if callable(prepare):
        prepare(data_root)
        return
    cfg = dict(prepare)
    cfg.setdefault('data_root', data_root)
    FUNCTIONS.build(cfg)
