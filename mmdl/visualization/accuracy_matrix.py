# Copyright (c) mmdl contributors. All rights reserved.
"""Heat map of the accuracy matrix of continual learning."""
import math
from typing import Optional, Sequence

import numpy as np


def _fmt(value: Optional[float]) -> str:
    return '-' if value is None else f'{value:.2f}'


def draw_accuracy_matrix(matrix: Sequence[Sequence[Optional[float]]],
                         metric_key: str = 'accuracy/top1',
                         metrics: Optional[dict] = None):
    """Draw the accuracy matrix ``R[i][j]`` (row ``i``: after training task
    ``i``, column ``j``: evaluated on task ``j``) as a heat map with the
    values in the cells.

    The colour map (viridis) spans the measured values; entries not
    measured (None) are masked, i.e. left blank. With ``metrics`` the
    title shows ACC, BWT and forgetting.

    Args:
        matrix (Sequence[Sequence[float | None]]): The square matrix.
        metric_key (str): Label of the colour bar.
        metrics (dict, optional): Output of
            :func:`~mmdl.evaluation.metrics.continual_metrics`.

    Returns:
        matplotlib.figure.Figure: The figure (with an Agg canvas).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    array = np.array([[np.nan if v is None else v for v in row]
                      for row in matrix],
                     dtype=np.float64)
    size = len(array)
    fig = Figure(figsize=(1.0 + 0.9 * size, 0.8 + 0.8 * size))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    finite = array[np.isfinite(array)]
    low, high = ((float(finite.min()), float(finite.max())) if finite.size else
                 (0.0, 1.0))
    if math.isclose(low, high):
        low, high = low - 1.0, high + 1.0
    image = ax.imshow(
        np.ma.masked_invalid(array), cmap='viridis', vmin=low, vmax=high)
    fig.colorbar(image, ax=ax, label=metric_key)
    for i in range(size):
        for j in range(size):
            if np.isfinite(array[i, j]):
                bright = (array[i, j] - low) / (high - low) > 0.6
                ax.text(
                    j,
                    i,
                    f'{array[i, j]:.1f}',
                    ha='center',
                    va='center',
                    fontsize=8,
                    color='black' if bright else 'white')
    ax.set_xticks(range(size))
    ax.set_yticks(range(size))
    ax.set_xlabel('evaluated on task j')
    ax.set_ylabel('after training task i')
    if metrics is not None:
        ax.set_title(
            f'ACC {_fmt(metrics["ACC"])}  BWT {_fmt(metrics["BWT"])}'
            f'  F {_fmt(metrics["forgetting"])}',
            fontsize=9)
    fig.tight_layout()
    return fig


def save_accuracy_matrix(path: str,
                         matrix: Sequence[Sequence[Optional[float]]],
                         metric_key: str = 'accuracy/top1',
                         metrics: Optional[dict] = None) -> None:
    """Write :func:`draw_accuracy_matrix`'s figure to ``path`` (PNG,
    100 dpi).

    Args:
        path (str): The output file.
        matrix (Sequence[Sequence[float | None]]): The square matrix.
        metric_key (str): Label of the colour bar.
        metrics (dict, optional): ACC, BWT and forgetting for the title.
    """
    draw_accuracy_matrix(matrix, metric_key, metrics).savefig(path, dpi=100)
