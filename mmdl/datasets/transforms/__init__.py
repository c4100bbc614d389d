# Copyright (c) mmdl contributors. All rights reserved.
from .cutout import ClippedCutout

__all__ = ['ClippedCutout']
