# Copyright (c) mmdl contributors. All rights reserved.
from .cutout import ClippedCutout
from .face_align import FaceAlign
from .face_mask import RandomFaceMask

__all__ = ['ClippedCutout', 'FaceAlign', 'RandomFaceMask']
