# Copyright (c) mmdl contributors. All rights reserved.
"""Domain-incremental image sequences: permuted and rotated digits.

Every task of a sequence holds the same images and labels, transformed by a
fixed, task-specific map that is applied once, vectorised, to the whole
image stack when the data list is loaded:

* **Permuted** (:class:`PermutedDigits`, :class:`PermutedMNIST`,
  :class:`PermutedFashionMNIST`): task ``t`` shuffles the pixels with
  :func:`task_permutation` ``(t, H*W, seed_base)``. Task 0 is the identity
  (the original images); task ``t >= 1`` uses
  ``np.random.default_rng(seed_base + t).permutation(H * W)``, so a task's
  permutation depends only on ``t`` (and ``seed_base``), never on the split,
  the process or the order in which tasks are built. With the
  permutation ``perm``, pixel ``i`` of the flattened (row-major) result is
  pixel ``perm[i]`` of the original: ``out.reshape(N, -1)[:, i] ==
  img.reshape(N, -1)[:, perm[i]]``.
* **Rotated** (:class:`RotatedMNIST`, :class:`RotatedDigits`): task ``t``
  rotates every image by ``angles[t]`` degrees (default ``10 * t``)
  counter-clockwise as displayed (row 0 at the top, like ``np.rot90`` and
  torchvision's ``rotate``), about the image centre, with bilinear
  interpolation and zeros outside; see :func:`rotate_images`.

Every sample dict carries ``task_id`` (int); keep it through the pipeline
with ``dict(type='mmpretrain.PackInputs', algorithm_keys=['task_id'])``, which
sets ``data_sample.task_id``. ``metainfo['task_id']`` holds it as well.

MNIST and Fashion-MNIST are read from their IDX files (``.gz`` or
uncompressed) with :func:`read_idx`; nothing is downloaded.
"""
import gzip
import math
import struct
from typing import List, Optional, Sequence

import numpy as np
from mmengine.fileio import exists, get, join_path
from mmpretrain.datasets import BaseDataset
from mmpretrain.datasets.categories import (FASHIONMNIST_CATEGORITES,
                                            MNIST_CATEGORITES)

from mmdl.registry import DATASETS
from ..digits import DigitsDataset

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
#: Where Debian's ``dataset-fashion-mnist`` package installs the IDX files.
FASHION_MNIST_DEBIAN_ROOT = '/usr/share/datasets/fashion-mnist'
#: Images rotated at once by :func:`rotate_images` (bounds the memory).
ROTATION_CHUNK = 8192


def check_task_id(owner: str,
                  task_id: int,
                  num_tasks: Optional[int] = None) -> int:
    """Check that ``task_id`` is an int in ``[0, num_tasks)``.

    Args:
        owner (str): Name for the error message (the dataset class).
        task_id (int): The task index to check.
        num_tasks (int, optional): Number of tasks. Defaults to None (no
            upper bound).

    Returns:
        int: ``task_id`` as a Python int.
    """
    is_int = isinstance(task_id, (int, np.integer))
    if is_int and not isinstance(task_id, bool) and 0 <= task_id and (
            num_tasks is None or task_id < num_tasks):
        return int(task_id)
    bound = '' if num_tasks is None else f' and < {num_tasks}'
    raise ValueError(f'{owner}: task_id must be an int >= 0{bound}, got '
                     f'{task_id!r}')


def task_permutation(task_id: int,
                     num_pixels: int,
                     seed_base: int = 0) -> np.ndarray:
    """The pixel permutation of task ``task_id``.

    Task 0 is the identity; task ``t >= 1`` is
    ``np.random.default_rng(seed_base + t).permutation(num_pixels)``.

    Args:
        task_id (int): Index of the task, ``>= 0``.
        num_pixels (int): Pixels per image, ``H * W``.
        seed_base (int): Offset of the seeds. Defaults to 0.

    Returns:
        np.ndarray: int64 array of shape (num_pixels, ).
    """
    if task_id < 0:
        raise ValueError(f'task_id must be >= 0, got {task_id}')
    if task_id == 0:
        return np.arange(num_pixels, dtype=np.int64)
    rng = np.random.default_rng(seed_base + task_id)
    return rng.permutation(num_pixels).astype(np.int64)


