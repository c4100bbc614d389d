# Copyright (c) mmdl contributors. All rights reserved.
"""Miniature MNIST / Fashion-MNIST in the IDX format of the original
files."""
import gzip as gzip_module
import os
import os.path as osp
import struct

import numpy as np

#: (numpy kind, item size) -> IDX type code.
IDX_TYPE_CODES = {
    ('u', 1): 0x08,
    ('i', 1): 0x09,
    ('i', 2): 0x0B,
    ('i', 4): 0x0C,
    ('f', 4): 0x0D,
    ('f', 8): 0x0E,
}


def idx_bytes(array: np.ndarray) -> bytes:
    """An array in the IDX format.

    The magic number (two zero bytes, the type code of the dtype, the
    number of dimensions) and the sizes as big-endian ``uint32``, then the
    data in row-major order, big-endian.

    Args:
        array (np.ndarray): uint8, int8, int16, int32, float32 or float64
            array of at least one dimension.

    Returns:
        bytes: The content of the IDX file.
    """
    array = np.asarray(array)
    key = (array.dtype.kind, array.dtype.itemsize)
    if key not in IDX_TYPE_CODES or array.ndim == 0:
        raise ValueError(f'no IDX type for a {array.ndim}-d {array.dtype} '
                         'array')
    magic = (IDX_TYPE_CODES[key] << 8) | array.ndim
    header = struct.pack(f'>{1 + array.ndim}I', magic, *array.shape)
    data = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder('>'))
    return header + data.tobytes()


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
    rng = np.random.default_rng(seed)
    os.makedirs(root, exist_ok=True)
    suffix = '.gz' if gzip else ''
    for part, num in (('train', num_train), ('t10k', num_test)):
        images = rng.integers(
            0, 256, (num, image_size, image_size), dtype=np.uint8)
        labels = rng.permutation(np.arange(num) % 10).astype(np.uint8)
        for kind, array in (('images-idx3', images), ('labels-idx1', labels)):
            data = idx_bytes(array)
            if gzip:
                data = gzip_module.compress(data)
            path = osp.join(root, f'{prefix}{part}-{kind}-ubyte{suffix}')
            with open(path, 'wb') as f:
                f.write(data)
    return root
