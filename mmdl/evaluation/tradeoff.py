# Copyright (c) mmdl contributors. All rights reserved.
"""Comparing continual-learning methods at matched performance.

Each method gives a curve of ``(source accuracy, target accuracy)`` points
by sweeping its trade-off knob (ResCL's lambda, LwF's distillation weight,
EWC's penalty weight). ResCL's paper compares methods with two "fair"
criteria whose definitions were not available; **Reconstruction**: the
best target accuracy among a method's points whose source accuracy reaches
a level, and the best source accuracy among those whose target accuracy
reaches a level (None when no point reaches it).
"""
from typing import Dict, List, Optional, Sequence

#: A point: ``{'value': knob, 'source': accuracy, 'target': accuracy}``.
Point = Dict[str, float]


def best_at_level(points: Sequence[Point], given: str, level: float,
                  best: str) -> Optional[Point]:
    """The point with the highest ``best`` accuracy among those whose
    ``given`` accuracy is at least ``level``.

    Args:
        points (Sequence[dict]): The method's points.
        given (str): ``'source'`` or ``'target'``.
        level (float): The accuracy to reach.
        best (str): The other key.

    Returns:
        dict | None: The point, None if no point reaches ``level``.
    """
    eligible = [p for p in points if p[given] >= level]
    return max(eligible, key=lambda p: p[best]) if eligible else None


def dominated_points(front: Sequence[Point],
                     points: Sequence[Point]) -> List[Point]:
    """The ``points`` that a point of ``front`` weakly dominates (at least
    as good on both accuracies)."""
    return [
        p for p in points if any(q['source'] >= p['source']
                                 and q['target'] >= p['target']
                                 for q in front)
    ]


def tradeoff_criteria(curves: Dict[str, Sequence[Point]],
                      source_levels: Sequence[float],
                      target_levels: Sequence[float]) -> dict:
    """Both criteria for every method and level.

    Args:
        curves (dict[str, Sequence[dict]]): Method name to points.
        source_levels (Sequence[float]): Source accuracies to reach.
        target_levels (Sequence[float]): Target accuracies to reach.

    Returns:
        dict: ``best_target_at_source[level][method]`` and
        ``best_source_at_target[level][method]``: the best accuracy and the
        knob value giving it (None: the level is not reached).
    """

    def table(given, best, levels):
        out = {}
        for level in levels:
            row = {}
            for name, points in curves.items():
                point = best_at_level(points, given, level, best)
                row[name] = None if point is None else dict(
                    value=point['value'], accuracy=point[best])
            out[f'{level:g}'] = row
        return out

    return dict(
        best_target_at_source=table('source', 'target', source_levels),
        best_source_at_target=table('target', 'source', target_levels))
