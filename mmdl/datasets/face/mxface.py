# Copyright (c) mmdl contributors. All rights reserved.
"""insightface's face-recognition training sets in MXNet RecordIO
(``train.rec``, ``train.idx``, ``property``), read without mxnet."""
import os.path as osp
from typing import Callable, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
from mmengine.dataset import Compose
from torch.utils.data import Dataset

from mmdl.registry import DATASETS
from .recordio import RecordIOError, RecordIOReader, read_property

#: Leading bytes of the image formats insightface's files hold.
IMAGE_SIGNATURES = {'JPEG': b'\xff\xd8', 'PNG': b'\x89PNG'}


def image_format(data: bytes) -> Optional[str]:
    """``'JPEG'`` or ``'PNG'`` by the signature of encoded image bytes,
    None for anything else."""
    for name, signature in IMAGE_SIGNATURES.items():
        if data[:len(signature)] == signature:
            return name
    return None


def decode_image(data: bytes, where: Optional[str] = None) -> np.ndarray:
    """Decode JPEG or PNG bytes to a uint8 HxWx3 BGR array, as
    ``cv2.imdecode(..., cv2.IMREAD_COLOR)`` (grey images get 3 channels,
    alpha is dropped).

    Args:
        data (bytes): The encoded image.
        where (str, optional): What to name at the start of errors (file,
            key, offset). Defaults to None.

    Returns:
        np.ndarray: The image, BGR.

    Raises:
        ValueError: If the bytes are not JPEG or PNG or do not decode.
    """
    prefix = f'{where}: ' if where else ''
    if image_format(data) is None:
        raise ValueError(f'{prefix}the image is neither JPEG nor PNG '
                         f'({len(data)} bytes starting with '
                         f'{bytes(data[:8])!r})')
    img = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError(f'{prefix}the {image_format(data)} image '
                         f'({len(data)} bytes) does not decode')
    return img


