# Copyright (c) mmdl contributors. All rights reserved.
"""The DTL quick configs through tools/train.py and tools/test.py:
pre-training the source model, DTL and its baselines from it, and the
piggyback-learning test (the same number twice for the same seeds)."""
import json
import os.path as osp

import pytest
import torch
from conftest import REPO_ROOT
from tool_mains import error_line, tool_main

from mmdl.engine.runner.checkpoint import load_checkpoint_file

DTL = osp.join(REPO_ROOT, 'configs', 'dtl')
PRETRAIN = osp.join(DTL, 'pretrain_mlp-bn_1xb64-30e_digits-0-4_quick.py')


def _quick(method):
    return osp.join(DTL, f'{method}_mlp-bn_1xb64-20e_digits-0-4-to-5-9_'
                    'quick.py')


@pytest.fixture(scope='module')
def source_checkpoint(tmp_path_factory):
    work = tmp_path_factory.mktemp('pretrain')
    torch.set_num_threads(1)
    tool_main('train.py')([
        PRETRAIN, '--work-dir',
        str(work), '--cfg-options', 'train_cfg.max_epochs=3',
        'train_cfg.val_interval=3'
    ])
    return str(work / 'epoch_3.pth')


def _train(method, work, source_checkpoint, *options):
    tool_main('train.py')([
        _quick(method), '--work-dir',
        str(work), '--cfg-options', 'train_cfg.max_epochs=1',
        'train_cfg.val_interval=1', f'model.source_checkpoint='
        f'{source_checkpoint}', *options
    ])
    return str(work / 'epoch_1.pth')


@pytest.fixture(scope='module')
def dtl_checkpoint(tmp_path_factory, source_checkpoint):
    return _train('dtl', tmp_path_factory.mktemp('dtl'), source_checkpoint)


@pytest.mark.slow
def test_dtl_train_then_piggyback_test(tmp_path, source_checkpoint,
                                       dtl_checkpoint):
    checkpoint = dtl_checkpoint
    state = load_checkpoint_file(checkpoint, map_location='cpu')
    assert int(state['state_dict']['iter_count']) == 12
    small = [
        '--cfg-options', f'model.source_checkpoint={source_checkpoint}',
        'test_cfg.epochs=2', 'test_cfg.seeds=[0]'
    ]
    runs = []
    for name in ('first', 'second'):
        work = tmp_path / name
        metrics = tool_main('test.py')(
            [_quick('dtl'), checkpoint, '--work-dir',
             str(work)] + small)
        runs.append(metrics)
    first, second = runs
    assert first == second  # the same seeds give the same numbers
    for task in ('source', 'downstream'):
        for mode in ('linear', 'finetune'):
            for subject in ('model', 'pretrained', 'random'):
                value = first[f'pl/{task}/{mode}/{subject}']
                assert 0 <= value <= 100
            assert f'leakage/{task}/{mode}' in first
    assert 0 <= first['source/accuracy'] <= 100
    assert first['accuracy/top1'] > 20  # five target classes
    saved = json.load(open(next((tmp_path / 'first').rglob(
        'piggyback.json'))))
    assert len(saved['jobs']) == 2 * 2 * 3
    assert saved['protocol']['tasks']['source']['num_train'] == 72


@pytest.mark.slow
@pytest.mark.parametrize('method', ['finetune', 'neggrad', 'randlabel'])
def test_baselines_train(tmp_path, source_checkpoint, method):
    checkpoint = _train(method, tmp_path, source_checkpoint)
    log = open(next(tmp_path.rglob('*.log'))).read()
    expected = dict(finetune='loss_target', neggrad='loss_neg_grad',
                    randlabel='loss_random_label')[method]
    assert expected in log and osp.exists(checkpoint)
    if method == 'finetune':
        assert 'source_ce' not in log


@pytest.mark.slow
def test_bad_piggyback_config_names_the_key(tmp_path, dtl_checkpoint,
                                            capsys, monkeypatch):
    checkpoint = dtl_checkpoint
    line = error_line(capsys, monkeypatch, 'test.py', _quick('dtl'),
                      checkpoint, '--work-dir', tmp_path / 'test',
                      '--cfg-options', 'test_cfg.tasks.source.fraction=2')
    assert 'tasks.source.fraction must be in (0, 1]' in line
    line = error_line(capsys, monkeypatch, 'test.py', _quick('dtl'),
                      checkpoint, '--work-dir', tmp_path / 'test',
                      '--cfg-options', 'test_cfg.modes=[mask]')
    assert "modes must be some of ('linear', 'finetune')" in line


@pytest.mark.slow
def test_resume_reproduces_the_uninterrupted_run(tmp_path,
                                                 source_checkpoint):
    """A DTL run resumed at epoch 1 ends with the weights of the straight
    run: the warm-up counter is in the checkpoint and the paired source
    loader pairs the same batches."""
    options = [
        'train_cfg.max_epochs=2', 'train_cfg.val_interval=2',
        f'model.source_checkpoint={source_checkpoint}', 'model.warmup_iters=20',
        # 15 source batches per pass against 12 target batches per epoch:
        # an epoch ends inside a pass of the source loader
        'train_cfg.paired_dataloaders.source.batch_size=48'
    ]
    straight = tmp_path / 'straight'
    tool_main('train.py')([
        _quick('dtl'), '--work-dir',
        str(straight), '--cfg-options', *options
    ])
    resumed = tmp_path / 'resumed'
    resumed.mkdir()
    first = resumed / 'epoch_1.pth'
    first.write_bytes((straight / 'epoch_1.pth').read_bytes())
    tool_main('train.py')([
        _quick('dtl'), '--work-dir',
        str(resumed), '--resume',
        str(first), '--cfg-options', *options
    ])

    def weights(path):
        return load_checkpoint_file(str(path),
                                    map_location='cpu')['state_dict']

    a, b = weights(straight / 'epoch_2.pth'), weights(resumed / 'epoch_2.pth')
    assert int(a['iter_count']) == 24
    for key, value in a.items():
        assert torch.equal(value, b[key]), key
