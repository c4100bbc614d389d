# Copyright (c) mmdl contributors. All rights reserved.
"""Task sequences for continual learning: every dataset takes ``task_id``
and sets it on every sample."""
from .idx import find_idx_file, read_idx
from .mnist_files import FASHION_MNIST_DEBIAN_ROOT
from .permuted import PermutedDigits, PermutedFashionMNIST, PermutedMNIST
from .rotated import RotatedDigits, RotatedMNIST
from .split import (SplitCIFAR10, SplitCIFAR100, SplitDigits,
                    SplitFashionMNIST, SplitMNIST)
from .task_base import (check_task_id, permute_pixels, rotate_images,
                        task_permutation)
from .task_dataset import TaskDataset

__all__ = [
    'PermutedDigits', 'PermutedMNIST', 'PermutedFashionMNIST', 'RotatedMNIST',
    'RotatedDigits', 'SplitCIFAR10', 'SplitCIFAR100', 'SplitDigits',
    'SplitMNIST', 'SplitFashionMNIST',
    'TaskDataset', 'task_permutation', 'permute_pixels', 'rotate_images',
    'read_idx', 'find_idx_file', 'check_task_id', 'FASHION_MNIST_DEBIAN_ROOT'
]