@DATASETS.register_module()
class MXFaceDataset(Dataset):
    """A face-recognition training set in insightface's RecordIO layout
    (MS1MV2 ``faces_emore``, MS1MV3, Glint360K, ...), read without mxnet.

    ``data_root`` holds ``train.rec`` (the records), ``train.idx`` (their
    byte offsets) and ``property`` (``num_classes,height,width``). Record 0
    is a header whose label ``[L0, L1]`` says that the images are records
    ``1 .. L0-1`` and the identities records ``L0 .. L1-1`` (identity
    ``k - L0`` has label ``[a, b]``: its images are records ``a .. b-1``).
    Without the header (record 0 with a scalar label, or no record 0) every
    record of the index is an image, in index order. An image record's
    label is the class id (a scalar, or the first value of a label array);
    its image is JPEG or PNG.

    Nothing but the index and record 0 is read at construction (MS1MV2 has
    5.8 million records): the image keys are an int64 array and every
    access reads one record, through a :class:`RecordIOReader` that opens
    the file once per dataloader worker.

    Samples are ``dict(img, img_shape, ori_shape, gt_label, sample_idx,
    key)`` before the pipeline: ``img`` is the decoded uint8 HxWx3 image in
    **BGR** order (OpenMMLab's convention, ``cv2.IMREAD_COLOR``),
    ``gt_label`` the class id (int), ``key`` the record key. insightface
    trains on RGB, normalised to ``[-1, 1]``; the same input comes from the
    model's data preprocessor::

        train_dataloader = dict(
            batch_size=128,
            num_workers=8,
            sampler=dict(type='DefaultSampler', shuffle=True),
            dataset=dict(
                type='MXFaceDataset',
                data_root='data/faces_emore',
                pipeline=[
                    dict(type='RandomFlip', prob=0.5,
                         direction='horizontal'),
                    dict(type='mmpretrain.PackInputs'),
                ]))
        model = dict(data_preprocessor=dict(
            mean=[127.5, 127.5, 127.5], std=[127.5, 127.5, 127.5],
            to_rgb=True))

    An image folder ``<identity>/<image>`` is read by mmpretrain's
    ``CustomDataset`` (classes: the sorted folder names);
    ``tools/dataset_converters/folder_to_rec.py`` converts it to this
    layout with the same class ids.

    Args:
        data_root (str): The folder of the three files.
        pipeline (Sequence[dict | Callable]): Transforms, built with
            mmengine's ``TRANSFORMS`` in the scope in force (mmcv's
            ``RandomFlip``, ``'mmpretrain.PackInputs'``, ...). Defaults to
            ().
        test_mode (bool): A pipeline that returns None is an error instead
            of a reason to draw another sample. Defaults to False.
        indices (int | Sequence[int], optional): Keep a subset, as
            mmengine's ``BaseDataset``: the first ``n`` samples
            (``n >= 0``), the last ``-n`` (``n < 0``) or the samples at the
            given positions. Defaults to None (all).
        rec_file (str): Name of the record file. Defaults to
            ``'train.rec'``.
        idx_file (str): Name of the index file. Defaults to
            ``'train.idx'``.
        property_file (str, optional): Name of the property file; None:
            none (the number of classes is then the header's identity
            count). Defaults to ``'property'``.
        max_refetch (int): Draws of another sample when the pipeline
            returns None (not in test mode). Defaults to 1000.
        prepare (dict | callable, optional): Writes the files into
            ``data_root`` when they are missing, e.g.
            ``dict(type='write_digits_face_set')`` (a function of mmdl's
            ``FUNCTIONS`` registry, called with ``data_root``), so that a
            quick config builds its miniature set on first use. Defaults to
            None.

    Raises:
        FileNotFoundError: If a file is missing (naming the expected
            layout).
        ValueError: If the files disagree (the property file's number of
            classes and the header's identity count, keys missing from the
            index) or are malformed (:class:`RecordIOError`).
    """

    def __init__(self,
                 data_root: str,
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 test_mode: bool = False,
                 indices: Optional[Union[int, Sequence[int]]] = None,
                 rec_file: str = 'train.rec',
                 idx_file: str = 'train.idx',
                 property_file: Optional[str] = 'property',
                 max_refetch: int = 1000,
                 prepare: Optional[Union[dict, Callable]] = None) -> None:
        self.data_root = data_root
        if prepare is not None:
            from .digits_faces import prepare_data
            prepare_data(prepare, data_root)
        self.test_mode = test_mode
        self.max_refetch = max_refetch
        names = [rec_file, idx_file]
        if property_file:
            names.append(property_file)
        layout = (f'data_root={data_root!r} should hold insightface\'s '
                  f'layout: {", ".join(names)}')
        if not osp.isdir(data_root):
            raise FileNotFoundError(f'MXFaceDataset: {data_root} is not a '
                                    f'directory; {layout}')
        for name in names:
            path = osp.join(data_root, name)
            if not osp.isfile(path):
                raise FileNotFoundError(f'MXFaceDataset: {path} does not '
                                        f'exist; {layout}')
        self.path_rec = osp.join(data_root, rec_file)
        self.path_idx = osp.join(data_root, idx_file)
        self.path_property = (
            osp.join(data_root, property_file) if property_file else None)
        self.reader = RecordIOReader(self.path_rec, self.path_idx)

        self.header_range = self._read_header_record()
        if self.header_range is None:
            keys = np.array(self.reader.keys, dtype=np.int64)
        else:
            keys = np.arange(1, self.header_range[0], dtype=np.int64)
        self.image_size = None
        if self.path_property:
            num_classes, height, width = read_property(self.path_property)
            self.image_size = (height, width)
            if self.header_range is not None and \
                    num_classes != self.num_identities:
                raise ValueError(
                    f'MXFaceDataset: {self.path_property} says '
                    f'{num_classes} classes but the header (record 0) of '
                    f'{self.path_rec} has {self.num_identities} identity '
                    f'records (keys {self.header_range[0]} to '
                    f'{self.header_range[1] - 1})')
        elif self.header_range is not None:
            num_classes = self.num_identities
        else:
            raise ValueError(
                f'MXFaceDataset: {self.path_rec} has no header record, so '
                'the number of classes must come from a property file '
                '(property_file=None)')
        self.num_classes = num_classes
        self._keys = self._subset(keys, indices)
        self._keys.flags.writeable = False
        self.pipeline = Compose(pipeline)
        self._classes = None
        self._id_ranges = None
        self._range_order = None

    # -- construction ----------------------------------------------------
    def _read_header_record(self) -> Optional[Tuple[int, int]]:
        """``(L0, L1)`` of the header record, None without one."""
        if 0 not in self.reader:
            return None
        header, labels = self.reader.read_header(0)
        if header.flag == 0:
            return None
        where = f'{self.path_rec}: record 0 (header)'
        if header.flag < 2:
            raise RecordIOError(f'{where}: expected the label [L0, L1], '
                                f'got {labels.tolist()}')
        bounds = labels[:2].astype(np.float64)
        if not np.all(np.isfinite(bounds) & (bounds == np.floor(bounds))):
            bounds = np.zeros(2)
        first, last = (int(v) for v in bounds)
        if not 1 <= first <= last:
            raise RecordIOError(f'{where}: [L0, L1] = {labels[:2].tolist()} '
                                'are not integers with 1 <= L0 <= L1')
        parts = ((1, first, 'image'), (first, last, 'identity'))
        for start, stop, what in parts:
            present = self.reader.contains(
                np.arange(start, stop, dtype=np.int64))
            if not present.all():
                missing = start + int(np.argmin(present))
                raise RecordIOError(
                    f'{where}: {what} records are keys {start} to '
                    f'{stop - 1} but key {missing} is not in '
                    f'{self.path_idx}')
        return first, last

    @staticmethod
    def _subset(keys: np.ndarray,
                indices: Optional[Union[int, Sequence[int]]]) -> np.ndarray:
        if indices is None:
            return keys
        if isinstance(indices, (int, np.integer)):
            indices = int(indices)
            return keys[:indices] if indices >= 0 else keys[indices:]
        positions = np.asarray(indices, dtype=np.int64).ravel()
        bad = (positions < -len(keys)) | (positions >= len(keys))
        if bad.any():
            raise ValueError(f'MXFaceDataset: indices holds '
                             f'{int(positions[bad][0])}, outside the '
                             f'{len(keys)} images')
        return keys[positions]

    # -- metadata ----------------------------------------------------------
    @property
    def num_identities(self) -> Optional[int]:
        """``L1 - L0`` of the header, None without a header."""
        if self.header_range is None:
            return None
        return self.header_range[1] - self.header_range[0]

    @property
    def keys(self) -> np.ndarray:
        """The record keys of the samples (read-only int64 array)."""
        return self._keys

    @property
    def metainfo(self) -> dict:
        """``classes`` (``'0'``, ``'1'``, ... built on first use),
        ``num_classes`` and ``image_size`` (height, width of the property
        file; None without one)."""
        if self._classes is None:
            self._classes = tuple(map(str, range(self.num_classes)))
        return dict(
            classes=self._classes,
            num_classes=self.num_classes,
            image_size=self.image_size)

    @property
    def id_ranges(self) -> Optional[np.ndarray]:
        """``[a, b)`` key ranges of the identities' images (int64, shape
        ``(num_identities, 2)``), read from the identity records on first
        use; None without a header."""
        if self.header_range is None:
            return None
        if self._id_ranges is None:
            first, last = self.header_range
            ranges = np.empty((last - first, 2), dtype=np.int64)
            for identity, key in enumerate(range(first, last)):
                header, labels = self.reader.read_header(key)
                bounds = np.atleast_1d(labels)[:2].astype(np.float64)
                if header.flag < 2 or not 1 <= bounds[0] <= bounds[1] <= \
                        first or np.any(bounds != np.floor(bounds)):
                    raise RecordIOError(
                        f'{self.path_rec}: identity record key {key} has '
                        f'label {np.atleast_1d(labels).tolist()}, expected '
                        f'an image key range [a, b) within [1, {first})')
                ranges[identity] = bounds
            ranges.flags.writeable = False
            self._id_ranges = ranges
        return self._id_ranges

    def identity_of_key(self, key: int) -> int:
        """The identity whose key range holds image record ``key``.

        Raises:
            KeyError: Without a header, or if no identity holds the key.
        """
        ranges = self.id_ranges
        if ranges is None:
            raise KeyError(f'{self.path_rec} has no header record, hence '
                           'no identity records')
        if self._range_order is None:
            self._range_order = np.argsort(ranges[:, 0], kind='stable')
        order = self._range_order
        i = int(np.searchsorted(ranges[order, 0], key, side='right')) - 1
        # empty ranges share their start with the next one: step back
        while i >= 0 and ranges[order[i], 0] == ranges[order[i], 1]:
            i -= 1
        if i < 0 or not ranges[order[i], 0] <= key < ranges[order[i], 1]:
            raise KeyError(f'{self.path_rec}: no identity record holds '
                           f'image key {key}')
        return int(order[i])

    # -- samples -----------------------------------------------------------
    def __len__(self) -> int:
        return len(self._keys)

    def _check_index(self, idx: int) -> int:
        idx = int(idx)
        if not -len(self) <= idx < len(self):
            raise IndexError(f'MXFaceDataset: index {idx} out of range for '
                             f'{len(self)} samples')
        return idx % len(self)

    def _class_id(self, labels, key: int) -> int:
        value = float(labels if np.isscalar(labels) else labels[0])
        if not (0 <= value < self.num_classes and value == int(value)):
            raise RecordIOError(
                f'{self.path_rec}: image record key {key} has label '
                f'{value}, not a class id in [0, {self.num_classes})')
        return int(value)

    def get_cat_ids(self, idx: int) -> List[int]:
        """The class id of sample ``idx`` (a list of one), read from the
        record's header without decoding the image."""
        key = int(self._keys[self._check_index(idx)])
        _, labels = self.reader.read_header(key)
        return [self._class_id(labels, key)]

    def get_data_info(self, idx: int) -> dict:
        """Sample ``idx`` before the pipeline: ``img`` (uint8 HxWx3, BGR),
        ``img_shape``, ``ori_shape``, ``gt_label`` (int), ``sample_idx`` and
        ``key`` (the record key)."""
        idx = self._check_index(idx)
        key = int(self._keys[idx])
        _, labels, data = self.reader.read_record(key)
        label = self._class_id(labels, key)
        try:
            img = decode_image(data)
        except ValueError as error:
            raise ValueError(
                f'{self.path_rec}: image record key {key} at byte offset '
                f'{self.reader.offset(key)}: {error}') from None
        return dict(
            img=img,
            img_shape=img.shape[:2],
            ori_shape=img.shape[:2],
            gt_label=label,
            sample_idx=idx,
            key=key)

    def prepare_data(self, idx: int):
        """The pipeline applied to :meth:`get_data_info`."""
        return self.pipeline(self.get_data_info(idx))

    def __getitem__(self, idx: int):
        if self.test_mode:
            data = self.prepare_data(idx)
            if data is None:
                raise RuntimeError(f'MXFaceDataset: the pipeline returned '
                                   f'None for sample {idx} in test mode')
            return data
        for _ in range(self.max_refetch + 1):
            data = self.prepare_data(idx)
            if data is not None:
                return data
            idx = np.random.randint(0, len(self))
        raise RuntimeError(f'MXFaceDataset: the pipeline returned None for '
                           f'{self.max_refetch + 1} samples in a row')

    def full_init(self) -> None:
        """Nothing to do (as mmengine's ``BaseDataset.full_init`` after
        the first call): the dataset is ready when built."""

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(data_root='
                f'{getattr(self, "data_root", None)!r}, samples='
                f'{len(getattr(self, "_keys", ()))}, num_classes='
                f'{getattr(self, "num_classes", None)}, header='
                f'{getattr(self, "header_range", None)})')
