# Copyright (c) mmdl contributors. All rights reserved.
"""The public API of TaskSequenceTrainLoop on an in-process toy sequence:
task_dataloader, replace_task_dataset, set_model, and properties that build
nothing."""
import copy

import pytest
import torch
from mmengine.registry import DefaultScope
from toy_tasks import (CallbackHook, ToyClassifier, ToyTaskDataset, top1,
                       toy_runner)

from mmdl.engine import MMDLRunner

BATCH = 8


@pytest.fixture(autouse=True)
def _clear_scope():
    yield
    DefaultScope._instance_dict.clear()


@pytest.fixture
def count_builds(monkeypatch):
    """Record the dataset config of every dataloader the runner builds."""
    built = []
    original = MMDLRunner.build_dataloader

    def counting(dataloader, seed=None, diff_rank_seed=False):
        built.append(copy.copy(dataloader['dataset']))
        return original(dataloader, seed=seed, diff_rank_seed=diff_rank_seed)

    monkeypatch.setattr(MMDLRunner, 'build_dataloader', staticmethod(counting))
    return built


def test_properties_build_nothing(tmp_path, count_builds):
    runner = toy_runner(tmp_path, num_tasks=3, max_epochs=[1, 2, 1])
    loop = runner.train_loop
    # the loop builds the first task's training loader when it is built
    assert len(count_builds) == 1 and count_builds[0]['task_id'] == 0
    for _ in range(3):
        assert loop.dataloader is runner.train_dataloader
        # 24 samples / batch 8 = 3 iterations; tasks 1 and 2 like task 0
        assert loop.max_iters == runner.max_iters == (1 + 2 + 1) * 3
        assert loop.task == 0 and loop.max_epochs == 4
        assert loop.accuracy_matrix == [[None] * 3] * 3
    assert len(count_builds) == 1

    events = []

    def before_train_epoch(runner):
        loop = runner.train_loop
        events.append((loop.task, len(count_builds), loop.max_iters,
                       runner.train_dataloader is loop.task_dataloader()))

    runner.register_hook(CallbackHook(before_train_epoch=before_train_epoch))
    runner.train()
    train = [c['task_id'] for c in count_builds if c['num_samples'] == 24]
    val = [c['task_id'] for c in count_builds if c['num_samples'] == 12]
    # every training and validation loader once; task 0's validation loader
    # is the runner's validation loop's
    assert train == [0, 1, 2] and val == [0, 1, 2]
    assert [e[0] for e in events] == [0, 1, 1, 2]
    # builds so far: task 0's loaders, then each task's training loader
    # when it starts, its validation loader after it
    assert [e[1] for e in events] == [2, 3, 3, 5]
    assert [e[2] for e in events] == [12] * 4
    assert all(e[3] for e in events)


def test_task_dataloader(tmp_path):
    seen = {}

    def before_train_epoch(runner):
        loop = runner.train_loop
        if loop.task != 1:
            return
        seen['current'] = loop.task_dataloader() is runner.train_dataloader
        seen['explicit'] = loop.task_dataloader(1) is runner.train_dataloader
        other = loop.task_dataloader(0, 'train')
        seen['other'] = (other.dataset.task_id, other
                         is not runner.train_dataloader)
        seen['val_cached'] = loop.task_dataloader(
            0, 'val') is loop.task_dataloader(0, 'val')
        seen['val_task'] = loop.task_dataloader(split='val').dataset.task_id

    runner = toy_runner(tmp_path,
                        [CallbackHook(before_train_epoch=before_train_epoch)])
    runner.train()
    assert seen == dict(
        current=True,
        explicit=True,
        other=(0, True),
        val_cached=True,
        val_task=1)


