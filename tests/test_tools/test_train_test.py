# Copyright (c) mmdl contributors. All rights reserved.
"""tools/train.py and tools/test.py end to end on the quick-start config."""
import re
import shutil

import pytest
import torch
from conftest import QUICK_CONFIG, python_tool

from mmdl.engine.runner.checkpoint import load_checkpoint_file


def _train(config, work_dir, *extra):
    result = python_tool('train.py', config, '--work-dir', work_dir, *extra)
    assert result.returncode == 0, result.stderr[-4000:]
    return result


def _state(path):
    return load_checkpoint_file(str(path))


@pytest.fixture(scope='module')
def quickstart_run(tmp_path_factory):
    """The quick-start config's full 40-epoch recipe, keeping every
    checkpoint (the config keeps the last 3) for the resume tests."""
    work_dir = tmp_path_factory.mktemp('quickstart') / 'demo'
    _train(QUICK_CONFIG, work_dir, '--cfg-options',
           'default_hooks.checkpoint.max_keep_ckpts=-1')
    return work_dir


@pytest.mark.slow
def test_quickstart_reaches_95_percent(quickstart_run, quick_config,
                                       tmp_path):
    """The README's claim: >= 95% test accuracy with the full recipe."""
    checkpoint = (quickstart_run / 'last_checkpoint').read_text().strip()
    assert checkpoint.endswith('epoch_40.pth')
    result = python_tool('test.py', quick_config, checkpoint, '--work-dir',
                         tmp_path / 'test', '--out', tmp_path / 'pred.pkl')
    assert result.returncode == 0, result.stderr[-4000:]
    accuracy = float(
        re.findall(r'accuracy/top1: ([\d.]+)',
                   result.stdout + result.stderr)[-1])
    assert accuracy >= 95.0
    assert (tmp_path / 'pred.pkl').stat().st_size > 0


@pytest.mark.slow
def test_resume_reproduces_uninterrupted_run(quickstart_run, quick_config,
                                             tmp_path):
    """--resume (the work dir's latest checkpoint, epoch 2 of the
    uninterrupted run) to epoch 4 == epoch 4 of the uninterrupted run (seed
    0, random crops in the pipeline, deterministic; the cosine schedule's
    T_max is fixed at 40, so max_epochs does not change epochs 1-4)."""
    resumed = tmp_path / 'resumed'
    resumed.mkdir()
    shutil.copy(quickstart_run / 'epoch_2.pth', resumed / 'epoch_2.pth')
    (resumed / 'last_checkpoint').write_text(str(resumed / 'epoch_2.pth'))
    result = _train(quick_config, resumed, '--resume', '--cfg-options',
                    'train_cfg.max_epochs=4')
    assert 'resumed epoch: 2' in result.stdout + result.stderr

    final_a = _state(quickstart_run / 'epoch_4.pth')
    final_b = _state(resumed / 'epoch_4.pth')
    assert final_a['meta']['iter'] == final_b['meta']['iter'] == 4 * 45
    for key, value in final_a['state_dict'].items():
        assert torch.equal(value, final_b['state_dict'][key]), key
    momentum_a = final_a['optimizer']['state']
    momentum_b = final_b['optimizer']['state']
    for index in momentum_a:
        assert torch.equal(momentum_a[index]['momentum_buffer'],
                           momentum_b[index]['momentum_buffer'])
    # the resumed run did train: epoch 4 differs from epoch 2
    epoch_2 = _state(resumed / 'epoch_2.pth')['state_dict']
    assert any(not torch.equal(v, epoch_2[k])
               for k, v in final_b['state_dict'].items())


@pytest.mark.slow
def test_resume_from_explicit_path(quickstart_run, quick_config, tmp_path):
    result = _train(quick_config, tmp_path / 'other', '--resume',
                    quickstart_run / 'epoch_1.pth', '--cfg-options',
                    'train_cfg.max_epochs=2')
    assert 'resumed epoch: 1' in result.stdout + result.stderr
    assert (tmp_path / 'other' / 'epoch_2.pth').exists()
    # the same epoch 2 as the uninterrupted run
    resumed = _state(tmp_path / 'other' / 'epoch_2.pth')['state_dict']
    straight = _state(quickstart_run / 'epoch_2.pth')['state_dict']
    assert all(torch.equal(v, straight[k]) for k, v in resumed.items())


