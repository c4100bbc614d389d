# Copyright (c) mmdl contributors. All rights reserved.
from .search_classifier import ArchSearchClassifier
from .unrolled import functional_loss, unrolled_arch_gradients

__all__ = [
    'ArchSearchClassifier', 'functional_loss', 'unrolled_arch_gradients'
]