def test_replace_task_dataset(tmp_path):
    labels, errors = [], {}
    constant_val = ToyTaskDataset(task_id=0, num_samples=16, label=0)
    rows = {}

    def before_train(runner):
        # a built dataset for task 0's validation
        runner.train_loop.replace_task_dataset(0, constant_val, split='val')

    def before_task(runner, task_index):
        if task_index == 1:
            # a config for task 1's training data: 16 samples, all label 2
            runner.train_loop.replace_task_dataset(
                1,
                dict(
                    type='ToyTaskDataset', task_id=1, num_samples=16, label=2))

    def before_train_epoch(runner):
        loop = runner.train_loop
        with pytest.raises(RuntimeError, match='has started') as error:
            loop.replace_task_dataset(loop.task, dict(type='ToyTaskDataset'))
        errors[loop.task] = str(error.value)

    def before_train_iter(runner, data_batch):
        labels.append((runner.train_loop.task,
                       sorted({int(y)
                               for y in data_batch['data_samples']})))

    def after_task(runner, task_index):
        loop = runner.train_loop
        model = runner.model
        rows[task_index] = (loop.accuracy_matrix[task_index],
                            top1(model, constant_val))
        if task_index == 0:
            # a future task may still be replaced, the finished one not
            loop.replace_task_dataset(1, dict(type='ToyTaskDataset'))
            with pytest.raises(RuntimeError, match='has started'):
                loop.replace_task_dataset(0, dict(type='ToyTaskDataset'))

    hook = CallbackHook(
        before_train=before_train,
        before_task=before_task,
        before_train_epoch=before_train_epoch,
        before_train_iter=before_train_iter,
        after_task=after_task)
    runner = toy_runner(tmp_path, [hook])
    runner.train()
    # task 0: the template (labels 0..2), 3 iterations per epoch; task 1:
    # the replacement, 16 / 8 = 2 iterations per epoch, label 2 only
    task0 = [ls for task, ls in labels if task == 0]
    task1 = [ls for task, ls in labels if task == 1]
    assert len(task0) == 2 * 3 and len(task1) == 2 * 2
    assert set(sum(task0, [])) == {0, 1, 2}
    assert all(ls == [2] for ls in task1)
    assert sorted(errors) == [0, 1]
    # task 0 is evaluated on the replaced validation set
    for task, (row, reference) in rows.items():
        assert row[0] == pytest.approx(reference)
    # the loader in use is the replacement's
    assert runner.train_dataloader.dataset.labels.tolist() == [2] * 16


def test_replace_task_dataset_checks(tmp_path):
    runner = toy_runner(tmp_path)
    loop = runner.train_loop
    with pytest.raises(ValueError, match='split'):
        loop.replace_task_dataset(0, dict(type='ToyTaskDataset'), 'test')
    with pytest.raises(TypeError, match='Dataset or a dataset config'):
        loop.replace_task_dataset(0, [1, 2, 3])
    # before the run the current task's loader is rebuilt on demand
    first = runner.train_dataloader
    replacement = ToyTaskDataset(num_samples=8)
    loop.replace_task_dataset(0, replacement)
    assert loop.task_dataloader() is not first
    assert len(loop.task_dataloader().dataset) == 8
    assert loop.task_dataloader() is runner.train_dataloader
    assert loop.task_dataloader_cfg(0)['dataset'] is replacement
    assert loop.task_dataloader_cfg(0, 'val')['dataset'] == dict(
        type='ToyTaskDataset', num_samples=12, task_id=0)


def test_set_model(tmp_path):
    new_model = ToyClassifier()
    with torch.no_grad():
        new_model.fc.weight.zero_()
        new_model.fc.bias.zero_()
    state = {}

    def before_task(runner, task_index):
        if task_index == 1:
            state['old'] = runner.model
            state['old_weights'] = copy.deepcopy(runner.model.state_dict())
            runner.train_loop.set_model(new_model)

    def before_train_iter(runner, data_batch):
        state.setdefault('params', []).append([
            p for group in runner.optim_wrapper.param_groups
            for p in group['params']
        ])
        with pytest.raises(RuntimeError, match='is training'):
            runner.train_loop.set_model(ToyClassifier())

    def after_task(runner, task_index):
        dataset = ToyTaskDataset(task_id=task_index, num_samples=24)
        state[task_index] = (runner.model,
                             runner.train_loop.accuracy_matrix[task_index],
                             top1(runner.model, dataset))

    hook = CallbackHook(
        before_task=before_task,
        before_train_iter=before_train_iter,
        after_task=after_task)
    runner = toy_runner(tmp_path, [hook])
    runner.train()
    model, row, reference = state[1]
    assert model is new_model and runner.model is new_model
    assert new_model.current_task == 1
    # task 1's optimiser holds the new model's parameters
    new_params = list(new_model.parameters())
    for params in state['params'][6:]:
        assert len(params) == len(new_params)
        assert all(any(p is q for q in new_params) for p in params)
    # ... which were trained, while the old model stayed as it was
    assert new_model.fc.weight.abs().sum() > 0
    for key, value in state['old'].state_dict().items():
        assert torch.equal(value, state['old_weights'][key]), key
    # and it is the model evaluated after task 1
    assert row[1] == pytest.approx(reference)
