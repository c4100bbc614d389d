# Copyright (c) mmdl contributors. All rights reserved.
"""Source-versus-target accuracy curves of continual-learning methods."""
from typing import Dict, Optional, Sequence


def draw_tradeoff_curves(curves: Dict[str, Sequence[dict]],
                         title: Optional[str] = None):
    """One line per method through its points (sorted by source
    accuracy), each point labelled with its knob value.

    Args:
        curves (dict[str, Sequence[dict]]): Method name to points
            ``{'value', 'source', 'target'}``.
        title (str, optional): Figure title.

    Returns:
        matplotlib.figure.Figure: The figure.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 5))
    for name, points in curves.items():
        points = sorted(points, key=lambda p: p['source'])
        xs = [p['source'] for p in points]
        ys = [p['target'] for p in points]
        ax.plot(xs, ys, marker='o', label=name)
        for p in points:
            if p.get('value') is not None:
                ax.annotate(
                    f"{p['value']:g}", (p['source'], p['target']),
                    textcoords='offset points',
                    xytext=(3, 3),
                    fontsize=7)
    ax.set_xlabel('source accuracy (%, earlier tasks after the last)')
    ax.set_ylabel('target accuracy (%, last task)')
    ax.grid(True, alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def save_tradeoff_curves(curves: Dict[str, Sequence[dict]],
                         out_file: str,
                         title: Optional[str] = None) -> None:
    """Write :func:`draw_tradeoff_curves` to ``out_file`` (PNG)."""
    import matplotlib.pyplot as plt
    fig = draw_tradeoff_curves(curves, title)
    fig.savefig(out_file, dpi=120)
    plt.close(fig)
