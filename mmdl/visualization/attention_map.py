# Copyright (c) mmdl contributors. All rights reserved.
"""Attention maps of non-local blocks drawn over the input image."""
from typing import Dict, List, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F

#: Label of the colour bars.
ATTENTION_LABEL = 'attention weight (mean over heads)'

#: Block name -> (Q, h, w) attention weights of the queries.
Maps = Dict[str, torch.Tensor]


def preprocessed_images(inputs: torch.Tensor,
                        preprocessor) -> List[np.ndarray]:
    """Preprocessed inputs ``(N, C, H, W)`` back to uint8 images for
    display: the data preprocessor's ``mean``/``std`` undone when it has
    them; ``(H, W)`` for one channel, ``(H, W, C)`` otherwise.

    Args:
        inputs (Tensor): The preprocessed batch.
        preprocessor (nn.Module): The model's data preprocessor.

    Returns:
        list[np.ndarray]: One image per input.
    """
    images = inputs.detach().float().cpu()
    mean = getattr(preprocessor, 'mean', None)
    std = getattr(preprocessor, 'std', None)
    if mean is not None and std is not None:
        images = images * std.cpu() + mean.cpu()
    images = images.permute(0, 2, 3, 1).clamp(0, 255).byte().numpy()
    return [im[..., 0] if im.shape[-1] == 1 else im for im in images]


def upsample_maps(maps: torch.Tensor, size: Tuple[int, int]) -> np.ndarray:
    """Bilinear upsampling (``align_corners=False``) of attention maps to
    the image size.

    Args:
        maps (Tensor): (Q, h, w) maps, one per query.
        size (tuple[int, int]): (height, width) of the image.

    Returns:
        np.ndarray: (Q, height, width) maps.
    """
    return F.interpolate(
        maps.detach().float().cpu()[None],
        size=tuple(size),
        mode='bilinear',
        align_corners=False)[0].numpy()


def draw_attention_maps(image: np.ndarray, maps: Maps,
                        queries: Sequence[Tuple[float, float]]):
    """Draw attention maps over an image, one row per block and one column
    per query (the query marked with a white cross).

    Each map is upsampled to the image (:func:`upsample_maps`) and drawn
    with the ``jet`` colour map at half opacity over the grey (or RGB)
    image. The maps of one block share one colour scale, from 0 to their
    maximum, shown by a colour bar at the end of the row labelled
    :data:`ATTENTION_LABEL`.

    Args:
        image (np.ndarray): (H, W) grey or (H, W, 3) RGB image, uint8.
        maps (dict[str, Tensor]): Block name -> (Q, h, w) attention weights
            of the queries.
        queries (Sequence[tuple[float, float]]): The Q query positions as
            (row, column) fractions of the map.

    Returns:
        matplotlib.figure.Figure: The figure (with an Agg canvas).
    """
    from matplotlib import colormaps
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import Normalize
    from matplotlib.figure import Figure

    rows, cols = len(maps), len(queries)
    fig = Figure(figsize=(2.6 * cols + 1.0, 2.6 * rows), layout='constrained')
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, cols, squeeze=False)
    size = image.shape[:2]
    for r, (name, attention) in enumerate(maps.items()):
        upsampled = upsample_maps(attention, size)
        high = float(upsampled.max())
        norm = Normalize(vmin=0.0, vmax=high if high > 0 else 1.0)
        for c, (qr, qc) in enumerate(queries):
            ax = axes[r][c]
            ax.imshow(image, cmap='gray' if image.ndim == 2 else None)
            ax.imshow(upsampled[c], cmap='jet', norm=norm, alpha=0.5)
            ax.plot(qc * size[1], qr * size[0], 'wx', markersize=10, mew=2)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f'{name}\nquery ({qr:.2f}, {qc:.2f})', fontsize=7)
        bar = fig.colorbar(
            ScalarMappable(norm=norm, cmap=colormaps['jet']),
            ax=list(axes[r]),
            fraction=0.05)
        bar.set_label(ATTENTION_LABEL, fontsize=7)
        bar.ax.tick_params(labelsize=6)
    return fig


def save_attention_maps(path: str, image: np.ndarray, maps: Maps,
                        queries: Sequence[Tuple[float, float]]) -> None:
    """Write :func:`draw_attention_maps`'s figure to ``path`` (PNG,
    100 dpi).

    Args:
        path (str): The output file.
        image (np.ndarray): (H, W) or (H, W, 3) uint8 image.
        maps (dict[str, Tensor]): Block name -> (Q, h, w) weights.
        queries (Sequence[tuple[float, float]]): (row, column) fractions.
    """
    draw_attention_maps(image, maps, queries).savefig(path, dpi=100)
