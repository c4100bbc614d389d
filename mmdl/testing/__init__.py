# Copyright (c) mmdl contributors. All rights reserved.
"""Helpers for tests and quick checks: miniature datasets in their real
on-disk formats, one writer module per format.

The copies are tiny (a few dozen images) and random, but file names,
directory layout, text formats and pickle contents follow the originals, so
that the real readers (mmdl's, mmpretrain's) are exercised unchanged.
"""
from .cifar import write_cifar
from .cub import write_cub
from .fgvc_aircraft import write_fgvc_aircraft
from .flowers102 import write_flowers102
from .idx import idx_bytes, write_mnist_idx
from .imagenet import write_imagenet
from .images import class_images, random_box, write_jpeg
from .stanford_cars import write_stanford_cars
from .tiny_imagenet import write_tiny_imagenet

__all__ = [
    'write_tiny_imagenet', 'write_cifar', 'write_mnist_idx', 'write_imagenet',
    'write_cub', 'write_stanford_cars', 'write_fgvc_aircraft',
    'write_flowers102', 'idx_bytes', 'write_jpeg', 'random_box', 'class_images'
]
