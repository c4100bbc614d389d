# Copyright (c) mmdl contributors. All rights reserved.
"""Helpers for tests and quick checks: miniature datasets in their real
on-disk formats."""
from .data import (write_cifar, write_cub, write_fgvc_aircraft,
                   write_flowers102, write_imagenet, write_mnist_idx,
                   write_stanford_cars, write_tiny_imagenet)

__all__ = [
    'write_tiny_imagenet', 'write_cifar', 'write_mnist_idx', 'write_imagenet',
    'write_cub', 'write_stanford_cars', 'write_fgvc_aircraft',
    'write_flowers102'
]
