# Copyright (c) mmdl contributors. All rights reserved.
"""Common mistakes end with one line naming the key or path.

The tools run in-process (:mod:`tool_mains`) except for the error raised
while the runner is built, which runs the real command line.
"""
import functools

import pytest

from conftest import python_tool
from tool_mains import error_line, exit_lines


@pytest.fixture
def run_tool_main(capsys, monkeypatch):
    """``run_tool_main(tool, *args)``: the tool's one-line error."""
    return functools.partial(error_line, capsys, monkeypatch)


def test_unknown_type_names_key_and_suggests(run_tool_main, quick_config,
                                             tmp_path):
    # the model has _scope_='mmpretrain': LeNet5 needs no prefix there
    line = run_tool_main('train.py', quick_config, '--work-dir', tmp_path,
                         '--cfg-options', 'model.backbone.type=LeNet55')
    assert "unknown type 'LeNet55' at model.backbone.type" in line
    assert "did you mean 'LeNet5'" in line
    assert 'mmpretrain.LeNet5' not in line


def test_unknown_dataset_type(run_tool_main, quick_config, tmp_path):
    line = run_tool_main('train.py', quick_config, '--work-dir', tmp_path,
                         '--cfg-options',
                         'train_dataloader.dataset.type=DigitDataset')
    assert "'DigitDataset' at train_dataloader.dataset.type" in line
    assert "did you mean 'DigitsDataset'" in line


def test_missing_data_root(run_tool_main, quick_config, tmp_path):
    missing = tmp_path / 'no_such_dir'
    line = run_tool_main('train.py', quick_config, '--work-dir', tmp_path,
                         '--cfg-options',
                         f'val_dataloader.dataset.data_root={missing}')
    assert f"val_dataloader.dataset.data_root: directory '{missing}'" in line


def test_missing_checkpoint_for_test(run_tool_main, quick_config, tmp_path):
    missing = tmp_path / 'epoch_9.pth'
    line = run_tool_main('test.py', quick_config, missing)
    assert f"checkpoint: checkpoint file '{missing}' does not exist" in line


def test_missing_checkpoint_for_resume(run_tool_main, quick_config, tmp_path):
    missing = tmp_path / 'epoch_9.pth'
    line = run_tool_main('train.py', quick_config, '--work-dir', tmp_path,
                         '--resume', missing)
    assert f"--resume: checkpoint file '{missing}'" in line


def test_missing_config(run_tool_main, tmp_path):
    line = run_tool_main('train.py', tmp_path / 'nope.py')
    assert 'nope.py' in line


@pytest.mark.parametrize('option,expected', [
    ('train_cfgg.max_epochs=1',
     "train_cfgg.max_epochs: the config has no key 'train_cfgg'; did you "
     "mean 'train_cfg'?"),
    ('train_cfg.max_epochs.x=1', 'train_cfg.max_epochs is a int, not a dict'),
])
def test_bad_cfg_options_key(run_tool_main, quick_config, tmp_path, option,
                             expected):
    line = run_tool_main('train.py', quick_config, '--work-dir', tmp_path,
                         '--cfg-options', option)
    assert expected in line


def test_malformed_cfg_options(capsys, monkeypatch, quick_config):
    code, lines = exit_lines(capsys, monkeypatch, 'train.py', quick_config,
                             '--cfg-options', 'max_epochs')
    assert code == 2  # argparse's usage error
    assert "'max_epochs' is not of the form KEY=VALUE" in lines[-1]


def test_unknown_argument_of_a_component(quick_config, tmp_path):
    # raised while the runner builds the loop: the real command line
    result = python_tool('train.py', quick_config, '--work-dir', tmp_path,
                         '--cfg-options', 'train_cfg.max_epoch=1')
    assert result.returncode == 1
    assert 'Traceback' not in result.stderr, result.stderr[-3000:]
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith('train.py: error: ')
    assert "unknown argument 'max_epoch'" in line
    assert 'train_cfg.max_epoch' in line


@pytest.mark.skipif(
    __import__('torch').cuda.is_available(), reason='checks the CPU path')
def test_amp_without_gpu(run_tool_main, quick_config, tmp_path):
    line = run_tool_main('train.py', quick_config, '--work-dir', tmp_path,
                         '--amp')
    assert '--amp: mixed precision training needs a GPU' in line
