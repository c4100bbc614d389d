# Copyright (c) mmdl contributors. All rights reserved.
"""The trade-off criteria against brute force over all points."""
import random

from mmdl.evaluation.tradeoff import (best_at_level, dominated_points,
                                      tradeoff_criteria)


def _points(rng, n):
    return [
        dict(value=i, source=rng.uniform(50, 100), target=rng.uniform(50, 100))
        for i in range(n)
    ]


def test_criteria_match_brute_force():
    rng = random.Random(0)
    curves = {'a': _points(rng, 7), 'b': _points(rng, 5)}
    levels = [60.0, 80.0, 99.9]
    out = tradeoff_criteria(curves, levels, levels)
    for name, points in curves.items():
        for level in levels:
            for given, best, table in (('source', 'target',
                                        'best_target_at_source'),
                                       ('target', 'source',
                                        'best_source_at_target')):
                reached = [p[best] for p in points if p[given] >= level]
                got = out[table][f'{level:g}'][name]
                if not reached:
                    assert got is None
                else:
                    assert got['accuracy'] == max(reached)
                    assert best_at_level(points, given, level,
                                         best)['value'] == got['value']


def test_dominated_points():
    rng = random.Random(1)
    front, others = _points(rng, 6), _points(rng, 20)
    hit = dominated_points(front, others)
    for p in others:
        brute = any(q['source'] >= p['source'] and q['target'] >= p['target']
                    for q in front)
        assert (p in hit) == brute
    # a set dominates itself
    assert dominated_points(front, front) == front
    assert dominated_points([], others) == []