def permute_pixels(images: np.ndarray, permutation: np.ndarray) -> np.ndarray:
    """Shuffle the pixels of a stack of images, all with one permutation.

    Pixel ``i`` of each flattened (row-major) result is pixel
    ``permutation[i]`` of the original; channels (trailing axes) move with
    their pixel.

    Args:
        images (np.ndarray): Array of shape (N, H, W) or (N, H, W, C).
        permutation (np.ndarray): Permutation of ``range(H * W)``.

    Returns:
        np.ndarray: A new array of the shape and dtype of ``images``.
    """
    n, h, w = images.shape[:3]
    if len(permutation) != h * w:
        raise ValueError(f'a permutation of {len(permutation)} pixels does '
                         f'not fit images of {h}x{w} pixels')
    flat = images.reshape(n, h * w, *images.shape[3:])
    return np.ascontiguousarray(flat[:, permutation].reshape(images.shape))


def rotate_images(images: np.ndarray, angle: float) -> np.ndarray:
    """Rotate a stack of images by one angle, vectorised.

    The rotation is counter-clockwise as displayed (row 0 at the top; the
    convention of ``np.rot90`` and torchvision's ``rotate``) about the image
    centre, keeps the size, samples bilinearly (``torch.nn.functional.
    grid_sample``, ``align_corners=False``) and fills with 0 outside the
    original image. Multiples of 90 degrees on square images are exact
    permutations of the pixels; an angle of 0 returns an unchanged copy.
    Integer images are rounded and clipped back to their dtype.

    Args:
        images (np.ndarray): Array of shape (N, H, W) or (N, H, W, C).
        angle (float): Angle in degrees.

    Returns:
        np.ndarray: A new array of the shape and dtype of ``images``.
    """
    import torch
    import torch.nn.functional as F
    if float(angle) % 360.0 == 0.0:
        return images.copy()
    n, h, w = images.shape[:3]
    stack = np.ascontiguousarray(images).reshape(n, h, w, -1)
    result = np.empty_like(stack)
    rad = math.radians(float(angle))
    cos, sin = math.cos(rad), math.sin(rad)
    # maps output to input coordinates, normalised to [-1, 1] per axis
    # (x to the right, y downwards); the aspect ratio rescales the shear terms
    theta = torch.tensor([[cos, -sin * h / w, 0.0], [sin * w / h, cos, 0.0]])
    for start in range(0, n, ROTATION_CHUNK):
        part = torch.from_numpy(stack[start:start + ROTATION_CHUNK]).permute(
            0, 3, 1, 2).to(torch.float32)
        grid = F.affine_grid(
            theta.expand(len(part), 2, 3),
            list(part.shape),
            align_corners=False)
        rotated = F.grid_sample(
            part,
            grid,
            mode='bilinear',
            padding_mode='zeros',
            align_corners=False).permute(0, 2, 3, 1).numpy()
        if np.issubdtype(images.dtype, np.integer):
            info = np.iinfo(images.dtype)
            rotated = np.clip(np.rint(rotated), info.min, info.max)
        result[start:start + ROTATION_CHUNK] = rotated
    return result.reshape(images.shape)


def read_idx(path: str, magic: Optional[int] = None) -> np.ndarray:
    """Read an IDX file (the format of MNIST and Fashion-MNIST).

    The file starts with a big-endian header: the magic number (two zero
    bytes, a type code and the number of dimensions ``d``; 2051 for
    ``uint8`` images, 2049 for ``uint8`` labels), then ``d`` big-endian
    ``uint32`` sizes, then the data in row-major order. Files whose name
    ends with ``.gz`` are decompressed.

    Args:
        path (str): The file (``.gz`` or uncompressed).
        magic (int, optional): Expected magic number; a different one raises
            a ValueError naming the file. Defaults to None (any valid one).

    Returns:
        np.ndarray: The data, in native byte order, shaped by the header.
    """
    data = get(path)
    if path.endswith('.gz'):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as error:
            raise ValueError(
                f'{path}: not a valid gzip file ({error})') from error
    if len(data) < 4:
        raise ValueError(f'{path}: too short for an IDX file')
    found = struct.unpack('>I', data[:4])[0]
    if magic is not None and found != magic:
        raise ValueError(f'{path}: bad IDX magic number {found} (expected '
                         f'{magic})')
    zeros, type_code, ndim = found >> 16, (found >> 8) & 0xFF, found & 0xFF
    if zeros != 0 or type_code not in IDX_DTYPES or ndim == 0:
        raise ValueError(f'{path}: bad IDX magic number {found}')
    offset = 4 * (ndim + 1)
    if len(data) < offset:
        raise ValueError(f'{path}: truncated IDX header')
    shape = struct.unpack(f'>{ndim}I', data[4:offset])
    dtype = IDX_DTYPES[type_code]
    count = int(np.prod(shape))
    if len(data) - offset != count * dtype.itemsize:
        raise ValueError(f'{path}: {len(data) - offset} data bytes, but the '
                         f'header gives shape {shape} of {dtype}')
    array = np.frombuffer(data, dtype=dtype, count=count, offset=offset)
    return array.reshape(shape).astype(dtype.newbyteorder('='))


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


