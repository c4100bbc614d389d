# Copyright (c) mmdl contributors. All rights reserved.
"""Grouped bar chart of per-task accuracy, clean against poisoned."""
from typing import Dict


def draw_poison_bars(report: Dict):
    """One panel per regulariser: for every task, bars of the accuracy
    before the new task (earlier tasks only), after clean training and
    after poisoned training (means over seeds, std as error bars); the
    targeted task is marked.

    Args:
        report (dict): :func:`~mmdl.evaluation.poison_report.poison_report`.

    Returns:
        matplotlib.figure.Figure: The figure (with an Agg canvas).
    """
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    methods = report['methods']
    target = report['target_task']
    fig = Figure(figsize=(4.2 * len(methods), 3.4), layout='constrained')
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(methods), squeeze=False)[0]
    bars = (('before', 'before task T', '#9e9e9e'),
            ('clean', 'after clean task T', '#1f77b4'),
            ('poisoned', 'after poisoned task T', '#d62728'))
    width = 0.27
    for ax, (name, entry) in zip(axes, methods.items()):
        summary = entry['summary']
        num_tasks = len(summary['clean'])
        x = np.arange(num_tasks)
        for i, (key, label, colour) in enumerate(bars):
            stats = summary[key]
            pos = x[:len(stats)] + (i - 1) * width
            ax.bar(
                pos, [s['mean'] for s in stats],
                width,
                yerr=[s['std'] for s in stats],
                label=label,
                color=colour,
                capsize=2)
        ax.set_xticks(x)
        ax.set_xticklabels([
            f'task {j}' + (' (target)' if j == target else
                           (' (new)' if j == num_tasks - 1 else ''))
            for j in x
        ],
                           fontsize=7)
        change = summary['target_change']
        ax.set_title(
            f'{name}: target {change["mean"]:+.1f} ± {change["std"]:.1f}',
            fontsize=9)
        ax.set_ylabel('accuracy (%)', fontsize=8)
        ax.set_ylim(0, 105)
        ax.tick_params(labelsize=7)
    axes[0].legend(fontsize=7, loc='lower left')
    return fig


def save_poison_bars(path: str, report: Dict) -> None:
    """Write :func:`draw_poison_bars`'s figure to ``path`` (PNG, 100
    dpi)."""
    draw_poison_bars(report).savefig(path, dpi=100)
