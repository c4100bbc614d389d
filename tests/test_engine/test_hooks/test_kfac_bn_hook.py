# Copyright (c) mmdl contributors. All rights reserved.
"""KFACBNHook in a 3-task sequence through tools/train.py: the penalty is
installed after the first task and resuming mid-sequence restores it (the
final weights equal an uninterrupted run's)."""
import json

import pytest
import torch
from conftest import finish_train, start_train, toy_sequence_config

from mmdl.engine.runner.checkpoint import load_checkpoint_file


def _config_text(curvature, bn_stats='track'):
    hooks = [
        f"dict(type='KFACBNHook', curvature={curvature!r}, "
        f'adaptive_scaling=True, damping=1e-3, bn_stats={bn_stats!r})'
    ]
    return toy_sequence_config(
        hooks,
        'num_tasks=3, max_epochs=2',
        num_train=320,
        logger_interval=2,
        param_scheduler=False)


def _start(tmp_path, name, curvature, resume=False, bn_stats='track'):
    return start_train(tmp_path, name, _config_text(curvature, bn_stats),
                       resume)


@pytest.mark.slow
@pytest.mark.parametrize('bn_stats', ['track', 'merge_reparam'])
def test_penalty_installed_and_resume_restores_it(tmp_path, bn_stats):
    """Resuming from the uninterrupted run's checkpoint in the middle of
    task 1 (epoch 3) and from the end of task 1 (epoch 4: its evaluation
    and 'after_task' come first) reproduces that run bit for bit."""
    log = finish_train(_start(tmp_path, 'straight', 'xkfac',
                              bn_stats=bn_stats))
    # the penalty only appears from task 1 on
    assert 'loss_penalty' in log and 'loss_damping' in log
    assert 'penalty installed for 1 old task(s)' in log
    if bn_stats == 'merge_reparam':
        assert 'merged 2 batch norm(s)' in log
        assert "reparameterised 2 batch norm(s) with the new task's" in log
    straight = tmp_path / 'straight'
    # the checkpoint written mid task 1 holds task 0's curvature
    mid = load_checkpoint_file(str(straight / 'epoch_3.pth'))
    assert len(mid['kfac_bn_hook']['penalty']['tasks']) == 1
    resumed = {
        name: _start(
            tmp_path,
            name,
            'xkfac',
            resume=straight / f'epoch_{epoch}.pth',
            bn_stats=bn_stats)
        for name, epoch in (('mid', 3), ('end', 4))
    }
    for name, process in resumed.items():
        assert f'resumed epoch: {3 if name == "mid" else 4}' in finish_train(
            process)
    final = load_checkpoint_file(str(straight / 'epoch_6.pth'))['state_dict']
    matrix = json.loads((straight / 'continual_metrics.json').read_text())
    for name in resumed:
        other = load_checkpoint_file(str(tmp_path / name /
                                         'epoch_6.pth'))['state_dict']
        for key, value in final.items():
            assert torch.equal(value, other[key]), (name, key)
        other_matrix = json.loads(
            (tmp_path / name / 'continual_metrics.json').read_text())
        assert other_matrix == matrix
