# Copyright (c) mmdl contributors. All rights reserved.
"""Reading IDX files, the format of MNIST and Fashion-MNIST.

An IDX file starts with a big-endian header: the magic number (two zero
bytes, a type code and the number of dimensions ``d``; 2051 for ``uint8``
images, 2049 for ``uint8`` labels), then ``d`` big-endian ``uint32`` sizes,
then the data in row-major order. The files are distributed gzipped
(``.gz``).

:func:`read_idx` checks the header itself, so that a wrong, swapped or
truncated file raises a ValueError naming it, and leaves the decoding to
mmpretrain's ``read_sn3_pascalvincent_tensor``. That reader (and
torchvision's of the same name) reports a bad file only by an empty
AssertionError, and torchvision's does not open ``.gz`` files.
"""
import gzip
import io
import struct
import warnings
from typing import Optional, Tuple

import numpy as np
from mmengine.fileio import exists, get, join_path
from mmpretrain.datasets.mnist import read_sn3_pascalvincent_tensor

#: IDX magic number of image files (unsigned bytes, three dimensions).
IDX_IMAGES_MAGIC = 2051
#: IDX magic number of label files (unsigned bytes, one dimension).
IDX_LABELS_MAGIC = 2049
#: IDX type code -> numpy dtype (big-endian for multi-byte types).
IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype('>i2'),
    0x0C: np.dtype('>i4'),
    0x0D: np.dtype('>f4'),
    0x0E: np.dtype('>f8'),
}
#: Most dimensions mmpretrain's reader decodes.
IDX_MAX_DIMS = 3


def check_idx_header(data: bytes,
                     path: str,
                     magic: Optional[int] = None) -> Tuple[tuple, np.dtype]:
    """Check the header of the IDX bytes ``data`` against their length.

    Args:
        data (bytes): The (decompressed) content of an IDX file.
        path (str): The file, for the error messages.
        magic (int, optional): Expected magic number. Defaults to None (any
            valid one).

    Returns:
        tuple[tuple, np.dtype]: The shape given by the header and the
        (big-endian) dtype of the data.

    Raises:
        ValueError: The header is not an IDX header, is not ``magic``, has
            more than three dimensions, or does not fit the data length;
            the message names ``path``.
    """
    if len(data) < 4:
        raise ValueError(f'{path}: too short for an IDX file')
    found = struct.unpack('>I', data[:4])[0]
    if magic is not None and found != magic:
        raise ValueError(f'{path}: bad IDX magic number {found} (expected '
                         f'{magic})')
    zeros, type_code, ndim = found >> 16, (found >> 8) & 0xFF, found & 0xFF
    if zeros != 0 or type_code not in IDX_DTYPES or ndim == 0:
        raise ValueError(f'{path}: bad IDX magic number {found}')
    if ndim > IDX_MAX_DIMS:
        raise ValueError(f'{path}: {ndim} dimensions; at most '
                         f'{IDX_MAX_DIMS} are supported')
    offset = 4 * (ndim + 1)
    if len(data) < offset:
        raise ValueError(f'{path}: truncated IDX header')
    shape = struct.unpack(f'>{ndim}I', data[4:offset])
    dtype = IDX_DTYPES[type_code]
    count = int(np.prod(shape))
    if len(data) - offset != count * dtype.itemsize:
        raise ValueError(f'{path}: {len(data) - offset} data bytes, but the '
                         f'header gives shape {shape} of {dtype}')
    return shape, dtype


def read_idx(path: str, magic: Optional[int] = None) -> np.ndarray:
    """Read an IDX file of one to three dimensions.

    The file is read with mmengine's file backends (so any backend path
    works) and decompressed when its name ends with ``.gz``; the header is
    checked with :func:`check_idx_header`, the data decoded by mmpretrain's
    ``read_sn3_pascalvincent_tensor``.

    Args:
        path (str): The file (``.gz`` or uncompressed).
        magic (int, optional): Expected magic number; a different one raises
            a ValueError naming the file. Defaults to None (any valid one).

    Returns:
        np.ndarray: A new array in native byte order, shaped by the header.
    """
    data = get(path)
    if path.endswith('.gz'):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as error:
            raise ValueError(
                f'{path}: not a valid gzip file ({error})') from error
    check_idx_header(data, path, magic)
    with warnings.catch_warnings():
        # the decoder wraps the read-only bytes; the copy below owns its data
        warnings.filterwarnings(
            'ignore', message='The given NumPy array is not writable')
        tensor = read_sn3_pascalvincent_tensor(io.BytesIO(data))
    return tensor.numpy().copy()


def find_idx_file(root: str, name: str) -> str:
    """The path of the IDX file ``name`` in ``root``: the uncompressed file
    when it exists, else ``name + '.gz'``.

    Args:
        root (str): The folder of the files.
        name (str): The file name without ``.gz``.

    Returns:
        str: The path of the existing file.

    Raises:
        FileNotFoundError: Neither exists; the message names both.
    """
    path = join_path(root, name)
    for candidate in (path, path + '.gz'):
        if exists(candidate):
            return candidate
    raise FileNotFoundError(f'neither {path} nor {path}.gz exists')
