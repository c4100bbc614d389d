# Copyright (c) mmdl contributors. All rights reserved.
"""insightface's ``.bin`` face verification sets (LFW, CFP-FP, AgeDB-30,
CALFW, CPLFW, ...) without mxnet."""
import os.path as osp
import pickle
from typing import List, Optional, Sequence

import cv2
import numpy as np
from mmengine.dataset import BaseDataset

from mmdl.registry import DATASETS
from .mxface import decode_image


def load_bin(path: str) -> tuple:
    """``(bins, issame_list)`` of a ``.bin`` file, written by Python 2 or 3.

    Raises:
        FileNotFoundError: The file does not exist.
        ValueError: It is not a pickle of two lists of matching lengths.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'verification set {path} does not exist')
    with open(path, 'rb') as f:
        try:
            data = pickle.load(f)
        except UnicodeDecodeError:
            f.seek(0)
            data = pickle.load(f, encoding='bytes')  # written by Python 2
        except Exception as error:
            raise ValueError(f'{path}: not a verification set pickle '
                             f'({type(error).__name__}: {error})') from None
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise ValueError(f'{path}: expected a pickle of (bins, '
                         f'issame_list), got {type(data).__name__}')
    bins, issame = data
    if len(bins) != 2 * len(issame):
        raise ValueError(f'{path}: {len(bins)} images for {len(issame)} '
                         'pairs; expected two images per pair')
    return list(bins), [bool(x) for x in issame]


def decode_verification_image(data: bytes, source: str,
                              size: int = 112) -> np.ndarray:
    """Decode a JPEG/PNG to a BGR uint8 image; resize the short side to
    ``size`` when the width differs from it (insightface's rule)."""
    img = decode_image(bytes(data), source)
    if img.shape[1] != size:
        h, w = img.shape[:2]
        scale = size / min(h, w)
        img = cv2.resize(img, (round(w * scale), round(h * scale)),
                         interpolation=cv2.INTER_LINEAR)
    return img


@DATASETS.register_module()
class BinVerificationDataset(BaseDataset):
    """A ``.bin`` verification set: a pickle of ``(bins, issame_list)``,
    ``bins`` the ``2P`` encoded images of ``P`` pairs (pair ``k`` is images
    ``2k`` and ``2k + 1``), ``issame_list`` the ``P`` labels.

    Every image is a sample (decoded to BGR, OpenMMLab's order; configs
    convert to RGB in the data preprocessor, as insightface feeds RGB) with
    ``pair_index``, ``issame`` and ``dataset_name`` for
    :class:`~mmdl.evaluation.BinVerificationMetric`, which pairs the
    embeddings back, and ``probe`` (True for the second image of each pair,
    ``i % 2 == 1``): the side a masked variant of the set masks, with
    ``dict(type='mmdl.RandomFaceMask', prob=1.0, condition_key='probe',
    seed=0)`` in the pipeline (the same masks in every run). Keep the
    sampler unshuffled.

    Args:
        ann_file (str): The ``.bin`` file (relative to ``data_root``).
        name (str, optional): The set's name in the metric keys; defaults to
            the file name without extension (``lfw``, ``agedb_30``).
        image_size (int): Short side of the decoded images when their width
            differs. Defaults to 112.
        prepare (dict | callable, optional): Writes the file when it is
            missing (see :class:`~mmdl.datasets.MXFaceDataset`), called
            with ``data_root``. Defaults to None.
        **kwargs: Other arguments of mmengine's ``BaseDataset``
            (``data_root``, ``pipeline``, ``indices``, ...).
    """

    def __init__(self,
                 ann_file: str,
                 name: Optional[str] = None,
                 image_size: int = 112,
                 pipeline: Sequence = (),
                 prepare=None,
                 **kwargs) -> None:
        if prepare is not None:
            from .digits_faces import prepare_data
            prepare_data(prepare, kwargs.get('data_root', ''))
        self.name = name or osp.splitext(osp.basename(ann_file))[0]
        self.image_size = image_size
        kwargs.setdefault('test_mode', True)
        super().__init__(ann_file=ann_file, pipeline=pipeline, **kwargs)

    def load_data_list(self) -> List[dict]:
        """One entry per image: its encoded bytes, its pair and whether it
        is the pair's second (probe) image."""
        bins, issame = load_bin(self.ann_file)
        return [
            dict(
                img_bytes=bytes(data),
                pair_index=i // 2,
                issame=issame[i // 2],
                probe=i % 2 == 1,
                dataset_name=self.name) for i, data in enumerate(bins)
        ]

    @property
    def issame(self) -> List[bool]:
        """The pair labels."""
        return [
            self.get_data_info(2 * k)['issame']
            for k in range(len(self) // 2)
        ]

    def prepare_data(self, idx: int) -> dict:
        """Decode image ``idx`` and run the pipeline."""
        info = self.get_data_info(idx)
        img = decode_verification_image(info.pop('img_bytes'),
                           f'{self.ann_file}: image {idx}', self.image_size)
        info.update(img=img, img_shape=img.shape[:2], ori_shape=img.shape[:2])
        return self.pipeline(info)
