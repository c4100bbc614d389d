# Copyright (c) mmdl contributors. All rights reserved.
"""A continual-learning method added from outside mmdl: a regulariser and a
ContinualHook subclass in a module of their own, loaded with
``custom_imports`` and run through tools/train.py on 3 permuted-digits
tasks, without any change to mmdl."""
import os
import os.path as osp
import re
import sys
import textwrap

import pytest
from conftest import (LOOP_TESTS, REPO_ROOT, read_json, run_tool,
                      toy_sequence_config)

from mmdl.engine.runner.checkpoint import load_checkpoint_file

TOY_MODULE = textwrap.dedent('''
    """A toy continual-learning method: a regulariser whose value is
    ``weight * (tasks consolidated)`` and a hook recording the task
    events."""
    import json
    import os.path as osp

    from mmdl.continual.regularizers import BaseRegularizer
    from mmdl.engine.hooks import ContinualHook
    from mmdl.registry import HOOKS, REGULARIZERS


    @REGULARIZERS.register_module()
    class ToyCountRegularizer(BaseRegularizer):

        def __init__(self, weight):
            self.weight = weight
            self.examples = []
            self.logits_shapes = []

        def consolidate(self, model, batches=None, logits_fn=None,
                        generator=None):
            total = 0
            for batch in batches:
                logits, labels = logits_fn(model, batch)
                self.logits_shapes.append(list(logits.shape))
                total += len(labels)
            self.examples.append(total)

        def __call__(self, model):
            bias = model.head.fc.bias
            # connected to the parameters, but no gradient
            return bias.sum() * 0 + self.weight * len(self.examples)

        def state_dict(self):
            return dict(examples=list(self.examples),
                        logits_shapes=list(self.logits_shapes))

        def load_state_dict(self, state):
            self.examples = list(state['examples'])
            self.logits_shapes = list(state['logits_shapes'])


    @HOOKS.register_module()
    class ToyEventHook(ContinualHook):

        state_key = 'toy_event_hook'

        def __init__(self):
            self.events = []

        def _record(self, runner, event, task_index):
            train = self.train_dataloader(runner)
            val = self.val_dataloader(runner, 0)
            self.events.append(
                [event, task_index, runner.epoch, train.dataset.task_id,
                 val.dataset.task_id])
            with open(osp.join(runner.work_dir, 'toy_events.json'),
                      'w') as f:
                json.dump(self.events, f)

        def before_task(self, runner, task_index):
            self._record(runner, 'before_task', task_index)

        def after_task(self, runner, task_index):
            self._record(runner, 'after_task', task_index)

        def state_dict(self):
            return dict(events=list(self.events))

        def load_state_dict(self, state):
            self.events = list(state['events'])
''')

WEIGHT = 0.25
NUM_TRAIN = 96


def _penalties_by_epoch(log):
    """Epoch (1-based) -> the logged ``loss_penalty`` values (None where a
    training line has none)."""
    found = {}
    for line in log.splitlines():
        match = re.search(r'Epoch\(train\)\s+\[(\d+)\]\[\d+/\d+\]', line)
        if not match:
            continue
        value = re.search(r'loss_penalty: ([-0-9.e]+)', line)
        values = found.setdefault(int(match.group(1)), [])
        values.append(float(value.group(1)) if value else None)
    return found


@pytest.mark.slow
def test_toy_regularizer_and_hook_through_tools_train(tmp_path):
    (tmp_path / 'toy_continual_method.py').write_text(TOY_MODULE)
    hooks = [
        "dict(type='RegularizerHook', regularizer=dict("
        f"type='ToyCountRegularizer', weight={WEIGHT}), "
        'task_weighting=False)', "dict(type='ToyEventHook')"
    ]
    config = toy_sequence_config(
        hooks,
        'num_tasks=3, max_epochs=1',
        num_train=NUM_TRAIN,
        logger_interval=1,
        param_scheduler=False)
    config += (
        "custom_imports = dict(imports=['task_loop_helpers', "
        "'toy_continual_method'], allow_failed_imports=False)\n"
        # log every iteration's own values, not running means
        'log_processor = dict(window_size=1)\n')
    (tmp_path / 'toy.py').write_text(config)
    work_dir = tmp_path / 'work'
    train = osp.join(REPO_ROOT, 'tools', 'train.py')
    args = [sys.executable, train, str(tmp_path / 'toy.py')]
    # the toy module is importable from tmp_path, as a user's would be
    path = os.pathsep.join([LOOP_TESTS, str(tmp_path)])
    result = run_tool(
        args + ['--work-dir', str(work_dir)],
        env=dict(PYTHONPATH=path, OMP_NUM_THREADS='1'))
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]

    # the hook's events, in order, with the current task's training data
    events = read_json(work_dir / 'toy_events.json')
    assert events == [[event, t, t + (event == 'after_task'), t, 0]
                      for t in range(3)
                      for event in ('before_task', 'after_task')]

    # the regulariser's value entered the loss: none in task 0, then
    # weight * (tasks consolidated) in every iteration of tasks 1 and 2
    penalties = _penalties_by_epoch(log)
    assert sorted(penalties) == [1, 2, 3]
    assert set(penalties[1]) == {None}
    assert penalties[2] == [WEIGHT] * 3 and penalties[3] == [2 * WEIGHT] * 3
    assert 'ToyCountRegularizer consolidated on task 1; penalty ' \
        'installed for 2 old task(s)' in log

    # states in the checkpoints: the last epoch of a task is saved before
    # its 'after_task'
    last = load_checkpoint_file(str(work_dir / 'epoch_3.pth'))
    assert last['toy_event_hook']['events'] == events[:-1]
    state = last['regularizer_hook']
    assert state['type'] == 'ToyCountRegularizer'
    # each consolidation saw the task's whole training set
    assert state['regularizer']['examples'] == [NUM_TRAIN, NUM_TRAIN]
    assert state['regularizer']['logits_shapes'][0] == [32, 10]
    assert state['objective']['num_old_tasks'] == 2
