# Copyright (c) mmdl contributors. All rights reserved.
"""Metrics of mmdl (face verification, continual-learning matrices, ...)."""
from .continual import (accuracy_matrix_to_array, average_accuracy,
                        backward_transfer, continual_metrics, forgetting,
                        row_averages)
from .face_verification import BinVerificationMetric
from .ijb_verification import (IJBVerificationMetric, evaluate_feature_file,
                               ijb_meta)
from .mfr import MFRMetric

__all__: list = []
__all__ += [
    'accuracy_matrix_to_array', 'average_accuracy', 'backward_transfer',
    'continual_metrics', 'forgetting', 'row_averages',
    'BinVerificationMetric', 'IJBVerificationMetric',
    'evaluate_feature_file', 'ijb_meta', 'MFRMetric'
]
