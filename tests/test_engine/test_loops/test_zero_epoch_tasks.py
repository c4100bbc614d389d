# Copyright (c) mmdl contributors. All rights reserved.
"""TaskSequenceTrainLoop with tasks of 0 epochs (a pretrained source task
that is evaluated but not trained): the epoch -> task map, a
``max_epochs=[0, 1]`` run through tools/train.py with KFACBNHook, and a
``max_epochs=[0, 2]`` run stopped in task 1 and resumed."""
import os
import os.path as osp

import pytest
import torch
from conftest import (finish_train, read_json, read_jsonl, start_train,
                      toy_sequence_config)
from toy_tasks import FakeRunner

from mmdl.engine.loops import TaskSequenceTrainLoop
from mmdl.engine.loops.task_sequence_loop import COMPLETED_KEY
from mmdl.engine.runner.checkpoint import load_checkpoint_file

# 160 training samples / batch 32: 5 iterations per epoch
NUM_TRAIN = 160
EVENTS = 'task_events.jsonl'


def _config_text(epochs, stop_epoch=None):
    hooks = [
        "dict(type='KFACBNHook', curvature='xkfac', max_batches=2)",
        "dict(type='TaskEventRecorderHook')",
        "dict(type='WeightSnapshotHook')",
    ]
    if stop_epoch is not None:
        hooks.append(f"dict(type='StopAtEpochHook', stop_epoch={stop_epoch})")
    return toy_sequence_config(
        hooks,
        f'num_tasks=2, max_epochs={list(epochs)!r}',
        num_train=NUM_TRAIN,
        logger_interval=1)


def _start(tmp_path, name, epochs, stop_epoch=None, resume=False):
    return start_train(tmp_path, name, _config_text(epochs, stop_epoch),
                       resume)


def _events(work_dir):
    return read_jsonl(osp.join(work_dir, EVENTS))


def _task_events(work_dir):
    return [(e['event'], e['task_index']) for e in _events(work_dir)
            if e['event'] != 'first_iter']


def _metrics(work_dir):
    return read_json(osp.join(work_dir, 'continual_metrics.json'))


def _load(path):
    return load_checkpoint_file(str(path))


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    """``[0, 1]`` uninterrupted; ``[0, 2]`` stopped after global epoch 1
    (in the middle of task 1), then resumed."""
    tmp_path = tmp_path_factory.mktemp('zero_epoch')
    started = [
        _start(tmp_path, 'zero_one', [0, 1]),
        _start(tmp_path, 'zero_two', [0, 2], stop_epoch=1)
    ]
    outputs = {'zero_one': finish_train(started[0])}
    outputs['zero_two_stopped'] = finish_train(started[1], expected_rc=3)
    outputs['zero_two'] = finish_train(
        _start(tmp_path, 'zero_two', [0, 2], resume=True))
    return tmp_path, outputs


@pytest.mark.slow
def test_zero_epoch_source_task(runs):
    tmp_path, outputs = runs
    work_dir = tmp_path / 'zero_one'
    events = _events(work_dir)
    assert [(e['event'], e.get('task_index', e.get('task')))
            for e in events] == [('before_task', 0), ('after_task', 0),
                                 ('before_task', 1), ('first_iter', 1),
                                 ('after_task', 1)]
    before0, after0, before1, first, after1 = events
    # task 0 is entered and finished at global epoch 0 with its own loader
    for event in (before0, after0):
        assert event['epoch'] == 0 and event['loader_task'] == 0
        assert event['completed'] == 0
    assert before0['loop_task'] == before0['current_task'] == 0
    assert after0['row'][0] is not None and after0['row'][1] is None
    # task 1 owns global epoch 0 (the only one)
    assert before1['epoch'] == 0 and before1['loop_task'] == 1
    assert before1['current_task'] == 1 and before1['loader_task'] == 1
    assert first['epoch'] == 0 and first['iter'] == 0
    assert first['loader_task'] == 1 and first['batch_task_ids'] == [1]
    assert first['momentum_buffers'] == 0
    assert first['lr'] == pytest.approx(0.05)
    assert after1['epoch'] == 1 and after1['completed'] == 1

    # the model is not updated in task 0, not even the BN statistics by
    # the curvature collection of KFACBNHook in 'after_task'
    initial = _load(work_dir / 'weights_before_task0.pth')
    after_task0 = _load(work_dir / 'weights_after_task0.pth')
    assert initial.keys() == after_task0.keys()
    for key, value in initial.items():
        assert torch.equal(value, after_task0[key]), key
    final = _load(work_dir / 'epoch_1.pth')
    assert any(not torch.equal(v, final['state_dict'][k])
               for k, v in initial.items())
    # one epoch in all: epoch_1.pth only; its penalty holds task 0
    assert sorted(p for p in os.listdir(work_dir)
                  if p.endswith('.pth') and p.startswith('epoch')) == \
        ['epoch_1.pth']
    assert len(final['kfac_bn_hook']['penalty']['tasks']) == 1

    result = _metrics(work_dir)
    matrix = result['accuracy_matrix']
    assert result['tasks_learned'] == 2 and result['epoch'] == 1
    assert len(matrix) == 2 and all(len(row) == 2 for row in matrix)
    assert matrix[0][1] is None
    assert all(0 <= v <= 100
               for v in (matrix[0][0], matrix[1][0], matrix[1][1]))
    log = outputs['zero_one']
    assert 'Task 0 (1 of 2): 0 epochs (not trained' in log
    assert 'Task 1 (2 of 2): 1 epochs from global epoch 1.' in log


