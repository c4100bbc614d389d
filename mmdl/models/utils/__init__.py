# Copyright (c) mmdl contributors. All rights reserved.
from .position_encoding import sinusoid_position_encoding_2d

__all__ = ['sinusoid_position_encoding_2d']