def test_no_validate_and_auto_scale_lr(quick_config, tmp_path):
    """--auto-scale-lr scales lr 0.05 by batch 64 / base 32; --no-validate
    skips validation."""
    result = _train(quick_config, tmp_path, '--no-validate', '--auto-scale-lr',
                    '--cfg-options', 'train_cfg.max_epochs=1',
                    'train_dataloader.batch_size=64',
                    'default_hooks.logger.interval=5')
    log = result.stdout + result.stderr
    assert 'lr: 1.0000e-01' in log
    assert 'Epoch(val)' not in log
    assert (tmp_path / 'epoch_1.pth').exists()


def test_checkpoint_of_another_model_is_refused(quick_config, tmp_path):
    """tools/test.py stops on a checkpoint that does not fit the model,
    naming the file and the mismatch (non-strict loading:
    test_state_match.py and test_apply_runtime_args)."""
    foreign = tmp_path / 'mlp.pth'
    torch.save(
        dict(
            state_dict={
                'backbone.layers.0.fc.weight': torch.zeros(32, 64),
                'head.fc.weight': torch.zeros(10, 32)
            },
            meta=dict(epoch=1, iter=1)), foreign)
    result = python_tool('test.py', quick_config, foreign, '--work-dir',
                         tmp_path / 'w')
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith(f"test.py: error: checkpoint '{foreign}' "
                                'does not match the model ImageClassifier')
    assert 'missing keys' in lines[-1] and '2 unexpected keys' in lines[-1]
    assert lines[-2].startswith('  unexpected keys (2): ')
    assert 'Traceback' not in result.stderr
    assert 'Epoch(test)' not in result.stdout + result.stderr
    assert not (tmp_path / 'w').exists()  # refused before the runner


def test_resume_from_another_model_changes_nothing(quick_config, tmp_path):
    work_dir = tmp_path / 'w'
    work_dir.mkdir()
    foreign = work_dir / 'epoch_1.pth'
    torch.save(
        dict(
            state_dict={'backbone.layers.0.fc.weight': torch.zeros(32, 64)},
            meta=dict(epoch=1, iter=45)), foreign)
    (work_dir / 'last_checkpoint').write_text(str(foreign))
    before = {p.name: p.read_bytes() for p in work_dir.iterdir()}
    result = python_tool('train.py', quick_config, '--work-dir', work_dir,
                         '--resume')
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"train.py: error: checkpoint '{foreign}' does "
                           'not match the model ImageClassifier')
    assert 'resume refused' in last and 'Traceback' not in result.stderr
    # refused before the runner is built: the work dir is as it was (no
    # log, no config dump, the checkpoint and its pointer untouched)
    after = {p.name: p.read_bytes() for p in work_dir.iterdir()}
    assert after == before


def test_apply_runtime_args():
    """--threads and --non-strict become the config fields MMDLRunner
    reads; a bad thread count is refused."""
    import argparse

    from mmengine.config import Config

    from mmdl.utils import ConfigError
    from mmdl.utils.cli import add_runtime_args, apply_runtime_args
    parser = argparse.ArgumentParser()
    add_runtime_args(parser)
    cfg = Config(dict(env_cfg=dict(cudnn_benchmark=False)))
    apply_runtime_args(cfg, parser.parse_args(['--threads', '3',
                                               '--non-strict']))
    assert cfg.env_cfg.num_threads == 3 and cfg.load_strict is False
    assert cfg.env_cfg.cudnn_benchmark is False
    untouched = Config(dict())
    apply_runtime_args(untouched, parser.parse_args([]))
    assert 'load_strict' not in untouched and 'env_cfg' not in untouched
    with pytest.raises(ConfigError, match='--threads 0'):
        apply_runtime_args(cfg, parser.parse_args(['--threads', '0']))
