# Copyright (c) mmdl contributors. All rights reserved.
"""tools/dist_train.sh with 2 CPU processes (gloo) on a machine without
CUDA."""
import os
import os.path as osp
import re
import sys

import pytest
import torch
from conftest import REPO_ROOT, python_tool, run_tool

HERE = osp.dirname(osp.abspath(__file__))


def _env(port):
    path = osp.dirname(sys.executable) + os.pathsep + os.environ['PATH']
    # torchrun from this interpreter's environment; no CUDA
    return dict(
        PATH=path, PYTHONPATH=HERE, PORT=str(port), CUDA_VISIBLE_DEVICES='')


def _dist_train(tmp_path, config_text, port):
    config = tmp_path / 'cfg.py'
    config.write_text(config_text)
    script = osp.join(REPO_ROOT, 'tools', 'dist_train.sh')
    result = run_tool([
        'bash', script,
        str(config), '2', '--work-dir',
        str(tmp_path / 'work')
    ],
                      env=_env(port))
    assert result.returncode == 0, result.stderr[-4000:]
    return [torch.load(tmp_path / f'rank{r}.pth') for r in range(2)]


def _accuracy(result):
    assert result.returncode == 0, result.stderr[-4000:]
    found = re.findall(r'accuracy/top1: ([\d.]+)',
                       result.stdout + result.stderr)
    return float(found[-1])


def _config(tmp_path, model_type=None):
    quick = osp.join(REPO_ROOT, 'configs', 'quickstart',
                     'lenet5_1xb32-40e_digits.py')
    lines = [
        f'_base_ = [{quick!r}]',
        "custom_imports = dict(imports=['rank_dump'], "
        'allow_failed_imports=False)',
        'custom_hooks = [dict(type="RankDumpHook", '
        f'out_dir={str(tmp_path)!r})]',
        'train_cfg = dict(max_epochs=2)',
    ]
    if model_type:
        # children (backbone, head) stay in the inherited mmpretrain scope
        lines.append(f'model = dict(type={model_type!r})')
    return '\n'.join(lines) + '\n'


def _per_epoch_dump_config(tmp_path, config, hook, train_cfg):
    """``configs/<config>`` on 256 training samples with ``hook`` and a
    per-epoch :class:`RankDumpHook`."""
    base = osp.join(REPO_ROOT, 'configs', config)
    return '\n'.join([
        f'_base_ = [{base!r}]',
        "custom_imports = dict(imports=['rank_dump'], "
        'allow_failed_imports=False)',
        f'custom_hooks = [{hook}, dict(type="RankDumpHook", '
        f'out_dir={str(tmp_path)!r}, every_epoch=True)]',
        f'train_cfg = dict({train_cfg})',
        "train_dataloader = dict(dataset=dict(indices=256))",
    ]) + '\n'


def _assert_ranks_agree_every_epoch(tmp_path, epochs):
    """Both ranks' weights are equal after every epoch (running statistics
    aside); returns rank 0's states."""
    states = []
    for epoch in range(epochs):
        ranks = [
            torch.load(tmp_path / f'rank{r}_epoch{epoch}.pth')
            for r in range(2)
        ]
        for key, value in ranks[0].items():
            if 'running_' in key or 'num_batches' in key:
                continue
            assert torch.equal(value, ranks[1][key]), (epoch, key)
        states.append(ranks[0])
    return states


@pytest.mark.dist
def test_dist_train_cpu_two_processes_identical_weights(tmp_path):
    ranks = _dist_train(tmp_path, _config(tmp_path), 29621)
    assert ranks[0]['wrapper'] == 'MMDistributedDataParallel'
    # the switch to gloo is logged, and the dumped config shows it
    log = next((tmp_path / 'work').glob('*/*.log')).read_text()
    assert 'distributed backend nccl replaced by gloo' in log
    assert "backend='gloo'" in (tmp_path / 'work' / 'cfg.py').read_text()
    for key, value in ranks[0]['state_dict'].items():
        assert torch.equal(value, ranks[1]['state_dict'][key]), key
    checkpoint = str(tmp_path / 'work' / 'epoch_2.pth')

    # distributed testing (padded sampler, gathered results) gives exactly
    # the single-process accuracy
    quick = osp.join(REPO_ROOT, 'configs', 'quickstart',
                     'lenet5_1xb32-40e_digits.py')
    single = _accuracy(python_tool('test.py', quick, checkpoint))
    dist = _accuracy(
        run_tool([
            'bash',
            osp.join(REPO_ROOT, 'tools', 'dist_test.sh'), quick, checkpoint,
            '2'
        ],
                 env=_env(29623)))
    assert dist == single


@pytest.mark.dist
def test_dist_train_uses_model_own_train_step(tmp_path):
    """A model overriding train_step is wrapped so that its step runs."""
    ranks = _dist_train(tmp_path, _config(tmp_path, 'mmdl.CountingClassifier'),
                        29622)
    # 1437 images, 2 ranks x batch 32 -> 23 iterations per epoch
    for rank in ranks:
        assert rank['wrapper'] == 'DelegatingDistributedDataParallel'
        assert rank['custom_calls'] == 2 * 23
    for key, value in ranks[0]['state_dict'].items():
        assert torch.equal(value, ranks[1]['state_dict'][key]), key


