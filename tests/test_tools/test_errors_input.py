# Copyright (c) mmdl contributors. All rights reserved.
"""Bad checkpoints, misspelled types and wrong task sequences end with one
line naming the file or key, exit status 1, before the runner is built and
without creating the work dir.

Most cases run the tools' ``main`` in-process (a subprocess costs seconds
of imports); two subprocess runs prove the real command line.
"""
import functools
import os.path as osp

import pytest
import torch
from mmengine.registry import TRANSFORMS

from conftest import REPO_ROOT, python_tool
from mmdl.utils import ConfigError
from mmdl.utils.cli import friendly_errors
from tool_mains import error_line, tool_main

QUICK = osp.join(REPO_ROOT, 'configs', 'quickstart',
                 'lenet5_1xb32-40e_digits.py')
# 3 permuted-digits tasks, TaskSequenceTrainLoop
CONTINUAL = osp.join(REPO_ROOT, 'configs', 'xkfac',
                     'xkfac-merge_mlp-bn_1xb32-3t_permuted-digits_quick.py')


@pytest.fixture
def run_tool_main(capsys, monkeypatch):
    """``run_tool_main(tool, *args)``: the tool's one-line error."""
    return functools.partial(error_line, capsys, monkeypatch)


@pytest.fixture
def checkpoint(tmp_path):
    """A checkpoint as mmengine writes it (a dict with 'state_dict')."""
    path = tmp_path / 'epoch_1.pth'
    torch.save(
        dict(meta=dict(epoch=1), state_dict={'w': torch.zeros(64, 64)}), path)
    return path


def _config(tmp_path, base, body):
    path = tmp_path / 'derived.py'
    path.write_text(f'_base_ = [{base!r}]\n{body}\n')
    return path


def test_truncated_checkpoint(run_tool_main, checkpoint, tmp_path):
    trunc = tmp_path / 'trunc.pth'
    trunc.write_bytes(checkpoint.read_bytes()[:1000])
    with pytest.raises(RuntimeError, match='zip archive'):
        torch.load(trunc, weights_only=True)  # torch's own reader fails
    work_dir = tmp_path / 'work'
    line = run_tool_main('test.py', QUICK, trunc, '--work-dir', work_dir)
    assert line.startswith(f"test.py: error: checkpoint: checkpoint file "
                           f"'{trunc}' is truncated or not a checkpoint")
    assert not work_dir.exists()


def test_text_file_as_checkpoint(run_tool_main, tmp_path):
    text = tmp_path / 'notes.pth'
    text.write_text('epoch 1: accuracy 97.2\n')
    work_dir = tmp_path / 'work'
    line = run_tool_main('test.py', QUICK, text, '--work-dir', work_dir)
    assert f"checkpoint file '{text}' is not a PyTorch checkpoint" in line
    assert not work_dir.exists()


def test_empty_checkpoint_for_resume(run_tool_main, tmp_path):
    empty = tmp_path / 'epoch_3.pth'
    empty.write_bytes(b'')
    work_dir = tmp_path / 'work'
    line = run_tool_main('train.py', QUICK, '--work-dir', work_dir, '--resume',
                         empty)
    assert f"--resume: checkpoint file '{empty}' is empty" in line
    assert not work_dir.exists()


def test_non_dict_checkpoint_for_load_from(run_tool_main, tmp_path):
    saved = tmp_path / 'list.pth'
    torch.save([1, 2], saved)
    assert torch.load(saved, weights_only=True) == [1, 2]
    work_dir = tmp_path / 'work'
    line = run_tool_main('train.py', QUICK, '--work-dir', work_dir,
                         '--cfg-options', f'load_from={saved}')
    assert (f"load_from: checkpoint file '{saved}' holds a list, not a "
            'checkpoint dict') in line
    assert not work_dir.exists()


def test_misspelled_optimizer(run_tool_main, tmp_path):
    work_dir = tmp_path / 'work'
    line = run_tool_main('train.py', QUICK, '--work-dir', work_dir,
                         '--cfg-options', 'optim_wrapper.optimizer.type=SDG')
    assert line == (
        "train.py: error: unknown type 'SDG' at optim_wrapper.optimizer.type"
        ": not in the OPTIMIZERS registry (scope 'mmdl'); did you mean "
        "'SGD'?")
    assert not work_dir.exists()


def test_unknown_name_in_mmpretrain_scope_needs_no_prefix(
        run_tool_main, tmp_path):
    # the quick-start model has _scope_='mmpretrain': LeNet5 is found bare
    work_dir = tmp_path / 'work'
    line = run_tool_main('train.py', QUICK, '--work-dir', work_dir,
                         '--cfg-options', 'model.backbone.type=LeNet')
    assert ("unknown type 'LeNet' at model.backbone.type: not in the MODELS "
            "registry (scope 'mmpretrain'); did you mean 'LeNet5'") in line
    assert 'mmpretrain.' not in line and 'prefix' not in line
    assert not work_dir.exists()


