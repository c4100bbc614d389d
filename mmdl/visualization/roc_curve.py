# Copyright (c) mmdl contributors. All rights reserved.
"""ROC curves of verification protocols on a logarithmic FAR axis."""
import os
import os.path as osp
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

Curve = Tuple[Sequence[float], Sequence[float]]


def sample_roc(fpr: np.ndarray,
               tpr: np.ndarray,
               num: int = 1000,
               low: float = 1e-7) -> Dict[str, list]:
    """At most about ``num`` points of a ROC, log-spaced in FPR from
    ``low`` to 1 (for JSON files and plots of curves with millions of
    points): at every log-spaced FPR, the last point not beyond it.

    Returns:
        dict: ``fpr`` and ``tpr`` lists.
    """
    fpr, tpr = np.asarray(fpr), np.asarray(tpr)
    grid = np.logspace(np.log10(low), 0, num)
    idx = np.unique(np.clip(np.searchsorted(fpr, grid, side='right') - 1, 0,
                            len(fpr) - 1))
    return dict(fpr=fpr[idx].tolist(), tpr=tpr[idx].tolist())


def draw_roc_curves(curves: Dict[str, Curve],
                    title: Optional[str] = None,
                    far_range: Tuple[float, float] = (1e-6, 1e-1)):
    """Draw TAR against FAR (log scale) for every named curve.

    Args:
        curves (dict): Name to ``(fpr, tpr)``.
        title (str, optional): The title.
        far_range (tuple[float, float]): The FAR axis.

    Returns:
        matplotlib.figure.Figure: The figure (with an Agg canvas).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4.5))
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    for name, (fpr, tpr) in curves.items():
        fpr = np.asarray(fpr, dtype=np.float64)
        keep = fpr > 0
        ax.plot(fpr[keep], np.asarray(tpr)[keep], lw=1, label=name)
    ax.set_xscale('log')
    ax.set_xlim(*far_range)
    ax.set_xlabel('False accept rate')
    ax.set_ylabel('True accept rate')
    ax.grid(linestyle='--', linewidth=0.5)
    ax.legend(loc='lower right')
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def save_roc_curves(path: str,
                    curves: Dict[str, Curve],
                    title: Optional[str] = None) -> None:
    """Write :func:`draw_roc_curves`'s figure to ``path`` (PNG, 100 dpi),
    creating the folder."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    draw_roc_curves(curves, title).savefig(path, dpi=100)
