# Copyright (c) mmdl contributors. All rights reserved.
"""TaskSequenceTrainLoop: a 3-task permuted-digits run through
tools/train.py, the task events, the optimiser resets, the accuracy matrix
files, and resuming in the middle and at the end of a task."""
import os.path as osp

import pytest
import torch
from conftest import (finish_train, read_json, read_jsonl, start_train,
                      toy_sequence_config)
from toy_tasks import FakeRunner

from mmdl.engine.loops import TaskSequenceTrainLoop

EVENTS_FILE = 'task_events.jsonl'
# epochs per task; global epochs 1-2: task 0, 3-4: task 1, 5-6: task 2
EPOCHS = 2
NUM_TASKS = 3
# per-task lr (task 1 overridden), halved for the second epoch of a task
LRS = [0.05, 0.02, 0.05]


def _config_text(stop_epoch=None):
    hooks = ["dict(type='TaskEventRecorderHook', freeze_bn_epoch=1)"]
    if stop_epoch is not None:
        hooks.append(f"dict(type='StopAtEpochHook', stop_epoch={stop_epoch})")
    return toy_sequence_config(
        hooks, f'num_tasks={NUM_TASKS}, max_epochs={EPOCHS}, val_interval=1, '
        'task_cfgs=[None, dict(optim_wrapper=dict(optimizer=dict(lr=0.02))), '
        'None]')


def _start(tmp_path, name, stop_epoch=None, resume=False):
    return start_train(tmp_path, name, _config_text(stop_epoch), resume)


def _events(work_dir):
    return read_jsonl(osp.join(work_dir, EVENTS_FILE))


def _metrics(work_dir):
    return read_json(osp.join(work_dir, 'continual_metrics.json'))


def _weights(work_dir):
    checkpoint = torch.load(
        osp.join(work_dir, f'epoch_{EPOCHS * NUM_TASKS}.pth'),
        map_location='cpu')
    return checkpoint['state_dict']


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    """The uninterrupted run and two runs stopped after global epoch 3 (mid
    task 1) and 4 (end of task 1, before its evaluation), then resumed."""
    tmp_path = tmp_path_factory.mktemp('task_loop')
    started = [
        _start(tmp_path, 'straight'),
        _start(tmp_path, 'stop3', stop_epoch=3),
        _start(tmp_path, 'stop4', stop_epoch=4)
    ]
    outputs = {'straight': finish_train(started[0])}
    finish_train(started[1], expected_rc=3)
    finish_train(started[2], expected_rc=3)
    for name in ('stop3', 'stop4'):
        # the stop hook stays; it only fires at its epoch
        assert not osp.exists(tmp_path / name / 'continual_metrics.json') \
            or _metrics(tmp_path / name)['tasks_learned'] == 1
    resumed = [
        _start(tmp_path, name, resume=True) for name in ('stop3', 'stop4')
    ]
    outputs['stop3'] = finish_train(resumed[0])
    outputs['stop4'] = finish_train(resumed[1])
    return tmp_path, outputs


@pytest.mark.slow
def test_events_in_order(runs):
    tmp_path, _ = runs
    events = [
        e for e in _events(tmp_path / 'straight') if e['event'] != 'first_iter'
    ]
    assert [(e['event'], e['task_index'])
            for e in events] == [('before_task', 0), ('after_task', 0),
                                 ('before_task', 1), ('after_task', 1),
                                 ('before_task', 2), ('after_task', 2)]
    for event in events:
        task = event['task_index']
        # the loader, the model and the loop are on the task
        assert event['loader_task'] == task
        # 'after_task' comes before the task is marked completed
        assert event['completed'] == task
        if event['event'] == 'before_task':
            assert event['epoch'] == EPOCHS * task
            assert event['current_task'] == task
            assert event['loop_task'] == task
        else:
            assert event['epoch'] == EPOCHS * (task + 1)
            # the row is filled before 'after_task'
            assert all(v is not None for v in event['row'][:task + 1])
            assert all(v is None for v in event['row'][task + 1:])


