# Copyright (c) mmdl contributors. All rights reserved.
"""Spatial attention maps (face, mask, background) overlaid on faces."""
from typing import Dict, Optional, Sequence

import numpy as np
import torch

from .attention_map import upsample_maps


def draw_attention_overlays(images: Sequence[np.ndarray],
                            maps: Dict[str, torch.Tensor],
                            titles: Optional[Sequence[str]] = None):
    """A grid with one column per face: the input in the first row, then
    one row per attention map drawn over it (``jet``, half opacity, a
    fixed [0, 1] scale shared by all cells, with a colour bar).

    Args:
        images (Sequence[np.ndarray]): ``N`` RGB (or grey) uint8 images.
        maps (dict[str, Tensor]): Row name (``face``, ``mask``, ...) ->
            ``(N, h, w)`` maps in [0, 1], upsampled bilinearly to the image.
        titles (Sequence[str], optional): Column titles (e.g. ``masked``).

    Returns:
        matplotlib.figure.Figure: The figure (with an Agg canvas).
    """
    from matplotlib import colormaps
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure

    if not len(images):
        raise ValueError('draw_attention_overlays: no images')
    for name, value in maps.items():
        if len(value) != len(images):
            raise ValueError(f'draw_attention_overlays: map {name!r} has '
                             f'{len(value)} entries for {len(images)} images')
    rows, cols = 1 + len(maps), len(images)
    fig = Figure(figsize=(1.3 * cols + 0.8, 1.4 * rows), layout='constrained')
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, cols, squeeze=False)
    norm = Normalize(vmin=0.0, vmax=1.0)
    for c, image in enumerate(images):
        cmap = 'gray' if image.ndim == 2 else None
        axes[0][c].imshow(image, cmap=cmap)
        if titles is not None:
            axes[0][c].set_title(titles[c], fontsize=7)
        for r, (name, value) in enumerate(maps.items(), start=1):
            up = upsample_maps(value[c:c + 1], image.shape[:2])[0]
            axes[r][c].imshow(image, cmap=cmap)
            axes[r][c].imshow(up, cmap='jet', norm=norm, alpha=0.5)
            if c == 0:
                axes[r][c].set_ylabel(f'A_{name}', fontsize=7)
        for r in range(rows):
            axes[r][c].set_xticks([])
            axes[r][c].set_yticks([])
    bar = fig.colorbar(
        ScalarMappable(norm=norm, cmap=colormaps['jet']),
        ax=[ax for row in axes[1:] for ax in row] or list(axes[0]),
        fraction=0.02)
    bar.set_label('attention', fontsize=7)
    bar.ax.tick_params(labelsize=6)
    return fig


def save_attention_overlays(path: str,
                            images: Sequence[np.ndarray],
                            maps: Dict[str, torch.Tensor],
                            titles: Optional[Sequence[str]] = None) -> None:
    """Write :func:`draw_attention_overlays`'s figure to ``path`` (PNG,
    100 dpi)."""
    draw_attention_overlays(images, maps, titles).savefig(path, dpi=100)