@pytest.mark.dist
def test_dist_train_continual_merge_reparam(tmp_path):
    """KFACBNHook with merged / reparameterised batch norms under 2
    processes: after every epoch (also those trained after a merge and a
    reparameterisation) both ranks hold the same weights. (Running
    statistics differ after the last forward pass, as always under DDP,
    which broadcasts rank 0's buffers at the next one; the hook broadcasts
    them before folding.)"""
    text = _per_epoch_dump_config(
        tmp_path, 'xkfac/xkfac_mlp-bn_1xb32-3t_permuted-digits_quick.py',
        'dict(type="KFACBNHook", curvature="xkfac", adaptive_scaling=True, '
        'bn_stats="merge_reparam", max_batches=4)', 'max_epochs=1')
    _dist_train(tmp_path, text, 29624)
    _assert_ranks_agree_every_epoch(tmp_path, 3)
    log = open(next((tmp_path / 'work').rglob('*.log'))).read()
    assert "reparameterised 2 batch norm(s) with the new task's" in log


@pytest.mark.dist
def test_dist_train_rescl_stages(tmp_path):
    """ResCL under 2 processes: its own train_step runs in the delegating
    wrapper, and after every epoch (source, fine-tuning, combination) both
    ranks hold the same weights and coefficients; every rank records the
    same soft targets."""
    text = _per_epoch_dump_config(
        tmp_path, 'rescl/rescl_mlp-bn_1xb32-2t_permuted-digits_quick.py',
        'dict(type="ResCLHook", finetune_epochs=1)', 'max_epochs=[1, 2]')
    ranks = _dist_train(tmp_path, text, 29625)
    assert ranks[0]['wrapper'] == 'DelegatingDistributedDataParallel'
    states = _assert_ranks_agree_every_epoch(tmp_path, 3)
    assert [s['mode_index'].item() for s in states] == [0, 2, 2]
    log = open(next((tmp_path / 'work').rglob('*.log'))).read()
    assert 'ResCL task 1: combination merged' in log


def _source_checkpoint(tmp_path):
    """An initialised digits 0-4 source classifier saved as a checkpoint
    (the DTL quick configs' pre-training stage, untrained)."""
    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from mmdl.registry import MODELS
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', 'dtl',
                 'pretrain_mlp-bn_1xb64-30e_digits-0-4_quick.py'))
    model_cfg = dict(cfg.model, data_preprocessor=cfg.data_preprocessor)
    with DefaultScope.overwrite_default_scope('mmdl'):
        model = MODELS.build(model_cfg)
    model.init_weights()
    path = tmp_path / 'source.pth'
    torch.save(dict(state_dict=model.state_dict()), path)
    return path


@pytest.mark.dist
def test_dist_train_dtl_gc_step(tmp_path):
    """DTL under 2 processes: the paired source batches reach its own
    train_step (GC loss with finite-difference HVPs) in the delegating
    wrapper, and both ranks hold the same weights after every epoch."""
    base = osp.join(REPO_ROOT, 'configs', 'dtl',
                    'dtl_mlp-bn_1xb64-20e_digits-0-4-to-5-9_quick.py')
    text = '\n'.join([
        f'_base_ = [{base!r}]',
        "custom_imports = dict(imports=['rank_dump'], "
        'allow_failed_imports=False)',
        'custom_hooks = [dict(type="RankDumpHook", '
        f'out_dir={str(tmp_path)!r}, every_epoch=True)]',
        f'model = dict(source_checkpoint={str(_source_checkpoint(tmp_path))!r},'
        ' warmup_iters=0)',
        'train_cfg = dict(max_epochs=2, val_interval=2)',
        'train_dataloader = dict(dataset=dict(indices=256))',
    ]) + '\n'
    ranks = _dist_train(tmp_path, text, 29627)
    assert ranks[0]['wrapper'] == 'DelegatingDistributedDataParallel'
    states = _assert_ranks_agree_every_epoch(tmp_path, 2)
    # 256 target samples / (2 ranks x 64) = 2 steps per epoch
    assert [int(s['iter_count']) for s in states] == [2, 4]
    log = open(next((tmp_path / 'work').rglob('*.log'))).read()
    assert 'loss_gc' in log and 'source_ce' in log

    # the piggyback-learning test spreads its retraining jobs over the
    # ranks and gathers them: the single-process numbers (1 thread each)
    checkpoint = str(tmp_path / 'work' / 'epoch_2.pth')
    small = [
        '--cfg-options', 'test_cfg.epochs=1', 'test_cfg.seeds=[0,1]',
        'test_cfg.modes=[finetune]', 'test_cfg.references=[random]'
    ]

    def pl_numbers(result):
        assert result.returncode == 0, result.stderr[-4000:]
        found = dict(re.findall(r'(pl/[a-z/]+): ([\d.]+)',
                                result.stdout + result.stderr))
        assert len(found) == 4, found  # 2 tasks x (model, random)
        return found

    single = pl_numbers(
        python_tool('test.py', base, checkpoint, '--threads', '1',
                    '--work-dir', tmp_path / 'single', *small))
    dist = pl_numbers(
        run_tool([
            'bash',
            osp.join(REPO_ROOT, 'tools', 'dist_test.sh'), base, checkpoint,
            '2', '--work-dir',
            str(tmp_path / 'dist'), *small
        ],
                 env=_env(29629)))
    assert dist == single
