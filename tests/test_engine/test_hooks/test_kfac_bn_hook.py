# Copyright (c) mmdl contributors. All rights reserved.
"""KFACBNHook in a 3-task sequence through tools/train.py: the penalty is
installed after the first task and resuming mid-sequence restores it (the
final weights equal an uninterrupted run's)."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

from conftest import REPO_ROOT
from mmdl.engine.runner.checkpoint import load_checkpoint_file

LOOP_TESTS = osp.join(REPO_ROOT, 'tests', 'test_engine', 'test_loops')
TRAIN = osp.join(REPO_ROOT, 'tools', 'train.py')


def _config_text(curvature, stop_epoch=None, bn_stats='track'):
    bases = [
        osp.join(REPO_ROOT, 'configs', '_base_', name)
        for name in ('models/mlp_bn_digits.py', 'schedules/continual_sgd.py',
                     'default_runtime.py')
    ]
    hooks = [
        f"dict(type='KFACBNHook', curvature={curvature!r}, "
        f'adaptive_scaling=True, damping=1e-3, bn_stats={bn_stats!r})'
    ]
    if stop_epoch is not None:
        hooks.append(f"dict(type='StopAtEpochHook', stop_epoch={stop_epoch})")
    return f"""
_base_ = {bases!r}
custom_imports = dict(imports=['task_loop_helpers'],
                      allow_failed_imports=False)
model = dict(
    data_preprocessor=dict(num_classes=10, mean=[77.9], std=[95.9],
                           to_rgb=False),
    backbone=dict(hidden=(32, 32)),
    head=dict(in_channels=32))
pipeline = [dict(type='mmpretrain.PackInputs', algorithm_keys=['task_id'])]
train_dataloader = dict(
    batch_size=32, num_workers=0,
    dataset=dict(type='ToyPermutedDigits', split='train', num_samples=320,
                 pipeline=pipeline),
    sampler=dict(type='DefaultSampler', shuffle=True))
val_dataloader = dict(
    batch_size=128, num_workers=0,
    dataset=dict(type='ToyPermutedDigits', split='test', num_samples=128,
                 pipeline=pipeline),
    sampler=dict(type='DefaultSampler', shuffle=False))
val_evaluator = dict(type='mmpretrain.Accuracy', topk=(1, ))
test_dataloader = val_dataloader
test_evaluator = val_evaluator
train_cfg = dict(num_tasks=3, max_epochs=2)
default_hooks = dict(logger=dict(interval=2),
                     checkpoint=dict(interval=1, max_keep_ckpts=-1))
custom_hooks = [{', '.join(hooks)}]
randomness = dict(seed=0, deterministic=True)
"""


def _start(tmp_path,
           name,
           curvature,
           stop_epoch=None,
           resume=False,
           bn_stats='track'):
    config = tmp_path / f'{name}.py'
    if not config.exists():
        config.write_text(_config_text(curvature, stop_epoch, bn_stats))
    args = [
        sys.executable, TRAIN,
        str(config), '--work-dir',
        str(tmp_path / name)
    ] + (['--resume'] if resume else [])
    env = dict(os.environ, PYTHONPATH=LOOP_TESTS, OMP_NUM_THREADS='1')
    env.pop('MMDL_DEBUG', None)
    return subprocess.Popen(
        args,
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True)


def _finish(process, expected_rc=0):
    out, _ = process.communicate(timeout=600)
    assert process.returncode == expected_rc, out[-4000:]
    return out


@pytest.mark.slow
@pytest.mark.parametrize('bn_stats', ['track', 'merge_reparam'])
def test_penalty_installed_and_resume_restores_it(tmp_path, bn_stats):
    runs = {
        'straight': _start(tmp_path, 'straight', 'xkfac', bn_stats=bn_stats),
        'mid':
        _start(tmp_path, 'mid', 'xkfac', stop_epoch=3, bn_stats=bn_stats),
        'end':
        _start(tmp_path, 'end', 'xkfac', stop_epoch=4, bn_stats=bn_stats),
    }
    log = _finish(runs['straight'])
    _finish(runs['mid'], 3)
    _finish(runs['end'], 3)
    # the penalty only appears from task 1 on
    assert 'loss_penalty' in log and 'loss_damping' in log
    assert 'penalty installed for 1 old task(s)' in log
    if bn_stats == 'merge_reparam':
        assert 'merged 2 batch norm(s)' in log
        assert "reparameterised 2 batch norm(s) with the new task's" in log
    # the checkpoint written mid task 1 holds task 0's curvature
    mid = load_checkpoint_file(str(tmp_path / 'mid' / 'epoch_3.pth'))
    assert len(mid['kfac_bn_hook']['penalty']['tasks']) == 1
    resumed = [
        _start(tmp_path, name, 'xkfac', resume=True) for name in ('mid', 'end')
    ]
    for process in resumed:
        _finish(process)
    final = load_checkpoint_file(str(tmp_path / 'straight' /
                                     'epoch_6.pth'))['state_dict']
    matrix = json.loads(
        (tmp_path / 'straight' / 'continual_metrics.json').read_text())
    for name in ('mid', 'end'):
        other = load_checkpoint_file(str(tmp_path / name /
                                         'epoch_6.pth'))['state_dict']
        for key, value in final.items():
            assert torch.equal(value, other[key]), (name, key)
        other_matrix = json.loads(
            (tmp_path / name / 'continual_metrics.json').read_text())
        assert other_matrix == matrix
