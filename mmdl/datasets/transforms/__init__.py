# Copyright (c) mmdl contributors. All rights reserved.
from .cutout import ClippedCutout
from .face_align import FaceAlign

__all__ = ['ClippedCutout', 'FaceAlign']
