# Copyright (c) mmdl contributors. All rights reserved.
"""DropPathScheduleHook: the linear ramp of DARTS' ``train.py`` on every
module with drop-path, through model wrappers; a model without drop-path
fails."""
from types import SimpleNamespace

import pytest
from mmengine.registry import DefaultScope
from torch import nn

from mmdl.engine.hooks import DropPathScheduleHook
from mmdl.models import DARTSBackbone
from mmdl.registry import HOOKS


class _Recorder(nn.Module):
    """A second drop-path module with another rate; records the calls."""

    def __init__(self, drop_path_rate: float) -> None:
        super().__init__()
        self.drop_path_rate = drop_path_rate
        self.calls = []

    def set_drop_path_prob(self, prob: float) -> None:
        self.calls.append(prob)


class _Model(nn.Module):

    def __init__(self) -> None:
        super().__init__()
        self.backbone = DARTSBackbone(
            'DARTS_V2', num_layers=3, base_channels=4, drop_path_rate=0.2)
        self.head = nn.Sequential(nn.Linear(4, 2), _Recorder(0.5))


class _OpaqueWrapper(nn.DataParallel):
    """A model wrapper (DataParallel, registered by mmengine) whose own
    modules must not be searched: the hook has to unwrap it."""

    def modules(self):
        raise AssertionError('the hook did not unwrap the model')


def _runner(model: nn.Module, epoch: int, max_epochs: int):
    """What the hook reads from a runner."""
    return SimpleNamespace(model=model, epoch=epoch, max_epochs=max_epochs)


@pytest.mark.parametrize('wrap', [False, True], ids=['plain', 'wrapped'])
def test_linear_ramp_over_the_epochs(wrap):
    model = _Model()
    runner_model = _OpaqueWrapper(model) if wrap else model
    hook = DropPathScheduleHook()
    max_epochs = 5
    hook.before_train(_runner(runner_model, 0, max_epochs))
    seen = []
    for epoch in range(max_epochs):
        hook.before_train_epoch(_runner(runner_model, epoch, max_epochs))
        seen.append(model.backbone.drop_path_prob)
        # the hook sets the probability; the epoch uses it
        assert model.backbone.drop_path_prob == pytest.approx(0.2 * epoch /
                                                              max_epochs)
    assert seen == pytest.approx([0.0, 0.04, 0.08, 0.12, 0.16])
    recorder = model.head[1]
    assert recorder.calls == pytest.approx(
        [0.5 * e / max_epochs for e in range(max_epochs)])


def test_resumed_epoch_gets_its_own_probability():
    model = _Model()
    DropPathScheduleHook().before_train_epoch(_runner(model, 450, 600))
    assert model.backbone.drop_path_prob == pytest.approx(0.15)


def test_model_without_drop_path_fails():
    hook = DropPathScheduleHook()
    model = nn.Sequential(nn.Linear(2, 2))
    with pytest.raises(TypeError, match='set_drop_path_prob'):
        hook.before_train(_runner(model, 0, 3))
    with pytest.raises(TypeError, match='set_drop_path_prob'):
        hook.before_train_epoch(_runner(_OpaqueWrapper(model), 0, 3))


def test_built_from_a_config():
    with DefaultScope.overwrite_default_scope('mmdl'):
        hook = HOOKS.build(dict(type='DropPathScheduleHook'))
    assert isinstance(hook, DropPathScheduleHook)
