# Copyright (c) mmdl contributors. All rights reserved.
"""Task sequences for continual learning: every dataset takes ``task_id``
and sets it on every sample."""
from .idx import find_idx_file, read_idx
from .mnist_files import FASHION_MNIST_DEBIAN_ROOT
from .permuted import PermutedDigits, PermutedFashionMNIST, PermutedMNIST
from .poisoned import (POISON_FORMAT, PoisonedTaskDataset, load_poisoned_task,
                       read_manifest, write_idx, write_poisoned_task)
from .rotated import RotatedDigits, RotatedFashionMNIST, RotatedMNIST
from .split import (SplitCIFAR10, SplitCIFAR100, SplitDigits,
                    SplitFashionMNIST, SplitMNIST)
from .task_base import (check_task_id, permute_pixels, rotate_images,
                        task_permutation)
from .task_dataset import TaskDataset

__all__ = [
    'PermutedDigits', 'PermutedMNIST', 'PermutedFashionMNIST', 'RotatedMNIST',
    'RotatedFashionMNIST',
    'RotatedDigits', 'SplitCIFAR10', 'SplitCIFAR100', 'SplitDigits',
    'SplitMNIST', 'SplitFashionMNIST',
    'TaskDataset', 'task_permutation', 'permute_pixels', 'rotate_images',
    'read_idx', 'find_idx_file', 'check_task_id', 'FASHION_MNIST_DEBIAN_ROOT',
    'PoisonedTaskDataset', 'write_poisoned_task', 'load_poisoned_task',
    'read_manifest', 'write_idx', 'POISON_FORMAT'
]