class _TaskImagesMixin:
    """Tag every sample with ``task_id`` after transforming the stack of all
    images at once with :meth:`transform_images`.

    Put it before a dataset class whose ``load_data_list`` returns dicts
    with ``img`` arrays of one shape. ``_init_task`` must be called before
    the dataset's ``__init__``.
    """

    def _init_task(self, task_id: int, metainfo: Optional[dict]) -> dict:
        """Check and store ``task_id``; return the metainfo to use."""
        self.task_id = check_task_id(type(self).__name__, task_id)
        return {**(metainfo or {}), 'task_id': self.task_id}

    def transform_images(self, images: np.ndarray) -> np.ndarray:
        """Map the (N, H, W[, C]) stack of the task's images."""
        return images

    def load_data_list(self) -> List[dict]:
        """Load the images, transform them and tag them with ``task_id``.

        Returns:
            list[dict]: The samples of the base dataset with transformed
            ``img`` and ``task_id`` (int).
        """
        data_list = super().load_data_list()
        if not data_list:
            return data_list
        images = self.transform_images(
            np.stack([info['img'] for info in data_list]))
        for info, img in zip(data_list, images):
            info['img'] = img
            info['task_id'] = self.task_id
        return data_list


class _PermutedMixin(_TaskImagesMixin):
    """Shuffle the pixels with :func:`task_permutation` of the task."""

    def transform_images(self, images: np.ndarray) -> np.ndarray:
        """Permute the pixels of every image with the task's permutation."""
        h, w = images.shape[1:3]
        self.permutation = task_permutation(self.task_id, h * w,
                                            self.seed_base)
        return permute_pixels(images, self.permutation)


class _RotatedMixin(_TaskImagesMixin):
    """Rotate the images by the angle of the task."""

    #: Degrees per task when ``angles`` is not given.
    ANGLE_STEP = 10.0

    def _init_angle(self, angles: Optional[Sequence[float]]) -> None:
        """Store the angle of ``self.task_id``."""
        if angles is None:
            self.angle = self.ANGLE_STEP * self.task_id
        elif self.task_id >= len(angles):
            raise ValueError(f'{type(self).__name__}: task_id={self.task_id} '
                             f'but only {len(angles)} angles are given')
        else:
            self.angle = float(angles[self.task_id])

    def transform_images(self, images: np.ndarray) -> np.ndarray:
        """Rotate every image by the task's angle."""
        return rotate_images(images, self.angle)


class _MNISTFiles(BaseDataset):
    """MNIST-style IDX files of one folder (not registered).

    Reads ``[file_prefix]train-images-idx3-ubyte`` and
    ``[file_prefix]train-labels-idx1-ubyte`` (``split='train'``) or the
    ``t10k-`` files (``split='test'``) from ``data_root``, each
    uncompressed or with ``.gz`` (the uncompressed file is preferred).
    Samples are ``img`` (uint8, H x W from the header) and ``gt_label``
    (int), in file order.
    """

    METAINFO = {'classes': MNIST_CATEGORITES}
    SPLITS = ('train', 'test')
    #: File stems of a split: (images, labels).
    FILES = {
        'train': ('train-images-idx3-ubyte', 'train-labels-idx1-ubyte'),
        'test': ('t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'),
    }

    def __init__(self,
                 data_root: str = '',
                 split: str = 'train',
                 file_prefix: str = '',
                 metainfo: Optional[dict] = None,
                 **kwargs) -> None:
        name = type(self).__name__
        if split not in self.SPLITS:
            raise ValueError(f'{name}: split={split!r} is not one of '
                             f'{self.SPLITS}')
        if not data_root:
            raise ValueError(f'{name}: data_root (the folder of the IDX '
                             'files) is not set')
        self.split = split
        self.file_prefix = file_prefix
        kwargs.setdefault('ann_file', '')
        super().__init__(metainfo=metainfo, data_root=data_root, **kwargs)

    def load_data_list(self) -> List[dict]:
        """Read the images and labels of the split.

        Returns:
            list[dict]: One dict per image with ``img`` (uint8, H x W) and
            ``gt_label`` (int).
        """
        name = type(self).__name__
        paths = []
        for stem in self.FILES[self.split]:
            try:
                paths.append(
                    find_idx_file(self.data_root, self.file_prefix + stem))
            except FileNotFoundError as error:
                raise FileNotFoundError(f'{name}: {error}') from None
        images = read_idx(paths[0], IDX_IMAGES_MAGIC)
        labels = read_idx(paths[1], IDX_LABELS_MAGIC)
        if len(images) != len(labels):
            raise ValueError(f'{name}: {len(images)} images in {paths[0]} '
                             f'but {len(labels)} labels in {paths[1]}')
        return [
            dict(img=img, gt_label=label)
            for img, label in zip(images,
                                  labels.astype(np.int64).tolist())
        ]

    def extra_repr(self) -> List[str]:
        """The extra repr information of the dataset."""
        return [f'Data root: \t{self.data_root}', f'Split: \t{self.split}']


