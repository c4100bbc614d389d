# Copyright (c) mmdl contributors. All rights reserved.
"""Metrics of mmdl (face verification, continual-learning matrices, ...)."""
__all__: list = []
