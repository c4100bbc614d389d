# Copyright (c) mmdl contributors. All rights reserved.
from .cifar import CIFAR10, CIFAR100
from .continual import (PermutedDigits, PermutedFashionMNIST, PermutedMNIST,
                        PoisonedTaskDataset, RotatedDigits, RotatedMNIST,
                        SplitCIFAR10, SplitCIFAR100, SplitDigits,
                        SplitFashionMNIST, SplitMNIST, TaskDataset)
from .digits import DigitsDataset
from .face import (BinVerificationDataset, IJBDataset, MFRDataset,
                   MXFaceDataset, RecordIOError, RecordIOReader,
                   RecordIOWriter)
from .tiny_imagenet import TinyImageNet
from .transforms import ClippedCutout, FaceAlign, RandomFaceMask

__all__ = [
    'CIFAR10', 'CIFAR100', 'DigitsDataset', 'TinyImageNet', 'PermutedDigits',
    'PermutedMNIST', 'PermutedFashionMNIST', 'RotatedMNIST', 'RotatedDigits',
    'SplitCIFAR10', 'SplitCIFAR100', 'SplitDigits', 'SplitMNIST',
    'SplitFashionMNIST', 'TaskDataset', 'ClippedCutout', 'MXFaceDataset',
    'RecordIOReader', 'RecordIOWriter', 'RecordIOError',
    'BinVerificationDataset', 'IJBDataset', 'FaceAlign', 'MFRDataset',
    'RandomFaceMask', 'PoisonedTaskDataset'
]
