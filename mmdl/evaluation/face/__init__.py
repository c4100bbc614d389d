# Copyright (c) mmdl contributors. All rights reserved.
"""Face verification protocols: insightface's 10-fold ``.bin`` protocol,
IJB-B/C 1:1 template verification, the ICCV2021-MFR masked-face
protocol and localisation measures of spatial attention."""
from .ijb import (FAR_TARGETS, auc, evaluate_ijb, image_features,
                  pair_scores, roc_curve, tar_at_far, template_features)
from .localisation import iou, localisation_measures
from .mfr import (ALL_FAR, MASK_FAR, MFR_WEIGHTS, StreamingTopK,
                  all_positive_pairs, all_to_all_protocol, far_rank,
                  far_threshold, mask_positive_pairs, mask_protocol,
                  mfr_score)
from .verification import (ACC_THRESHOLDS, VAL_THRESHOLDS, kfold_accuracy,
                           kfold_val_far, pair_distances,
                           verification_metrics)

__all__ = [
    'FAR_TARGETS', 'auc', 'evaluate_ijb', 'image_features', 'pair_scores',
    'roc_curve', 'tar_at_far', 'template_features', 'ACC_THRESHOLDS',
    'VAL_THRESHOLDS', 'kfold_accuracy', 'kfold_val_far', 'pair_distances',
    'verification_metrics', 'ALL_FAR', 'MASK_FAR', 'MFR_WEIGHTS',
    'StreamingTopK', 'all_positive_pairs', 'all_to_all_protocol',
    'far_rank', 'far_threshold', 'mask_positive_pairs', 'mask_protocol',
    'mfr_score', 'iou', 'localisation_measures'
]
