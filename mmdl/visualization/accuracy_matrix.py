# Copyright (c) mmdl contributors. All rights reserved.
"""Heat map of the accuracy matrix of continual learning."""
from typing import Optional, Sequence, Tuple

import numpy as np

#: Fixed colour range (accuracy in percent), so that the plots of two runs
#: can be compared by colour.
VALUE_RANGE = (0.0, 100.0)


def _fmt(value: Optional[float]) -> str:
    return '-' if value is None else f'{value:.2f}'


def task_labels(num_tasks: int) -> list:
    """Tick labels of the tasks: ``'Task 0'``, ``'Task 1'``, ... (0-based,
    as ``task_id`` in configs)."""
    return [f'Task {i}' for i in range(num_tasks)]


def _title(title: Optional[str], metrics: Optional[dict]) -> str:
    lines = [] if title is None else [title]
    if metrics is not None:
        lines.append(f'ACC {_fmt(metrics["ACC"])}  BWT {_fmt(metrics["BWT"])}'
                     f'  F {_fmt(metrics["forgetting"])}')
    return '\n'.join(lines)


def draw_accuracy_matrix(matrix: Sequence[Sequence[Optional[float]]],
                         metric_key: str = 'accuracy/top1',
                         metrics: Optional[dict] = None,
                         title: Optional[str] = None,
                         value_range: Tuple[float, float] = VALUE_RANGE):
    """Draw the accuracy matrix ``R[i][j]`` (row ``i``: after training task
    ``i``, column ``j``: evaluated on task ``j``) as a heat map with the
    values in the cells.

    The colour map (viridis) spans the fixed ``value_range`` whatever the
    values, with a colour bar labelled ``metric_key``; entries not measured
    (None) are masked, i.e. left blank. The title holds ``title`` (the run)
    and, with ``metrics``, ACC, BWT and forgetting.

    Args:
        matrix (Sequence[Sequence[float | None]]): The square matrix.
        metric_key (str): Label of the colour bar.
        metrics (dict, optional): Output of
            :func:`~mmdl.evaluation.metrics.continual_metrics`.
        title (str, optional): Name of the run (method or config).
        value_range (tuple[float, float]): Values at the two ends of the
            colour map. Defaults to (0, 100), accuracy in percent.

    Returns:
        matplotlib.figure.Figure: The figure (with an Agg canvas).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    array = np.array([[np.nan if v is None else v for v in row]
                      for row in matrix],
                     dtype=np.float64)
    size = len(array)
    low, high = (float(v) for v in value_range)
    if not high > low:
        raise ValueError(f'value_range {value_range} is empty')
    text = _title(title, metrics)
    fig = Figure(
        figsize=(2.4 + 0.9 * size, 1.1 + 0.8 * size + 0.2 * text.count('\n')))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
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
    labels = task_labels(size)
    ax.set_xticks(range(size), labels, fontsize=8)
    ax.set_yticks(range(size), labels, fontsize=8)
    ax.set_xlabel('evaluated on task')
    ax.set_ylabel('after training task')
    if text:
        ax.set_title(text, fontsize=9)
    fig.tight_layout()
    return fig


def save_accuracy_matrix(path: str,
                         matrix: Sequence[Sequence[Optional[float]]],
                         metric_key: str = 'accuracy/top1',
                         metrics: Optional[dict] = None,
                         title: Optional[str] = None) -> None:
    """Write :func:`draw_accuracy_matrix`'s figure to ``path`` (PNG,
    100 dpi).

    Args:
        path (str): The output file.
        matrix (Sequence[Sequence[float | None]]): The square matrix.
        metric_key (str): Label of the colour bar.
        metrics (dict, optional): ACC, BWT and forgetting for the title.
        title (str, optional): Name of the run for the title.
    """
    draw_accuracy_matrix(
        matrix, metric_key, metrics, title=title).savefig(
            path, dpi=100)
