# Copyright (c) mmdl contributors. All rights reserved.
"""ContinualEvaluator: the row filled after a task, and the report (log,
message-hub and visualizer scalars, the JSON file) against hand-computed
metrics."""
import json
import logging
from types import SimpleNamespace

import pytest
from mmengine.logging import MessageHub

from mmdl.engine.loops.continual_evaluator import (METRICS_FILE,
                                                   ContinualEvaluator)

# R after task 1 of 3 tasks: row 2 is not measured yet
MATRIX = [[90.0, None, None], [80.0, 85.0, None], [None, None, None]]


class _Visualizer:

    def __init__(self):
        self.scalars = []

    def add_scalars(self, scalars, step):
        self.scalars.append((scalars, step))


def _runner(tmp_path, name):
    return SimpleNamespace(
        logger=logging.getLogger(name),
        message_hub=MessageHub.get_instance(name),
        visualizer=_Visualizer(),
        work_dir=str(tmp_path),
        epoch=4,
        val_loop=object())


def test_report(tmp_path):
    runner = _runner(tmp_path, 'test_continual_evaluator_report')
    ContinualEvaluator('accuracy/top1').report(runner, 1, MATRIX)
    # tasks 0..1: ACC = (80 + 85) / 2, BWT = 80 - 90, F = 90 - 80
    expected = {
        'continual/ACC': 82.5,
        'continual/BWT': -10.0,
        'continual/forgetting': 10.0
    }
    for key, value in expected.items():
        assert runner.message_hub.get_scalar(key).current() == value
    assert runner.visualizer.scalars == [(expected, 2)]
    result = json.loads((tmp_path / METRICS_FILE).read_text())
    assert result == dict(
        metric='accuracy/top1',
        num_tasks=3,
        tasks_learned=2,
        epoch=4,
        accuracy_matrix=[[90.0, None, None], [80.0, 85.0, None],
                         [None, None, None]],
        ACC=82.5,
        BWT=-10.0,
        forgetting=10.0,
        row_averages=[90.0, 82.5, None])
    assert (tmp_path / 'accuracy_matrix.png').exists()


def test_report_without_files_or_scalars(tmp_path):
    runner = _runner(tmp_path, 'test_continual_evaluator_nothing')
    empty = [[None, None], [None, None]]
    ContinualEvaluator(
        'accuracy/top1', save_results=False).report(runner, 0, empty)
    assert runner.visualizer.scalars == []
    assert list(tmp_path.iterdir()) == []


def test_evaluate_row(tmp_path):
    runner = _runner(tmp_path, 'test_continual_evaluator_row')
    results = {0: 70.0, 1: 60.0, 2: 50.0}
    evaluator = ContinualEvaluator('acc', val_begin_task=1)
    evaluator.evaluate = lambda runner, loader: dict(acc=results[loader])
    matrix = [[None] * 3 for _ in range(3)]
    # loaders are stood in by the task indices
    assert evaluator.evaluate_row(runner, 0, matrix, lambda t: t)[0] == \
        [None] * 3
    evaluator.evaluate_row(runner, 2, matrix, lambda t: t)
    assert matrix[2] == [70.0, 60.0, 50.0]
    # without validation the row stays empty
    assert evaluator.evaluate_row(runner, 1, matrix, None)[1] == [None] * 3
    runner.val_loop = None
    assert evaluator.evaluate_row(runner, 1, matrix,
                                  lambda t: t)[1] == [None] * 3
    runner.val_loop = object()
    missing = ContinualEvaluator('top5')
    missing.evaluate = lambda runner, loader: dict(acc=1.0)
    with pytest.raises(KeyError, match='metric_key'):
        missing.evaluate_row(runner, 0, matrix, lambda t: t)
