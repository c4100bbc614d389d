# Copyright (c) mmdl contributors. All rights reserved.
"""Per-task dataloader configs, replacements and caching of
TaskDataloaders (with a fake runner that records what it builds)."""
import pytest
from toy_tasks import FakeRunner

from mmdl.engine.loops.task_data import TaskDataloaders


def test_task_configs():
    runner = FakeRunner()
    wrapped = dict(
        batch_size=4, dataset=dict(type='W', dataset=dict(type='X')))
    data = TaskDataloaders(runner, wrapped)
    cfg = data.cfg(2)
    # the outermost dataset of a wrapped template gets the task index
    assert cfg == dict(
        batch_size=4,
        dataset=dict(type='W', task_id=2, dataset=dict(type='X')))
    assert 'task_id' not in wrapped['dataset']
    assert data.cfg(1, 'val')['dataset'] == dict(type='X', task_id=1)
    # the runner's validation config got task 0, the template did not
    assert runner.val_dataloader_cfg['dataset'] == dict(type='X', task_id=0)
    other_key = TaskDataloaders(
        FakeRunner(), dict(dataset=dict(type='X')), task_key='index')
    assert other_key.cfg(3)['dataset'] == dict(type='X', index=3)
    with pytest.raises(ValueError, match='split'):
        data.cfg(0, 'test')
    with pytest.raises(TypeError, match='template'):
        TaskDataloaders(runner, [dict(type='X')])


def test_val_template_kept_when_val_loop_built_or_indexed():
    runner = FakeRunner(val_dataloader=dict(dataset=dict(type='X')))
    runner.val_loop_built = True
    TaskDataloaders(runner, dict(dataset=dict(type='X')))
    assert runner.val_dataloader_cfg['dataset'] == dict(type='X')
    indexed = FakeRunner(
        val_dataloader=dict(dataset=dict(type='X', task_id=4)))
    data = TaskDataloaders(indexed, dict(dataset=dict(type='X')))
    assert indexed.val_dataloader_cfg['dataset'] == dict(type='X', task_id=4)
    assert data.cfg(1, 'val')['dataset'] == dict(type='X', task_id=1)
    no_val_runner = FakeRunner()
    no_val_runner.set_val_dataloader_cfg(None)
    no_val = TaskDataloaders(no_val_runner, dict(dataset=dict(type='X')))
    assert not no_val.has_val
    with pytest.raises(ValueError, match='no validation'):
        no_val.cfg(0, 'val')


def test_current_loader_replacements_and_cache():
    runner = FakeRunner()
    data = TaskDataloaders(runner, dict(dataset=dict(type='X')))
    assert data.train_loader is None
    first = data.use_train(0)
    assert data.use_train(0) is first and data.train_task == 0
    assert runner.visualizer.dataset_meta is None  # no metainfo
    second = data.use_train(1)
    assert second is not first and data.train_loader is second
    assert [c['dataset']['task_id'] for c in runner.built] == [0, 1]
    assert data.train_lengths == {0: 5, 1: 5}

    # a replacement of the current task is built on next use
    data.replace(1, dict(type='Y', size=3))
    assert data.train_loader is second
    replaced = data.use_train(1)
    assert replaced is not second and replaced.cfg['dataset'] == dict(
        type='Y', size=3)
    # frozen: the current task's training data can no longer change
    data.freeze(1)
    with pytest.raises(RuntimeError, match='has started'):
        data.replace(1, dict(type='Z'))
    data.replace(0, dict(type='Z'))  # other tasks can
    data.replace(1, dict(type='Z'), split='val')  # and its validation set
    assert data.build(0).cfg['dataset'] == dict(type='Z')
    data.freeze(None)
    data.replace(1, dict(type='Z'))

    # validation loaders are cached; a replacement drops the cache
    val = data.val_loader(2)
    assert data.val_loader(2) is val
    data.replace(2, dict(type='V'), split='val')
    assert data.val_loader(2).cfg['dataset'] == dict(type='V')
    assert data.val_loader(2) is not val


def test_runner_val_loader_reused_for_its_config():
    runner = FakeRunner()
    data = TaskDataloaders(runner, dict(dataset=dict(type='X')))
    own = object()
    runner.val_loop_built = True
    runner.val_loop = type('ValLoop', (), dict(dataloader=own))()
    # task 0's config is the runner's: its loader is reused
    assert data.val_loader(0) is own
    assert data.val_loader(1) is not own
    assert [c['dataset'] for c in runner.built] == [dict(type='X', task_id=1)]
