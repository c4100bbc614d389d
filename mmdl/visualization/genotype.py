# Copyright (c) mmdl contributors. All rights reserved.
"""Cell diagrams of a DARTS genotype (normal and reduction cell).

Drawn with matplotlib, which installs from the package registries (the
graphviz renderer the DARTS reference code uses needs the ``dot`` program).
"""
import os
import os.path as osp
from typing import Dict, List, Optional, Tuple

from mmdl.models.nas.genotype import CELL_TYPES, Genotype

#: Short labels of the operations on the edges.
SHORT_NAMES = {
    'max_pool_3x3': 'max 3x3',
    'avg_pool_3x3': 'avg 3x3',
    'skip_connect': 'skip',
    'sep_conv_3x3': 'sep 3x3',
    'sep_conv_5x5': 'sep 5x5',
    'dil_conv_3x3': 'dil 3x3',
    'dil_conv_5x5': 'dil 5x5',
}
#: Where along an edge its label sits (0: source, 1: target).
LABEL_POSITION = 0.62
COLOURS = dict(input='#a6d96a', node='#9ecae1', output='#fee08b')


def cell_layout(num_nodes: int) -> Dict[str, Tuple[float, float]]:
    """Positions of ``c_{k-2}``, ``c_{k-1}``, the nodes ``0 ...`` and
    ``c_{k}`` (inputs left, nodes on a zig-zag, output right)."""
    pos = {'c_{k-2}': (0.0, 2.4), 'c_{k-1}': (0.0, -0.4)}
    for i in range(num_nodes):
        pos[str(i)] = (1.8 + 1.6 * i, 2.0 if i % 2 == 0 else 0.0)
    pos['c_{k}'] = (1.8 + 1.6 * num_nodes + 0.4, 1.0)
    return pos


def cell_edges(pairs, concat) -> List[Tuple[str, str, Optional[str]]]:
    """``(source, target, label)`` of a cell: the genotype's operations and
    the unlabelled concatenation edges into ``c_{k}``."""

    def name(index: int) -> str:
        return ('c_{k-2}', 'c_{k-1}')[index] if index < 2 else str(index - 2)

    edges = [(name(j), str(i // 2), SHORT_NAMES.get(op, op))
             for i, (op, j) in enumerate(pairs)]
    edges += [(name(j), 'c_{k}', None) for j in concat]
    return edges


def _draw_cell(ax, pairs, concat, title: str) -> None:
    num_nodes = len(pairs) // 2
    pos = cell_layout(num_nodes)
    for source, target, label in cell_edges(pairs, concat):
        (x0, y0), (x1, y1) = pos[source], pos[target]
        bend = 0.25 if abs(x1 - x0) > 1.5 else 0.0
        ax.annotate(
            '',
            xy=(x1, y1),
            xytext=(x0, y0),
            arrowprops=dict(
                arrowstyle='-|>',
                color='grey' if label is None else 'black',
                lw=1.0,
                shrinkA=14,
                shrinkB=14,
                connectionstyle=f'arc3,rad={bend}'))
        if label is not None:
            # the label sits on the (bent) edge, closer to its target: a
            # node's two inputs come from different sides
            cx = (x0 + x1) / 2 + bend * (y1 - y0)
            cy = (y0 + y1) / 2 - bend * (x1 - x0)
            t = LABEL_POSITION
            ax.text(
                (1 - t)**2 * x0 + 2 * (1 - t) * t * cx + t**2 * x1,
                (1 - t)**2 * y0 + 2 * (1 - t) * t * cy + t**2 * y1,
                label,
                fontsize=7,
                ha='center',
                va='center',
                bbox=dict(
                    boxstyle='round,pad=0.15',
                    fc='white',
                    ec='none',
                    alpha=0.85))
    for name, (x, y) in pos.items():
        kind = ('input' if name.startswith('c_{k-') else
                'output' if name == 'c_{k}' else 'node')
        ax.text(
            x,
            y,
            f'${name}$' if kind != 'node' else name,
            fontsize=9,
            ha='center',
            va='center',
            bbox=dict(boxstyle='round,pad=0.4', fc=COLOURS[kind], ec='black'))
    xs = [p[0] for p in pos.values()]
    ax.set_xlim(min(xs) - 0.6, max(xs) + 0.6)
    ax.set_ylim(-1.1, 3.1)
    ax.set_title(title)
    ax.axis('off')


def draw_genotype(genotype: Genotype, title: Optional[str] = None):
    """Draw the normal and the reduction cell of ``genotype``, one above
    the other: cell inputs (green), intermediate nodes (blue) and the
    output (yellow), each node's two input edges labelled with their
    operation.

    Args:
        genotype (Genotype): The genotype.
        title (str, optional): A title above both cells (e.g. the run).

    Returns:
        matplotlib.figure.Figure: The figure (with an Agg canvas).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    num_nodes = len(genotype.normal) // 2
    fig = Figure(figsize=(2.0 + 1.5 * num_nodes, 6.4))
    FigureCanvasAgg(fig)
    axes = fig.subplots(2, 1)
    for ax, cell in zip(axes, CELL_TYPES):
        _draw_cell(ax, getattr(genotype, cell),
                   getattr(genotype, f'{cell}_concat'),
                   f'{cell} cell' if cell == 'normal' else 'reduction cell')
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def save_genotype(path: str,
                  genotype: Genotype,
                  title: Optional[str] = None) -> None:
    """Write :func:`draw_genotype`'s figure to ``path`` (PNG, 100 dpi),
    creating the folder."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    draw_genotype(genotype, title).savefig(path, dpi=100)