@pytest.mark.slow
def test_optimiser_reset_and_schedules_per_task(runs):
    tmp_path, _ = runs
    firsts = [
        e for e in _events(tmp_path / 'straight') if e['event'] == 'first_iter'
    ]
    assert [e['epoch'] for e in firsts] == list(range(EPOCHS * NUM_TASKS))
    for record in firsts:
        task, in_task = divmod(record['epoch'], EPOCHS)
        assert record['task'] == record['current_task'] == task
        assert record['loader_task'] == task
        assert record['batch_task_ids'] == [task]
        # 640 samples / batch 32 = 20 iterations per epoch
        assert record['iter'] == 20 * record['epoch']
        # empty momentum buffers exactly at the first iteration of a task
        assert (record['momentum_buffers'] == 0) == (in_task == 0)
        # per-task lr, MultiStepLR milestone 1 in epochs of the task
        assert record['lr'] == pytest.approx(LRS[task] * 0.5**in_task)
        # model.train() comes before before_train_epoch: the BN layers the
        # hook set to eval at epoch 1 stay in eval mode
        assert record['bn_training'] == (record['epoch'] != 1)


@pytest.mark.slow
def test_results_files(runs):
    tmp_path, outputs = runs
    work_dir = tmp_path / 'straight'
    result = _metrics(work_dir)
    matrix = result['accuracy_matrix']
    assert result['metric'] == 'accuracy/top1'
    assert result['tasks_learned'] == NUM_TASKS
    for i in range(NUM_TASKS):
        for j in range(NUM_TASKS):
            if j <= i:
                assert 0 <= matrix[i][j] <= 100
            else:
                assert matrix[i][j] is None
    last = matrix[-1]
    assert result['ACC'] == pytest.approx(sum(last) / NUM_TASKS)
    assert result['BWT'] == pytest.approx(
        sum(last[j] - matrix[j][j]
            for j in range(NUM_TASKS - 1)) / (NUM_TASKS - 1))
    assert result['row_averages'][0] == pytest.approx(matrix[0][0])
    # the tasks are learnt (8x8 digits, chance is 10%)
    assert min(matrix[i][i] for i in range(NUM_TASKS)) > 50
    with open(work_dir / 'accuracy_matrix.png', 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'
    log = outputs['straight']
    assert 'Accuracy matrix (accuracy/top1) after task 2' in log
    assert 'Continual metrics after task 2' in log
    # val_interval=1: the current task after every epoch but a task's last
    for task in range(NUM_TASKS):
        assert (f'Epoch {EPOCHS * task + 1} (task {task}, epoch 1/{EPOCHS}) '
                f'validation on task {task}: accuracy/top1:') in log
    assert log.count('validation on task') == NUM_TASKS


@pytest.mark.slow
@pytest.mark.parametrize('name', ['stop3', 'stop4'])
def test_resume_reproduces_uninterrupted_run(runs, name):
    tmp_path, outputs = runs
    straight = _weights(tmp_path / 'straight')
    resumed = _weights(tmp_path / name)
    assert straight.keys() == resumed.keys()
    for key, value in straight.items():
        assert torch.equal(value, resumed[key]), key
    assert _metrics(tmp_path / name)['accuracy_matrix'] == _metrics(
        tmp_path / 'straight')['accuracy_matrix']
    # no second 'before_task' for the resumed task 1; its 'after_task'
    # comes once, from the resumed process when stopped at its end
    events = [(e['event'], e['task_index']) for e in _events(tmp_path / name)
              if e['event'] != 'first_iter']
    assert events == [('before_task', 0),
                      ('after_task', 0), ('before_task', 1), ('after_task', 1),
                      ('before_task', 2), ('after_task', 2)]
    if name == 'stop3':
        # resumed mid-task: momentum buffers and the halved lr restored
        resumed_first = [
            e for e in _events(tmp_path / name)
            if e['event'] == 'first_iter' and e['epoch'] == 3
        ]
        assert len(resumed_first) == 1
        assert resumed_first[0]['momentum_buffers'] > 0
        assert resumed_first[0]['lr'] == pytest.approx(LRS[1] * 0.5)
        assert ('Resuming task 1 (2 of 3) after 1/2 of its epochs'
                in outputs[name])
    else:
        assert ('Resuming at the end of task 1 (2 of 3), 2/2 epochs'
                in outputs[name])


def test_construction_checks():
    runner = FakeRunner()
    loader = dict(dataset=dict(type='X'))
    with pytest.raises(ValueError, match='entries'):
        TaskSequenceTrainLoop(runner, loader, num_tasks=3, max_epochs=[1, 2])
    with pytest.raises(ValueError, match='positive integer'):
        TaskSequenceTrainLoop(runner, loader, num_tasks=0, max_epochs=1)
    with pytest.raises(ValueError, match='0 for every task'):
        TaskSequenceTrainLoop(runner, loader, num_tasks=2, max_epochs=0)
    with pytest.raises(ValueError, match='>= 0'):
        TaskSequenceTrainLoop(runner, loader, num_tasks=2, max_epochs=[2, -1])
    with pytest.raises(ValueError, match='unknown keys'):
        TaskSequenceTrainLoop(
            runner, loader, num_tasks=1, max_epochs=1, task_cfgs=[dict(lr=1)])
    with pytest.raises(ValueError, match='same scheduler types'):
        TaskSequenceTrainLoop(
            runner,
            loader,
            num_tasks=2,
            max_epochs=1,
            task_cfgs=[
                None,
                dict(param_scheduler=dict(type='LinearLR', start_factor=0.1))
            ])
    with pytest.raises(TypeError, match='template'):
        TaskSequenceTrainLoop(
            runner, torch.utils.data.DataLoader([1]), 1, max_epochs=1)
    # nothing was built by the refused constructions
    assert runner.built == []


def test_loop_state_and_max_iters():
    # task lengths 5, 3 and 4 iterations per epoch
    runner = FakeRunner(lengths={0: 5, 1: 3, 2: 4})
    loop = TaskSequenceTrainLoop(
        runner,
        dict(dataset=dict(type='X')),
        num_tasks=3,
        max_epochs=[3, 1, 2])
    assert loop.max_epochs == 6 and loop.task_epochs == [3, 1, 2]
    assert loop.task_start_epochs == [0, 3, 4, 6]
    assert [loop.task_of_epoch(e) for e in range(7)] == [0, 0, 0, 1, 2, 2, 2]
    # the loop built task 0's training loader, which is its dataloader
    assert [c['dataset'] for c in runner.built] == [dict(type='X', task_id=0)]
    assert loop.dataloader is loop.task_dataloader()
    assert loop.task == 0 and loop.completed_tasks == 0
    # only task 0 is known: the others are assumed as long
    assert loop.max_iters == 6 * 5
    # a resumed epoch in task 2: its loader is built, the estimate exact
    # for tasks 0 and 2 and task 1 like task 0
    loop.prepare_resume(5)
    loop._epoch = 5  # as mmengine's Runner.resume does next
    assert loop.dataloader.dataset.task_id == 2 and loop.task == 2
    assert loop.max_iters == 3 * 5 + 1 * 5 + 2 * 4
    loop.task_dataloader(1)  # task 1 is not current: built, not kept
    assert loop.dataloader.dataset.task_id == 2
    assert loop.max_iters == 3 * 5 + 1 * 5 + 2 * 4
    assert len(runner.built) == 3
    # the template's val dataset has no task_id: the runner's gets task 0
    assert runner.val_dataloader_cfg['dataset'] == dict(type='X', task_id=0)
    assert loop.task_dataloader_cfg(1, 'val')['dataset'] == dict(
        type='X', task_id=1)
