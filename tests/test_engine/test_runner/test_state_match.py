# Copyright (c) mmdl contributors. All rights reserved.
"""Checkpoints that do not fit the model: key comparison, fingerprints, and
MMDLRunner's strict loading and resume refusal."""
import copy

import pytest
import torch
from test_runner import ToyModel, runner  # noqa: F401 (fixture)
from torch import nn

from mmdl.engine.runner.checkpoint import load_checkpoint_file
from mmdl.engine.runner.state_match import (FINGERPRINT_KEY,
                                            CheckpointMismatchError,
                                            compare_state_dicts,
                                            model_fingerprint)


def test_compare_state_dicts():
    model = {'a': torch.zeros(2), 'b': torch.zeros(3, 4), 'c': torch.zeros(1)}
    ckpt = {'b': torch.zeros(4, 3), 'c': torch.ones(1), 'd': torch.zeros(1)}
    mismatch = compare_state_dicts(model, ckpt)
    assert mismatch.missing == ['a']
    assert mismatch.unexpected == ['d']
    assert mismatch.shapes == [('b', (4, 3), (3, 4))]
    assert mismatch.counts() == ('1 missing key, 1 unexpected key, '
                                 '1 shape mismatch')
    assert not compare_state_dicts(model, copy.deepcopy(model))


def test_fingerprint_depends_on_names_and_shapes_only():
    a, b = nn.Linear(3, 2), nn.Linear(3, 2)
    with torch.no_grad():
        b.weight.add_(1.0)
    assert model_fingerprint(a) == model_fingerprint(b)
    assert model_fingerprint(a) != model_fingerprint(nn.Linear(4, 2))
    assert model_fingerprint(a) != model_fingerprint(nn.Sequential(a))


def _save_foreign(path, meta=None):
    """A checkpoint of another model: ``linear`` 3 -> 1 and an extra key."""
    state = {
        'linear.weight': torch.ones(1, 3),
        'linear.bias': torch.ones(1),
        'extra.weight': torch.ones(2)
    }
    torch.save(dict(state_dict=state, meta=dict(meta or {}, epoch=1,
                                                iter=2)), path)


def test_strict_load_refuses_a_mismatch_and_loads_nothing(runner, tmp_path):
    path = str(tmp_path / 'foreign.pth')
    _save_foreign(path)
    before = copy.deepcopy(runner.model.state_dict())
    with pytest.raises(CheckpointMismatchError) as info:
        runner.load_checkpoint(path)
    lines = str(info.value).splitlines()
    assert lines[0] == ('  unexpected keys (1): extra.weight')
    assert lines[1] == ('  shape mismatches (1): linear.weight (checkpoint '
                        '[1, 3], model [1, 2])')
    assert path in lines[-1] and 'ToyModel' in lines[-1]
    assert '--non-strict' in lines[-1]
    for key, value in runner.model.state_dict().items():
        assert torch.equal(value, before[key])


def test_non_strict_load_takes_the_matching_keys(runner, tmp_path):
    path = str(tmp_path / 'foreign.pth')
    _save_foreign(path)
    runner.cfg.load_strict = False
    runner.load_checkpoint(path)
    # the bias fits and is loaded; the weight of another shape is not
    assert torch.equal(runner.model.linear.bias, torch.ones(1))
    assert not torch.equal(runner.model.linear.weight, torch.ones(1, 2))


def test_saved_checkpoint_carries_the_fingerprint(runner, tmp_path):
    runner.train()
    checkpoint = load_checkpoint_file(str(tmp_path / 'epoch_1.pth'))
    assert checkpoint['meta'][FINGERPRINT_KEY] == model_fingerprint(
        ToyModel())
    runner.load_checkpoint(str(tmp_path / 'epoch_1.pth'))  # fits


def test_resume_refuses_another_model_before_touching_state(
        runner, tmp_path):
    path = str(tmp_path / 'foreign.pth')
    _save_foreign(path, {FINGERPRINT_KEY: 'ffffffffffffffff'})
    before = copy.deepcopy(runner.model.state_dict())
    hub_before = copy.deepcopy(runner.message_hub.state_dict())
    with pytest.raises(CheckpointMismatchError, match='resume refused'):
        runner.resume(path)
    for key, value in runner.model.state_dict().items():
        assert torch.equal(value, before[key])
    assert runner.message_hub.state_dict() == hub_before
    assert runner.train_loop.epoch == 0


def test_resume_refuses_a_fingerprint_mismatch_with_equal_keys(
        runner, tmp_path):
    """Equal keys and shapes but another fingerprint: the checkpoint says
    it was written for another model."""
    state = {k: v.clone() for k, v in runner.model.state_dict().items()}
    path = str(tmp_path / 'other.pth')
    torch.save(
        dict(
            state_dict=state,
            meta={
                FINGERPRINT_KEY: 'ffffffffffffffff',
                'epoch': 1,
                'iter': 2
            }), path)
    with pytest.raises(CheckpointMismatchError,
                       match='written for another model'):
        runner.resume(path)