def test_misspelled_prefixed_name(run_tool_main, tmp_path):
    work_dir = tmp_path / 'work'
    line = run_tool_main(
        'train.py', QUICK, '--work-dir', work_dir, '--cfg-options',
        'train_dataloader.dataset.pipeline.1.type=mmpretrain.RandomCro')
    assert ("unknown type 'mmpretrain.RandomCro' at "
            'train_dataloader.dataset.pipeline.1.type') in line
    assert "did you mean 'mmpretrain.RandomCrop'" in line
    assert not work_dir.exists()


def test_prefix_hint_for_a_name_of_another_scope(run_tool_main, tmp_path):
    # RandomCrop is mmpretrain's only: not in mmdl's or mmengine's registry
    from mmpretrain.registry import TRANSFORMS as MMPRETRAIN_TRANSFORMS
    assert 'RandomCrop' in MMPRETRAIN_TRANSFORMS.module_dict
    assert TRANSFORMS.get('RandomCrop') is None
    work_dir = tmp_path / 'work'
    line = run_tool_main(
        'train.py', QUICK, '--work-dir', work_dir, '--cfg-options',
        'train_dataloader.dataset.pipeline.1.type=RandomCrop')
    assert ("unknown type 'RandomCrop' at "
            "train_dataloader.dataset.pipeline.1.type: not in the TRANSFORMS "
            "registry (scope 'mmdl')") in line
    assert line.endswith("use 'mmpretrain.RandomCrop'")
    assert not work_dir.exists()


@pytest.mark.parametrize('option,expected', [
    ('train_cfg.max_epochs=[1,2]',
     'train_cfg.max_epochs has 2 entries for 3 tasks'),
    ('train_cfg.num_tasks=0',
     'train_cfg.num_tasks must be a positive integer, got 0'),
    ('train_cfg.max_epochs=[1,-1,2]', 'train_cfg.max_epochs must be >= 0'),
])
def test_task_sequence_train_cfg(run_tool_main, tmp_path, option, expected):
    work_dir = tmp_path / 'work'
    line = run_tool_main('train.py', CONTINUAL, '--work-dir', work_dir,
                         '--cfg-options', option)
    assert line.startswith(f'train.py: error: {expected}')
    assert not work_dir.exists()


def test_task_cfgs_of_the_wrong_length(run_tool_main, tmp_path):
    config = _config(tmp_path, CONTINUAL,
                     'train_cfg = dict(task_cfgs=[None, None])')
    work_dir = tmp_path / 'work'
    line = run_tool_main('train.py', config, '--work-dir', work_dir)
    assert line == ('train.py: error: train_cfg.task_cfgs has 2 entries for '
                    '3 tasks')
    assert not work_dir.exists()


def test_debug_shows_the_error(tmp_path, monkeypatch):
    monkeypatch.delenv('MMDL_DEBUG', raising=False)
    monkeypatch.setenv('LOCAL_RANK', '0')
    with pytest.raises(ConfigError, match="unknown type 'SDG'"):
        tool_main('train.py')([
            QUICK, '--work-dir',
            str(tmp_path / 'work'), '--debug', '--cfg-options',
            'optim_wrapper.optimizer.type=SDG'
        ])


def test_multi_line_message_ends_with_the_error_line(capsys):
    with pytest.raises(SystemExit) as exit_info:
        with friendly_errors('prog'):
            raise ConfigError('first detail\nsecond detail\nthe cause')
    assert exit_info.value.code == 'prog: error: the cause'
    assert capsys.readouterr().err == 'first detail\nsecond detail\n'


# ----------------------------------------------------------------------
# the real command line
# ----------------------------------------------------------------------
def _cli_error(result, prog):
    assert result.returncode == 1, result.stderr[-3000:]
    assert 'Traceback' not in result.stderr
    # nothing of the runner (its config and environment dump) is printed
    assert 'System environment' not in result.stdout + result.stderr
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith(f'{prog}: error: ')
    return line


def test_cli_misspelled_optimizer(tmp_path):
    work_dir = tmp_path / 'work'
    result = python_tool('train.py', QUICK, '--work-dir', work_dir,
                         '--cfg-options', 'optim_wrapper.optimizer.type=SDG')
    line = _cli_error(result, 'train.py')
    assert line.startswith("train.py: error: unknown type 'SDG' at "
                           'optim_wrapper.optimizer.type')
    assert not work_dir.exists()


def test_cli_truncated_checkpoint(checkpoint, tmp_path):
    trunc = tmp_path / 'trunc.pth'
    trunc.write_bytes(checkpoint.read_bytes()[:1000])
    work_dir = tmp_path / 'work'
    result = python_tool('test.py', QUICK, trunc, '--work-dir', work_dir)
    line = _cli_error(result, 'test.py')
    assert f"'{trunc}' is truncated or not a checkpoint" in line
    assert not work_dir.exists()
