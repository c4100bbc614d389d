# Copyright (c) mmdl contributors. All rights reserved.
"""Visualizers of mmdl (attention maps, accuracy matrices, ...)."""
from .accuracy_matrix import draw_accuracy_matrix, save_accuracy_matrix
from .attention_map import (draw_attention_maps, preprocessed_images,
                            save_attention_maps, upsample_maps)
from .attention_overlay import (draw_attention_overlays,
                                save_attention_overlays)
from .face_mask_grid import face_mask_grid, synthetic_face
from .genotype import draw_genotype, save_genotype
from .roc_curve import draw_roc_curves, sample_roc, save_roc_curves
from .tradeoff_curve import draw_tradeoff_curves, save_tradeoff_curves

__all__ = [
    'draw_accuracy_matrix', 'save_accuracy_matrix', 'draw_attention_maps',
    'save_attention_maps', 'upsample_maps', 'preprocessed_images',
    'draw_tradeoff_curves',
    'save_tradeoff_curves', 'draw_genotype', 'save_genotype',
    'draw_roc_curves', 'sample_roc', 'save_roc_curves', 'face_mask_grid',
    'synthetic_face', 'draw_attention_overlays', 'save_attention_overlays'
]
