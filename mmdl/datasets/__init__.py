# Copyright (c) mmdl contributors. All rights reserved.
from .cifar import CIFAR10, CIFAR100
from .digits import DigitsDataset
from .tiny_imagenet import TinyImageNet

__all__ = ['CIFAR10', 'CIFAR100', 'DigitsDataset', 'TinyImageNet']
