# Copyright (c) mmdl contributors. All rights reserved.
"""Disposable transfer learning (DTL)."""
from .dtl_classifier import DTLClassifier
from .feature_extractor import FeatureExtractor, SourceNetwork

__all__ = ['DTLClassifier', 'FeatureExtractor', 'SourceNetwork']