@DATASETS.register_module()
class PermutedDigits(_PermutedMixin, DigitsDataset):
    """Permuted digits: :class:`~mmdl.datasets.DigitsDataset` (8x8, fixed
    split) with the pixels of every image shuffled by the task's
    permutation.

    Task 0 is the identity; task ``t >= 1`` uses
    ``np.random.default_rng(seed_base + t).permutation(64)``, the same for
    both splits (see :func:`task_permutation` and :func:`permute_pixels`;
    the permutation is kept as ``self.permutation`` once loaded).

    Args:
        split (str): ``'train'`` or ``'test'``. Defaults to ``'train'``.
        task_id (int): Index of the task, ``>= 0``; set as ``task_id`` on
            every sample and in the metainfo. Defaults to 0.
        seed_base (int): Offset of the permutation seeds. Defaults to 0.
        **kwargs: Other arguments of :class:`~mmdl.datasets.DigitsDataset`.
    """

    def __init__(self,
                 split: str = 'train',
                 task_id: int = 0,
                 seed_base: int = 0,
                 metainfo: Optional[dict] = None,
                 **kwargs) -> None:
        metainfo = self._init_task(task_id, metainfo)
        self.seed_base = seed_base
        super().__init__(split=split, metainfo=metainfo, **kwargs)


@DATASETS.register_module()
class PermutedMNIST(_PermutedMixin, _MNISTFiles):
    """Permuted MNIST (Goodfellow et al., 2013; Kirkpatrick et al., 2017),
    read from the IDX files of MNIST.

    ``data_root`` holds ``train-images-idx3-ubyte``,
    ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte`` and
    ``t10k-labels-idx1-ubyte``, each uncompressed or as ``.gz`` (the
    layout of the original archive and of mmpretrain's ``MNIST``); nothing
    is downloaded and a missing file is reported by name. Images are uint8
    arrays of 28x28 pixels (the size of the header).

    Task 0 is the identity (plain MNIST); task ``t >= 1`` uses
    ``np.random.default_rng(seed_base + t).permutation(H * W)``, the same for
    both splits (see :func:`task_permutation` and :func:`permute_pixels`;
    the permutation is kept as ``self.permutation`` once loaded).

    Args:
        data_root (str): Folder of the IDX files.
        split (str): ``'train'`` (60,000 images) or ``'test'`` (10,000).
            Defaults to ``'train'``.
        task_id (int): Index of the task, ``>= 0``; set as ``task_id`` on
            every sample and in the metainfo. Defaults to 0.
        seed_base (int): Offset of the permutation seeds. Defaults to 0.
        file_prefix (str): Prefix of the four file names. Defaults to ''.
        **kwargs: Other arguments of :class:`mmpretrain.datasets.BaseDataset`
            (``pipeline``, ``indices``, ``test_mode``, ...).
    """

    def __init__(self,
                 data_root: str = '',
                 split: str = 'train',
                 task_id: int = 0,
                 seed_base: int = 0,
                 file_prefix: str = '',
                 metainfo: Optional[dict] = None,
                 **kwargs) -> None:
        metainfo = self._init_task(task_id, metainfo)
        self.seed_base = seed_base
        super().__init__(
            data_root=data_root,
            split=split,
            file_prefix=file_prefix,
            metainfo=metainfo,
            **kwargs)


