# Copyright (c) mmdl contributors. All rights reserved.
"""Common mistakes end with one line naming the key or path."""
import pytest
from conftest import python_tool


def _one_line_error(result, prog='train.py'):
    assert result.returncode != 0
    assert 'Traceback' not in result.stderr, result.stderr[-3000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f'{prog}: error: '), result.stderr[-3000:]
    return last


def test_unknown_type_names_key_and_suggests(quick_config, tmp_path):
    result = python_tool('train.py', quick_config, '--work-dir', tmp_path,
                         '--cfg-options', 'model.backbone.type=LeNet55')
    line = _one_line_error(result)
    assert "unknown type 'LeNet55' at model.backbone.type" in line
    assert 'mmpretrain.LeNet5' in line


def test_unknown_dataset_type(quick_config, tmp_path):
    result = python_tool('train.py', quick_config, '--work-dir', tmp_path,
                         '--cfg-options',
                         'train_dataloader.dataset.type=DigitDataset')
    line = _one_line_error(result)
    assert "'DigitDataset' at train_dataloader.dataset.type" in line
    assert 'mmdl.DigitsDataset' in line


def test_missing_data_root(quick_config, tmp_path):
    missing = tmp_path / 'no_such_dir'
    result = python_tool('train.py', quick_config, '--work-dir', tmp_path,
                         '--cfg-options',
                         f'val_dataloader.dataset.data_root={missing}')
    line = _one_line_error(result)
    assert f"val_dataloader.dataset.data_root: directory '{missing}'" in line


def test_missing_checkpoint_for_test(quick_config, tmp_path):
    missing = tmp_path / 'epoch_9.pth'
    result = python_tool('test.py', quick_config, missing)
    line = _one_line_error(result, 'test.py')
    assert f"checkpoint: checkpoint file '{missing}' does not exist" in line


def test_missing_checkpoint_for_resume(quick_config, tmp_path):
    missing = tmp_path / 'epoch_9.pth'
    result = python_tool('train.py', quick_config, '--work-dir', tmp_path,
                         '--resume', missing)
    line = _one_line_error(result)
    assert f"--resume: checkpoint file '{missing}'" in line


def test_missing_config(tmp_path):
    result = python_tool('train.py', tmp_path / 'nope.py')
    line = _one_line_error(result)
    assert 'nope.py' in line


@pytest.mark.parametrize('option,expected', [
    ('train_cfgg.max_epochs=1',
     "train_cfgg.max_epochs: the config has no key 'train_cfgg'; did you "
     "mean 'train_cfg'?"),
    ('train_cfg.max_epochs.x=1', 'train_cfg.max_epochs is a int, not a dict'),
])
def test_bad_cfg_options_key(quick_config, tmp_path, option, expected):
    result = python_tool('train.py', quick_config, '--work-dir', tmp_path,
                         '--cfg-options', option)
    assert expected in _one_line_error(result)


def test_malformed_cfg_options(quick_config, tmp_path):
    result = python_tool('train.py', quick_config, '--cfg-options',
                         'max_epochs')
    line = _one_line_error(result)
    assert "'max_epochs' is not of the form KEY=VALUE" in line


def test_unknown_argument_of_a_component(quick_config, tmp_path):
    result = python_tool('train.py', quick_config, '--work-dir', tmp_path,
                         '--cfg-options', 'train_cfg.max_epoch=1')
    line = _one_line_error(result)
    assert "unknown argument 'max_epoch'" in line
    assert 'train_cfg.max_epoch' in line


@pytest.mark.skipif(
    __import__('torch').cuda.is_available(), reason='checks the CPU path')
def test_amp_without_gpu(quick_config, tmp_path):
    result = python_tool('train.py', quick_config, '--work-dir', tmp_path,
                         '--amp')
    assert '--amp: mixed precision training needs a GPU' in _one_line_error(
        result)
