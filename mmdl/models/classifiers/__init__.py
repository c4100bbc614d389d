# Copyright (c) mmdl contributors. All rights reserved.
from .continual_classifier import ContinualImageClassifier
from .face_recognizer import FaceRecognizer

__all__ = ['ContinualImageClassifier', 'FaceRecognizer']