@DATASETS.register_module()
class PermutedFashionMNIST(PermutedMNIST):
    """Permuted Fashion-MNIST, read from the IDX files of Fashion-MNIST.

    As :class:`PermutedMNIST` (same file names, permutations and
    arguments) with the Fashion-MNIST classes. ``data_root`` defaults to
    ``/usr/share/datasets/fashion-mnist``, where Debian's
    ``dataset-fashion-mnist`` package (``apt-get install
    dataset-fashion-mnist``) installs ``train-images-idx3-ubyte.gz``,
    ``train-labels-idx1-ubyte.gz``, ``t10k-images-idx3-ubyte.gz`` and
    ``t10k-labels-idx1-ubyte.gz``.

    Args:
        data_root (str): Folder of the IDX files. Defaults to
            ``'/usr/share/datasets/fashion-mnist'``.
        split (str): ``'train'`` (60,000 images) or ``'test'`` (10,000).
            Defaults to ``'train'``.
        task_id (int): Index of the task, ``>= 0``. Defaults to 0.
        seed_base (int): Offset of the permutation seeds. Defaults to 0.
        **kwargs: Other arguments of :class:`PermutedMNIST`.
    """

    METAINFO = {'classes': FASHIONMNIST_CATEGORITES}

    def __init__(self,
                 data_root: str = FASHION_MNIST_DEBIAN_ROOT,
                 split: str = 'train',
                 task_id: int = 0,
                 seed_base: int = 0,
                 **kwargs) -> None:
        super().__init__(
            data_root=data_root,
            split=split,
            task_id=task_id,
            seed_base=seed_base,
            **kwargs)


@DATASETS.register_module()
class RotatedMNIST(_RotatedMixin, _MNISTFiles):
    """Rotated MNIST, read from the IDX files of MNIST (layout as in
    :class:`PermutedMNIST`).

    Task ``t`` rotates every image (both splits) by ``angles[t]`` degrees,
    or ``10 * t`` degrees when ``angles`` is None (task 0: the original
    images), counter-clockwise as displayed, about the centre, bilinearly,
    filling with 0 (see :func:`rotate_images`). The angle is kept as
    ``self.angle``.

    Args:
        data_root (str): Folder of the IDX files.
        split (str): ``'train'`` or ``'test'``. Defaults to ``'train'``.
        task_id (int): Index of the task, ``>= 0``; set as ``task_id`` on
            every sample and in the metainfo. Defaults to 0.
        angles (Sequence[float], optional): Angle of every task in degrees.
            Defaults to None (``10 * task_id``).
        file_prefix (str): Prefix of the four file names. Defaults to ''.
        **kwargs: Other arguments of :class:`mmpretrain.datasets.BaseDataset`.
    """

    def __init__(self,
                 data_root: str = '',
                 split: str = 'train',
                 task_id: int = 0,
                 angles: Optional[Sequence[float]] = None,
                 file_prefix: str = '',
                 metainfo: Optional[dict] = None,
                 **kwargs) -> None:
        metainfo = self._init_task(task_id, metainfo)
        self._init_angle(angles)
        super().__init__(
            data_root=data_root,
            split=split,
            file_prefix=file_prefix,
            metainfo=metainfo,
            **kwargs)


@DATASETS.register_module()
class RotatedDigits(_RotatedMixin, DigitsDataset):
    """Rotated digits: :class:`~mmdl.datasets.DigitsDataset` (8x8, fixed
    split) rotated by the task's angle, as in :class:`RotatedMNIST`.

    Args:
        split (str): ``'train'`` or ``'test'``. Defaults to ``'train'``.
        task_id (int): Index of the task, ``>= 0``. Defaults to 0.
        angles (Sequence[float], optional): Angle of every task in degrees.
            Defaults to None (``10 * task_id``).
        **kwargs: Other arguments of :class:`~mmdl.datasets.DigitsDataset`.
    """

    def __init__(self,
                 split: str = 'train',
                 task_id: int = 0,
                 angles: Optional[Sequence[float]] = None,
                 metainfo: Optional[dict] = None,
                 **kwargs) -> None:
        metainfo = self._init_task(task_id, metainfo)
        self._init_angle(angles)
        super().__init__(split=split, metainfo=metainfo, **kwargs)
