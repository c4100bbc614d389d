# Copyright (c) mmdl contributors. All rights reserved.
"""Metrics of mmdl (face verification, continual-learning matrices, ...)."""
from .continual import (accuracy_matrix_to_array, average_accuracy,
                        backward_transfer, continual_metrics, forgetting,
                        row_averages)

__all__: list = []
__all__ += [
    'accuracy_matrix_to_array', 'average_accuracy', 'backward_transfer',
    'continual_metrics', 'forgetting', 'row_averages'
]
