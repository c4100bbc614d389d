# Copyright (c) mmdl contributors. All rights reserved.
"""Task sequences for continual learning: every dataset takes ``task_id``
and sets it on every sample."""
from .fine_grained import TaskDataset
from .permuted import (FASHION_MNIST_DEBIAN_ROOT, PermutedDigits,
                       PermutedFashionMNIST, PermutedMNIST, RotatedDigits,
                       RotatedMNIST, check_task_id, find_idx_file,
                       permute_pixels, read_idx, rotate_images,
                       task_permutation)
from .split import SplitCIFAR10, SplitCIFAR100, SplitDigits

__all__ = [
    'PermutedDigits', 'PermutedMNIST', 'PermutedFashionMNIST', 'RotatedMNIST',
    'RotatedDigits', 'SplitCIFAR10', 'SplitCIFAR100', 'SplitDigits',
    'TaskDataset', 'task_permutation', 'permute_pixels', 'rotate_images',
    'read_idx', 'find_idx_file', 'check_task_id', 'FASHION_MNIST_DEBIAN_ROOT'
]
