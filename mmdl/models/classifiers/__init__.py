# Copyright (c) mmdl contributors. All rights reserved.
from .continual_classifier import ContinualImageClassifier

__all__ = ['ContinualImageClassifier']
