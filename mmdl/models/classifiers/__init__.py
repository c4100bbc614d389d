# Copyright (c) mmdl contributors. All rights reserved.
from .continual_classifier import ContinualImageClassifier
from .face_recognizer import FaceRecognizer
from .masked_face_recognizer import MaskedFaceRecognizer

__all__ = ['ContinualImageClassifier', 'FaceRecognizer', 'MaskedFaceRecognizer']
