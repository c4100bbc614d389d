# Copyright (c) mmdl contributors. All rights reserved.
"""A masked-face verification set for the ICCV2021-MFR protocol, read
from a plain list file."""
import os.path as osp
from typing import List, Sequence

from mmengine.dataset import BaseDataset

from mmdl.registry import DATASETS


def read_mfr_list(path: str) -> List[dict]:
    """The entries of an MFR list file.

    Every non-blank line is ``<image path> <identity> <masked>``; the path
    may contain spaces (the last two fields are split off), ``identity`` is
    an integer and ``masked`` is ``0`` or ``1``. Lines starting with ``#``
    are comments.

    Args:
        path (str): The list file.

    Returns:
        list[dict]: ``path`` (as written), ``identity`` (int) and
        ``masked`` (bool) per image, in file order.

    Raises:
        FileNotFoundError: The file does not exist.
        ValueError: A malformed line (the message names the file and the
            line number).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'MFR list file {path} does not exist')
    entries = []
    with open(path, encoding='utf-8') as f:
        for number, line in enumerate(f, 1):
            text = line.strip()
            if not text or text.startswith('#'):
                continue
            fields = text.rsplit(None, 2)
            expected = ('expected "<image path> <identity int> '
                        '<masked 0|1>"')
            if len(fields) != 3:
                raise ValueError(f'{path}: line {number}: {expected}, got '
                                 f'{text!r}')
            image, identity, masked = fields
            try:
                identity = int(identity)
            except ValueError:
                raise ValueError(f'{path}: line {number}: the identity '
                                 f'must be an integer, got {identity!r} '
                                 f'({expected})') from None
            if masked not in ('0', '1'):
                raise ValueError(f'{path}: line {number}: the masked flag '
                                 f'must be 0 or 1, got {masked!r} '
                                 f'({expected})')
            entries.append(
                dict(path=image, identity=identity, masked=masked == '1'))
    return entries


@DATASETS.register_module()
class MFRDataset(BaseDataset):
    """Images of a masked-face verification set, for
    :class:`~mmdl.evaluation.MFRMetric` (the ICCV2021-MFR protocol: masked
    against non-masked images, and all against all).

    The annotation file lists one image per line::

        # <image path> <identity> <masked 0|1>
        id_0001/masked_0.jpg 1 1
        id_0001/plain_0.jpg 1 0
        id_0001/plain_1.jpg 1 0

    Image paths are relative to ``data_prefix['img_path']`` (itself
    relative to ``data_root``; by default ``data_root``). ``masked=1`` means
    the image shows a masked face: either a real masked photo, or one to be
    masked synthetically by a transform that reads the sample's
    ``masked`` key (e.g. ``RandomFaceMask`` with ``condition_key='masked'``).

    Samples carry ``img_path``, ``gt_label`` (the identity) and ``masked``
    (bool); add ``'masked'`` to the ``meta_keys`` of ``PackInputs`` so that
    the metric sees it. Images of the set are already aligned (e.g.
    112x112 crops); use :class:`~mmdl.datasets.FaceAlign` otherwise.

    Args:
        ann_file (str): The list file (relative to ``data_root``).
        data_root (str): Root of the list file and the images.
        data_prefix (dict): ``img_path``: folder of the images, relative to
            ``data_root``. Defaults to ``data_root`` itself.
        pipeline (Sequence): Transforms, e.g. ``LoadImageFromFile``,
            ``PackInputs`` with ``meta_keys`` including ``'masked'``.
        **kwargs: Other arguments of mmengine's ``BaseDataset``
            (``test_mode`` defaults to True).
    """

    def __init__(self,
                 ann_file: str,
                 data_root: str = '',
                 data_prefix: dict = dict(img_path=''),
                 pipeline: Sequence = (),
                 **kwargs) -> None:
        kwargs.setdefault('test_mode', True)
        super().__init__(
            ann_file=ann_file,
            data_root=data_root,
            data_prefix=dict(data_prefix),
            pipeline=pipeline,
            **kwargs)

    def load_data_list(self) -> List[dict]:
        """One entry per image line of ``ann_file``."""
        if not self.ann_file:
            raise ValueError('MFRDataset: ann_file (the list file) is '
                             'required')
        root = self.data_prefix.get('img_path', '') or ''
        entries = read_mfr_list(self.ann_file)
        if not entries:
            raise ValueError(f'MFR list file {self.ann_file} lists no '
                             'image')
        return [
            dict(
                img_path=osp.join(root, e['path']),
                gt_label=e['identity'],
                masked=e['masked']) for e in entries
        ]
