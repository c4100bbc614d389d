# Copyright (c) mmdl contributors. All rights reserved.
"""A task's training data replaced by poisoned images, stored on disk.

Format of a poisoned task (a folder, written by
:func:`write_poisoned_task`, read by :class:`PoisonedTaskDataset`):

* ``images-idx3-ubyte``: uint8 IDX file (magic 2051) of shape ``(N, H,
  W * C)``: the model-input images of the task in the task's own pixel
  order (after its permutation or rotation), row-major, channels last
  (``C = 1`` for grey images, shape ``(N, H, W)``);
* ``labels-idx1-ubyte``: IDX file (magic 2049) of the ``N`` labels, uint8
  (type code 0x08), or big-endian int32 (type 0x0C) when a label exceeds
  255;
* ``manifest.json``: at least ``format`` (:data:`POISON_FORMAT`),
  ``num_samples`` (``N``), ``image_shape`` (``[H, W]`` or ``[H, W, C]``,
  one sample's array as given to the pipeline), ``poisoned_task``,
  ``classes`` (list of names, or null) and ``files`` (name and SHA-256 of
  the two IDX files); the attack tool adds its parameters and cost (see
  ``tools/attack/poison_continual.py``).

The samples are dicts ``img`` (uint8 array of ``image_shape``),
``gt_label`` (int) and ``task_id`` (int), like those of the clean task
datasets (:mod:`mmdl.datasets.continual`), so the task's pipeline applies
unchanged.
"""
import hashlib
import json
import os
import os.path as osp
import struct
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmpretrain.datasets import BaseDataset

from mmdl.registry import DATASETS
from .idx import IDX_IMAGES_MAGIC, read_idx
from .task_base import check_task_id

#: Value of the manifest's ``format`` field.
POISON_FORMAT = 'mmdl-poisoned-task/1'
#: File names in the folder.
MANIFEST_FILE = 'manifest.json'
IMAGES_FILE = 'images-idx3-ubyte'
LABELS_FILE = 'labels-idx1-ubyte'
#: Manifest fields the loader needs.
REQUIRED_FIELDS = ('format', 'num_samples', 'image_shape', 'poisoned_task',
                   'classes', 'files')

#: IDX type codes written: uint8 and big-endian int32.
_IDX_TYPES = {np.dtype(np.uint8): 0x08, np.dtype('>i4'): 0x0C}


def write_idx(path: str, array: np.ndarray) -> None:
    """Write an IDX file (uncompressed) of a uint8 or int32 array.

    Args:
        path (str): The file to write.
        array (np.ndarray): 1 to 3 dimensions, uint8 or int32 (written
            big-endian).
    """
    array = np.asarray(array)
    if array.dtype == np.int32:
        array = array.astype('>i4')
    if array.dtype not in _IDX_TYPES or not 1 <= array.ndim <= 3:
        raise ValueError(f'{path}: IDX files of uint8/int32 arrays of 1 to '
                         f'3 dimensions only, got {array.dtype} '
                         f'{array.shape}')
    header = struct.pack('>I', (_IDX_TYPES[array.dtype] << 8) | array.ndim)
    header += struct.pack(f'>{array.ndim}I', *array.shape)
    with open(path, 'wb') as f:
        f.write(header)
        f.write(np.ascontiguousarray(array).tobytes())


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def write_poisoned_task(out_dir: str, images: np.ndarray,
                        labels: Sequence[int],
                        manifest: Dict[str, Any]) -> Dict[str, Any]:
    """Write a poisoned task in the format of the module docstring.

    Args:
        out_dir (str): The folder (created if needed; existing files of the
            format are overwritten).
        images (np.ndarray): uint8, ``(N, H, W)`` or ``(N, H, W, C)``.
        labels (Sequence[int]): ``N`` labels ``>= 0``.
        manifest (dict): At least ``poisoned_task`` (and ``classes``,
            default null); JSON-serialisable. ``format``, ``num_samples``,
            ``image_shape`` and ``files`` are filled in.

    Returns:
        dict: The manifest as written.
    """
    images = np.asarray(images)
    labels = np.asarray(labels)
    if images.dtype != np.uint8 or images.ndim not in (3, 4):
        raise ValueError('write_poisoned_task: images must be uint8 (N, H, '
                         f'W) or (N, H, W, C), got {images.dtype} '
                         f'{images.shape}')
    if labels.ndim != 1 or len(labels) != len(images) or (len(labels) and
                                                          labels.min() < 0):
        raise ValueError('write_poisoned_task: expected one label >= 0 per '
                         f'image ({len(images)}), got shape {labels.shape}')
    if 'poisoned_task' not in manifest:
        raise ValueError("write_poisoned_task: the manifest needs "
                         "'poisoned_task'")
    os.makedirs(out_dir, exist_ok=True)
    n = len(images)
    write_idx(
        osp.join(out_dir, IMAGES_FILE), images.reshape(n, images.shape[1], -1))
    label_dtype = np.uint8 if (not len(labels)
                               or labels.max() <= 255) else np.int32
    write_idx(osp.join(out_dir, LABELS_FILE), labels.astype(label_dtype))
    manifest = dict(manifest)
    manifest.setdefault('classes', None)
    manifest.update(
        format=POISON_FORMAT,
        num_samples=n,
        image_shape=list(images.shape[1:]),
        files={
            key: dict(name=name, sha256=_sha256(osp.join(out_dir, name)))
            for key, name in (('images', IMAGES_FILE), ('labels', LABELS_FILE))
        })
    with open(osp.join(out_dir, MANIFEST_FILE), 'w') as f:
        json.dump(manifest, f, indent=2)
        f.write('\n')
    return manifest


