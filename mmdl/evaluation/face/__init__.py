# Copyright (c) mmdl contributors. All rights reserved.
"""Face verification protocols: insightface's 10-fold ``.bin`` protocol
and IJB-B/C 1:1 template verification."""
from .ijb import (FAR_TARGETS, auc, evaluate_ijb, image_features,
                  pair_scores, roc_curve, tar_at_far, template_features)
from .verification import (ACC_THRESHOLDS, VAL_THRESHOLDS, kfold_accuracy,
                           kfold_val_far, pair_distances,
                           verification_metrics)

__all__ = [
    'FAR_TARGETS', 'auc', 'evaluate_ijb', 'image_features', 'pair_scores',
    'roc_curve', 'tar_at_far', 'template_features', 'ACC_THRESHOLDS',
    'VAL_THRESHOLDS', 'kfold_accuracy', 'kfold_val_far', 'pair_distances',
    'verification_metrics'
]
