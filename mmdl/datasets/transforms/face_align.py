# Copyright (c) mmdl contributors. All rights reserved.
"""Align a face to the ArcFace template from its landmarks."""
from typing import Sequence

import numpy as np
from mmcv.transforms import BaseTransform

from mmdl.datasets.face.alignment import ARCFACE_TEMPLATE, align_face
from mmdl.registry import TRANSFORMS


@TRANSFORMS.register_module()
class FaceAlign(BaseTransform):
    """Warp ``img`` with the 5-point similarity transform that maps
    ``results[landmarks_key]`` (5 or 68 ``(x, y)`` points) onto
    insightface's ArcFace template, into a ``size`` crop (border 0), as
    insightface's IJB evaluation aligns ``loose_crop`` images.

    Required keys: ``img``, ``landmarks`` (the ``landmarks_key``).
    Modified keys: ``img``, ``img_shape``.

    Args:
        size (Sequence[int]): ``(height, width)``. Defaults to (112, 112).
        landmarks_key (str): Key of the landmarks. Defaults to
            ``'landmarks'``.
    """

    def __init__(self,
                 size: Sequence[int] = (112, 112),
                 landmarks_key: str = 'landmarks') -> None:
        self.size = tuple(size)
        self.landmarks_key = landmarks_key
        # the template is defined in the 112x112 frame
        self.template = ARCFACE_TEMPLATE * np.array(
            [self.size[1] / 112.0, self.size[0] / 112.0], dtype=np.float32)

    def transform(self, results: dict) -> dict:
        """Align ``results['img']``."""
        if self.landmarks_key not in results:
            raise KeyError(f'FaceAlign: the sample has no '
                           f'{self.landmarks_key!r} (5 or 68 landmarks)')
        img = align_face(results['img'], results[self.landmarks_key],
                         self.size, self.template)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(size={self.size}, '
                f'landmarks_key={self.landmarks_key!r})')
