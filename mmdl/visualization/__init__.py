# Copyright (c) mmdl contributors. All rights reserved.
"""Visualizers of mmdl (attention maps, accuracy matrices, ...)."""
from .accuracy_matrix import draw_accuracy_matrix, save_accuracy_matrix

__all__ = ['draw_accuracy_matrix', 'save_accuracy_matrix']
