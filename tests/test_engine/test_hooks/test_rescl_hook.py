# Copyright (c) mmdl contributors. All rights reserved.
"""ResCLHook through tools/train.py: the stages, resume in the middle of
them, the merged export through tools/test.py, a very large lambda and
mean-IMM, on 320 permuted digits per task."""
import json
import os.path as osp

import pytest
import torch
from conftest import REPO_ROOT, finish_train, python_tool, start_train

from mmdl.engine.runner.checkpoint import load_checkpoint_file

CONFIGS = osp.join(REPO_ROOT, 'configs', 'rescl')
QUICK = osp.join(CONFIGS, 'rescl_mlp-bn_1xb32-2t_permuted-digits_quick.py')
PLAIN = osp.join(CONFIGS, 'finetune_mlp-bn_1xb32-2t_permuted-digits_quick.py')

# task 0: epoch 1; task 1: epochs 2-3 fine-tune, 4-5 combination
SMALL = """
train_dataloader = dict(dataset=dict(indices=320))
val_dataloader = dict(dataset=dict(indices=128))
test_dataloader = val_dataloader
train_cfg = dict(max_epochs=[1, 4])
default_hooks = dict(logger=dict(interval=5))
"""


def _config(hook='dict(type="ResCLHook", finetune_epochs=2)', model=''):
    return (f'_base_ = [{QUICK!r}]\n' + SMALL +
            f'custom_hooks = [{hook}]\n' +
            (f'model = dict({model})\n' if model else ''))


def _matrix(work_dir):
    return json.loads((work_dir / 'continual_metrics.json').read_text())


def _state(path):
    return load_checkpoint_file(str(path))['state_dict']


@pytest.mark.slow
def test_stages_resume_and_merged_export(tmp_path):
    runs = {
        'straight': start_train(tmp_path, 'straight', _config()),
        # lambda so large that one proximal step zeroes the coefficients
        'lambda':
        start_train(
            tmp_path, 'lambda',
            _config(model="l1_weight=1e4, l1_mode='proximal'")),
        'imm':
        start_train(tmp_path, 'imm',
                    _config('dict(type="ResCLHook", finetune_epochs=4)')),
    }
    logs = {name: finish_train(process) for name, process in runs.items()}
    log = logs['straight']
    assert 'ResCL task 1: fine-tuning the target copy for 2 epoch(s)' in log
    assert 'ResCL task 1: combination stage (recorded soft targets' in log
    assert 'loss_distill_source' in log and 'loss_alpha_l1' in log
    straight = tmp_path / 'straight'
    # resume at the start of the combination (soft targets from the
    # checkpoint) and in its middle
    resumed = {
        epoch: start_train(
            tmp_path,
            f'resume{epoch}',
            _config(),
            resume=straight / f'epoch_{epoch}.pth')
        for epoch in (3, 4)
    }
    checkpoint = load_checkpoint_file(str(straight / 'epoch_3.pth'))
    assert checkpoint['state_dict']['mode_index'].item() == 2  # combined
    assert checkpoint['rescl_hook']['soft_targets'][0].shape == (320, 10)

    # the unwrapped config tests the merged network: the row the loop
    # measured on the combined network
    plain = tmp_path / 'plain.py'
    plain.write_text(f'_base_ = [{PLAIN!r}]\n' + SMALL)
    result = python_tool('test.py', plain, straight / 'merged_task_1.pth',
                         '--work-dir', tmp_path / 'test')
    assert result.returncode == 0, result.stderr[-3000:]
    tested = json.loads(
        next((tmp_path / 'test').rglob('continual_test.json')).read_text())
    row = _matrix(straight)['accuracy_matrix'][1]
    assert tested['tasks'] == [0, 1]
    assert tested['row'] == pytest.approx(row, abs=1e-4)

    final = _state(straight / 'epoch_5.pth')
    merged = _state(straight / 'merged_task_1.pth')
    for epoch, process in resumed.items():
        assert f'resumed epoch: {epoch}' in finish_train(process)
        other = tmp_path / f'resume{epoch}'
        for key, value in final.items():
            assert torch.equal(value, _state(other / 'epoch_5.pth')[key]), (
                epoch, key)
        for key, value in merged.items():
            assert torch.equal(value,
                               _state(other / 'merged_task_1.pth')[key])
        assert _matrix(other) == _matrix(straight)

    # a very large lambda returns every channel to the source network
    matrix = _matrix(tmp_path / 'lambda')['accuracy_matrix']
    assert matrix[1][0] == pytest.approx(matrix[0][0], abs=1e-4)
    assert '100.0% of the channels back at the source' in logs['lambda']
    # all epochs fine-tuning: merged at the initial (-1/2, 1/2), mean-IMM
    assert 'combination for 0.' in logs['imm']
    assert 'mean a_s -0.500, mean a_t 0.500' in logs['imm']
