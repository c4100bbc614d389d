# Copyright (c) mmdl contributors. All rights reserved.
"""Necks: attention modules that refine backbone feature maps."""
from .complementary_attention import ComplementaryAttention, FocusAttention

__all__ = ['ComplementaryAttention', 'FocusAttention']