@pytest.mark.slow
def test_zero_epoch_source_task_resumed(runs):
    tmp_path, outputs = runs
    work_dir = tmp_path / 'zero_two'
    # task 0's events come once, from the first process; task 1 is resumed
    # in the middle without a second 'before_task'
    assert _task_events(work_dir) == [('before_task', 0), ('after_task', 0),
                                      ('before_task', 1), ('after_task', 1)]
    assert 'Resuming task 1 (2 of 2) after 1/2 of its epochs' in outputs['zero_two']
    firsts = [e for e in _events(work_dir) if e['event'] == 'first_iter']
    assert [(e['epoch'], e['task']) for e in firsts] == [(0, 1), (1, 1)]
    # momentum and the halved lr of task 1's second epoch are restored
    assert firsts[1]['momentum_buffers'] > 0
    assert firsts[1]['lr'] == pytest.approx(0.025)
    # the penalty restored from epoch_1.pth holds task 0 only; the resumed
    # process adds task 1's curvature at its end
    final = _load(work_dir / 'epoch_2.pth')
    assert len(final['kfac_bn_hook']['penalty']['tasks']) == 1
    matrix = _metrics(work_dir)['accuracy_matrix']
    assert all(
        v is not None for v in (matrix[0][0], matrix[1][0], matrix[1][1]))
    # task 0 is evaluated at the initial weights in both runs (same seed)
    assert matrix[0] == _metrics(tmp_path / 'zero_one')['accuracy_matrix'][0]


def test_epoch_task_map_with_zero_epoch_tasks():
    runner = FakeRunner(lengths={0: 5, 1: 3})
    loader = dict(dataset=dict(type='X'))
    with pytest.raises(ValueError, match='0 for every task'):
        TaskSequenceTrainLoop(runner, loader, num_tasks=2, max_epochs=[0, 0])
    with pytest.raises(ValueError, match='>= 0'):
        TaskSequenceTrainLoop(runner, loader, num_tasks=2, max_epochs=[-1, 2])
    loop = TaskSequenceTrainLoop(
        runner, loader, num_tasks=4, max_epochs=[0, 2, 0, 1])
    assert loop.max_epochs == 3
    assert loop.task_start_epochs == [0, 0, 2, 2, 3]
    # zero-epoch tasks own no epoch
    assert [loop.task_of_epoch(e) for e in range(4)] == [1, 1, 3, 3]
    # before run: the first task at epoch 0, else the task of the last
    # epoch trained
    assert loop.task == 0
    for epoch, task in ((1, 1), (2, 1), (3, 3)):
        loop._epoch = epoch
        assert loop.task == task
    # max_iters counts no iteration for zero-epoch tasks: task 0's loader
    # (5 iterations) is built, tasks 1..3 are assumed as long until task 1's
    # (3 iterations) is
    assert loop.max_iters == 0 * 5 + 2 * 5 + 0 * 5 + 1 * 5
    loop.prepare_resume(1)
    assert loop.dataloader.dataset.task_id == 1
    assert loop.max_iters == 0 * 5 + 2 * 3 + 0 * 3 + 1 * 3

    hub = runner.message_hub
    # (epoch, completed tasks, first task to work on)
    states = [(0, 0, 0), (0, 1, 1), (1, 1, 1), (2, 1, 1), (2, 2, 2), (2, 3, 3),
              (3, 3, 3), (3, 4, 4)]
    for epoch, completed, first in states:
        loop._epoch = epoch
        hub.update_info(COMPLETED_KEY, completed)
        assert loop._check_progress() == first, (epoch, completed)
    for epoch, completed in ((1, 0), (1, 2), (3, 2), (2, 4)):
        loop._epoch = epoch
        hub.update_info(COMPLETED_KEY, completed)
        with pytest.raises(RuntimeError):
            loop._check_progress()