def read_manifest(data_root: str) -> Dict[str, Any]:
    """The checked manifest of a poisoned task folder.

    Raises:
        FileNotFoundError: No manifest; the message names the file.
        ValueError: Not JSON, not of :data:`POISON_FORMAT`, or a required
            field missing; the message names the file and the field.
    """
    path = osp.join(data_root, MANIFEST_FILE)
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} does not exist: expected the '
                                'manifest of a poisoned task (written by '
                                'tools/attack/poison_continual.py)')
    try:
        with open(path) as f:
            manifest = json.load(f)
    except (OSError, ValueError) as error:
        raise ValueError(f'{path}: not a JSON manifest ({error})') from error
    if not isinstance(manifest, dict):
        raise ValueError(f'{path}: expected a JSON object')
    missing = [k for k in REQUIRED_FIELDS if k not in manifest]
    if missing:
        raise ValueError(f'{path}: missing field(s) {missing}')
    if manifest['format'] != POISON_FORMAT:
        raise ValueError(f"{path}: format {manifest['format']!r}, expected "
                         f'{POISON_FORMAT!r}')
    shape = manifest['image_shape']
    if not (isinstance(shape, list) and len(shape) in (2, 3)
            and all(isinstance(s, int) and s > 0 for s in shape)):
        raise ValueError(f'{path}: image_shape must be [H, W] or [H, W, C], '
                         f'got {shape!r}')
    return manifest


def load_poisoned_task(
        data_root: str) -> Tuple[np.ndarray, np.ndarray, Dict[str, Any]]:
    """Read a poisoned task folder, checking the files against the
    manifest.

    Args:
        data_root (str): The folder.

    Returns:
        tuple: uint8 images ``(N, *image_shape)``, int64 labels ``(N, )``
        and the manifest.

    Raises:
        FileNotFoundError: A file is missing (named).
        ValueError: A file is malformed or disagrees with the manifest
            (checksum, count or shape); the message names the file.
    """
    manifest = read_manifest(data_root)
    files = manifest['files']
    arrays = {}
    for key in ('images', 'labels'):
        name = (files.get(key) or {}).get('name') if isinstance(files,
                                                                dict) else None
        if name is None:
            raise ValueError(f'{osp.join(data_root, MANIFEST_FILE)}: '
                             f'files.{key}.name missing')
        path = osp.join(data_root, name)
        if not osp.isfile(path):
            raise FileNotFoundError(f'{path} does not exist (listed in '
                                    f'{MANIFEST_FILE})')
        expected = files[key].get('sha256')
        if expected is not None and _sha256(path) != expected:
            raise ValueError(f'{path}: SHA-256 differs from the one in '
                             f'{MANIFEST_FILE} (the file was changed)')
        arrays[key] = _read_labels(path) if key == 'labels' else \
            _read_images(path)
    images, labels = arrays['images'], arrays['labels'].astype(np.int64)
    n = manifest['num_samples']
    shape = tuple(manifest['image_shape'])
    if len(images) != n or len(labels) != n:
        raise ValueError(
            f'{osp.join(data_root, IMAGES_FILE)}: {len(images)} images and '
            f'{len(labels)} labels, but {MANIFEST_FILE} gives num_samples '
            f'{n}')
    if int(np.prod(images.shape[1:])) != int(np.prod(shape)):
        raise ValueError(
            f'{osp.join(data_root, IMAGES_FILE)}: images of '
            f'{images.shape[1:]} do not hold {MANIFEST_FILE} image_shape '
            f'{list(shape)}')
    return images.reshape((n, ) + shape), labels, manifest


