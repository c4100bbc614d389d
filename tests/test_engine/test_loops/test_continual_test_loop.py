# Copyright (c) mmdl contributors. All rights reserved.
"""A finished 3-task run (KFACBNHook) extended to 5 tasks by resuming, against
5 tasks straight; and ``tools/test.py`` on its checkpoints, which evaluates
every task the checkpoint has trained (ContinualTestLoop)."""
import shutil

import pytest
import torch
from conftest import (LOOP_TESTS, finish_train, python_tool, read_json,
                      start_train, toy_sequence_config)

from mmdl.engine.runner.checkpoint import load_checkpoint_file


def _config_text(num_tasks):
    return toy_sequence_config(
        ["dict(type='KFACBNHook', curvature='xkfac', max_batches=2)"],
        f'num_tasks={num_tasks}, max_epochs=1',
        num_train=160,
        param_scheduler=False)


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    """``three``: 3 tasks; ``appended``: a copy of it resumed with 5 tasks;
    ``five``: 5 tasks straight."""
    tmp_path = tmp_path_factory.mktemp('append')
    five = start_train(tmp_path, 'five', _config_text(5))
    finish_train(start_train(tmp_path, 'three', _config_text(3)))
    shutil.copytree(tmp_path / 'three', tmp_path / 'appended')
    outputs = dict(
        appended=finish_train(
            start_train(
                tmp_path, 'appended', _config_text(5), resume=True)),
        five=finish_train(five))
    return tmp_path, outputs


@pytest.mark.slow
def test_appending_tasks_matches_the_uninterrupted_run(runs):
    tmp_path, outputs = runs
    assert ('Resuming at the end of task 2 (3 of 5), 1/1 epochs'
            in outputs['appended'])
    assert 'Task 3 (4 of 5): 1 epochs from global epoch 4.' in \
        outputs['appended']
    appended = load_checkpoint_file(str(tmp_path / 'appended' / 'epoch_5.pth'))
    five = load_checkpoint_file(str(tmp_path / 'five' / 'epoch_5.pth'))
    for key, value in five['state_dict'].items():
        assert torch.equal(value, appended['state_dict'][key]), key
    # the K-FAC factors of tasks 0..3, restored or recomputed, agree too
    assert _same(appended['kfac_bn_hook'], five['kfac_bn_hook'])
    matrix = read_json(tmp_path / 'appended' /
                       'continual_metrics.json')['accuracy_matrix']
    assert len(matrix) == 5 and all(len(row) == 5 for row in matrix)
    assert matrix == read_json(tmp_path / 'five' /
                               'continual_metrics.json')['accuracy_matrix']


def _same(a, b):
    """Nested dicts/lists of tensors and plain values, equal exactly."""
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and torch.equal(a, b)
    if isinstance(a, dict):
        return (isinstance(b, dict) and a.keys() == b.keys()
                and all(_same(a[k], b[k]) for k in a))
    if isinstance(a, (list, tuple)):
        return (isinstance(b, (list, tuple)) and len(a) == len(b)
                and all(_same(x, y) for x, y in zip(a, b)))
    return a == b


def _test(tmp_path, checkpoint, name, *extra):
    result = python_tool(
        'test.py', tmp_path / 'three.py', tmp_path / 'three' / checkpoint,
        '--work-dir', tmp_path / name, *extra, env=dict(PYTHONPATH=LOOP_TESTS))
    assert result.returncode == 0, result.stderr[-4000:]
    found = list((tmp_path / name).glob('*/continual_test.json'))
    assert len(found) == 1
    return read_json(found[0]), result.stdout + result.stderr


@pytest.mark.slow
def test_tools_test_evaluates_every_trained_task(runs):
    tmp_path, _ = runs
    matrix = read_json(tmp_path / 'three' /
                       'continual_metrics.json')['accuracy_matrix']
    # the last checkpoint: row 2 of the accuracy matrix of training
    record, log = _test(tmp_path, 'epoch_3.pth', 'test_all')
    assert record['tasks'] == [0, 1, 2]
    assert record['row'] == pytest.approx(matrix[2], abs=1e-4)
    assert record['ACC'] == pytest.approx(sum(matrix[2]) / 3, abs=1e-4)
    for task in range(3):
        assert f'Task {task}: accuracy/top1 {matrix[2][task]:.2f}' in log
    assert f"ACC {sum(matrix[2]) / 3:.2f}" in log
    # the checkpoint after task 1, task 0 only
    record, log = _test(tmp_path, 'epoch_2.pth', 'test_one', '--task', '0')
    assert record['tasks'] == [0] and record['ACC'] is None
    assert record['row'] == pytest.approx(matrix[1][:1], abs=1e-4)
    assert 'Testing task 1' not in log