def _read_labels(path: str) -> np.ndarray:
    """The labels of an IDX file: uint8 (magic 2049) or int32, 1-D."""
    labels = read_idx(path)
    if labels.ndim != 1 or labels.dtype not in (np.uint8, np.int32):
        raise ValueError(f'{path}: expected 1-D uint8 or int32 labels, got '
                         f'{labels.dtype} {labels.shape}')
    return labels


def _read_images(path: str) -> np.ndarray:
    """The uint8 image stack of an IDX file."""
    images = read_idx(path, IDX_IMAGES_MAGIC)
    if images.dtype != np.uint8:
        raise ValueError(f'{path}: expected uint8 images, got {images.dtype}')
    return images


@DATASETS.register_module()
class PoisonedTaskDataset(BaseDataset):
    """The training data of one task, read from a poisoned task folder (see
    the module docstring) instead of the clean dataset.

    Samples carry ``img`` (uint8, the manifest's ``image_shape``),
    ``gt_label`` and ``task_id``, like the clean task datasets, so the
    task's pipeline applies as is. The metainfo holds the clean dataset's
    ``classes`` (from the manifest) and ``task_id``. Put it in place of a
    task's data with :class:`~mmdl.engine.hooks.TaskDataOverrideHook`.

    Args:
        data_root (str): The folder.
        task_id (int, optional): The task; must equal the manifest's
            ``poisoned_task``. Defaults to that.
        pipeline (Sequence): The pipeline. Defaults to none.
        metainfo (dict, optional): Extra meta information.
        **kwargs: Other arguments of :class:`mmpretrain.datasets.BaseDataset`
            (``indices``, ``test_mode``, ...).

    Raises:
        FileNotFoundError: The manifest or a data file is missing.
        ValueError: A file is malformed, disagrees with the manifest, or
            ``task_id`` is not the poisoned task.
    """

    def __init__(self,
                 data_root: str,
                 task_id: Optional[int] = None,
                 pipeline: Sequence = (),
                 metainfo: Optional[dict] = None,
                 **kwargs) -> None:
        manifest = read_manifest(data_root)
        poisoned = check_task_id(f'{MANIFEST_FILE} of {data_root}',
                                 manifest['poisoned_task'])
        if task_id is not None and check_task_id(type(self).__name__,
                                                 task_id) != poisoned:
            raise ValueError(
                f'{type(self).__name__}: task_id={task_id}, but '
                f'{osp.join(data_root, MANIFEST_FILE)} holds the poisoned '
                f'data of task {poisoned}')
        self.task_id = poisoned
        self.manifest = manifest
        info = {} if manifest['classes'] is None else {
            'classes': tuple(manifest['classes'])
        }
        info.update(metainfo or {})
        info['task_id'] = poisoned
        kwargs.setdefault('ann_file', '')
        kwargs.setdefault('serialize_data', False)
        super().__init__(
            data_root=data_root, metainfo=info, pipeline=pipeline, **kwargs)

    def load_data_list(self) -> List[dict]:
        """The samples of the folder (checked against the manifest)."""
        images, labels, manifest = load_poisoned_task(self.data_root)
        self.manifest = manifest
        return [
            dict(img=img, gt_label=int(label), task_id=self.task_id)
            for img, label in zip(images, labels)
        ]
