# Copyright (c) mmdl contributors. All rights reserved.
"""The command lines tools/analysis_tools/benchmark_{curvature,nonlocal}.py:
shared options, threads restored, JSON with a top-level summary (the
measurements themselves are tested in tests/test_benchmarks)."""
import importlib.util
import json
import os.path as osp

import pytest
import torch
from conftest import REPO_ROOT


def _load(name):
    spec = importlib.util.spec_from_file_location(
        name, osp.join(REPO_ROOT, 'tools', 'analysis_tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


curvature = _load('benchmark_curvature')
nonlocal_ = _load('benchmark_nonlocal')


def test_curvature_cli_writes_json(tmp_path, capsys):
    path = tmp_path / 'sub' / 'curv.json'
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        result = curvature.main([
            '--batches', '1', '--batch-size', '4', '--width', '8',
            '--channels', '2', '--repeats', '1', '--warmup', '0', '--min-time',
            '0', '--skip-resnet', '--peers', '--json',
            str(path)
        ])
        assert torch.get_num_threads() == 2  # restored
    finally:
        torch.set_num_threads(threads)
    assert result['config']['threads'] == 1  # the default of --threads
    assert result['config']['device'] == 'cpu'
    saved = json.loads(path.read_text())
    assert saved == json.loads(json.dumps(result))
    assert set(saved['summary']) >= {
        'collect_over_peer', 'xkfac_over_kfac', 'penalty_over_matmul',
        'penalty_step_overhead'
    }
    out = capsys.readouterr().out
    assert 'Summary' in out and f'wrote {path}' in out


def test_nonlocal_cli_writes_json(tmp_path, capsys):
    path = tmp_path / 'nl.json'
    report = nonlocal_.main([
        '--sizes', '4', '--channels', '16', '--repeats', '1', '--warmup', '0',
        '--threads', '1', '--json',
        str(path)
    ])
    saved = json.loads(path.read_text())
    assert saved == json.loads(json.dumps(report))
    for key in ('speedup_64', 'memory_ratio_64', 'heads8_over_heads1',
                'ceiling_64', 'share_of_ceiling_64', 'mem_ceiling_64',
                'share_of_mem_ceiling_64', 'targets_met'):
        assert key in saved['summary']
    out = capsys.readouterr().out
    assert 'targets met: NO' in out and f'wrote {path}' in out


@pytest.mark.parametrize('module', [curvature, nonlocal_])
def test_cli_rejects_bad_shared_options(module):
    for bad in (['--repeats', '0'], ['--device', 'xpu']):
        with pytest.raises(SystemExit):
            module.parse_args(bad)
    if not torch.cuda.is_available():
        with pytest.raises(SystemExit):
            module.parse_args(['--device', 'cuda'])
    args = module.parse_args(['--device', 'cpu', '--json', 'x.json'])
    assert (args.device, args.json) == ('cpu', 'x.json')


def test_rescl_cli_writes_json(tmp_path):
    rescl = _load('benchmark_rescl')
    path = tmp_path / 'rescl.json'
    result = rescl.main([
        '--batch', '2', '--size', '8', '--repeats', '1', '--warmup', '0',
        '--json', str(path)
    ])
    saved = json.loads(path.read_text())
    summary = saved['summary']
    assert set(summary['targets']) == {
        'merged_over_original', 'combined_over_plain'
    }
    for key in ('merged_over_original', 'combined_over_plain',
                'combined_online_over_plain'):
        assert summary[key] > 0 and len(summary['intervals'][key]) == 2
    # the merged network has the original size
    params = result['config']['parameters']
    assert params['merged'] == params['original'] < params['wrapper']
    with pytest.raises(SystemExit):
        rescl.main(['--batch', '0'])


def test_gcloss_cli_writes_json(tmp_path):
    gcloss = _load('benchmark_gcloss')
    path = tmp_path / 'gcloss.json'
    result = gcloss.main([
        '--batch', '4', '--size', '8', '--repeats', '1', '--warmup', '0',
        '--json', str(path)
    ])
    summary = json.loads(path.read_text())['summary']
    assert set(summary['targets']) == {'dtl_over_finetune'}
    for key in ('dtl_over_finetune', 'fd_over_finetune',
                'exact_over_finetune'):
        assert summary[key] > 0 and len(summary['intervals'][key]) == 2
    # the default GC step is the finite-difference one, timed once
    assert result['config']['default_variant'] == 'fd'
    assert summary['dtl_over_finetune'] == summary['fd_over_finetune']
    assert summary['peak_memory_ratio'] > 1
    with pytest.raises(SystemExit):
        gcloss.main(['--num-source-batches', '1'])


def test_nas_cli_writes_json(tmp_path):
    nas = _load('benchmark_nas')
    path = tmp_path / 'nas.json'
    threads = torch.get_num_threads()
    result = nas.main([
        '--layers', '3', '--channels', '4', '--batch', '4', '--size', '8',
        '--repeats', '1', '--warmup', '0', '--threads', '1', '--deep-layers',
        '4', '--gap-epochs', '1', '--gap-cfg-options', 'model.classifier.backbone.num_layers=3',
        'model.classifier.backbone.base_channels=4',
        'model.classifier.head.in_channels=64',
        'train_dataloader.dataset.indices=64',
        'train_cfg.paired_dataloaders.arch.dataset.indices=-64',
        'val_dataloader.dataset.indices=-64', '--json',
        str(path)
    ])
    assert torch.get_num_threads() == threads
    summary = json.loads(path.read_text())['summary']
    assert set(summary['targets']) == {
        'time_ratio', 'memory_ratio', 'derivation_gap_single_edge'
    }
    for key in ('time_ratio', 'memory_ratio', 'worst_case_time_ratio',
                'worst_case_memory_ratio', 'deep_time_ratio',
                'deep_memory_ratio'):
        assert summary[key] > 0
    # a deeper single-edge network needs more memory than a shallower one
    assert summary['deep_memory_ratio'] > summary['memory_ratio']
    # clamping is derivation: no gap in single-edge mode
    assert summary['derivation_gap_single_edge'] == 0.0
    assert summary['met']['derivation_gap_single_edge']
    gaps = result['derivation']
    assert 'derivation_gap_darts_bn_recalibrated' in summary
    assert gaps['darts']['gap_bn_recalibrated'] == pytest.approx(
        gaps['darts']['one_shot'] - gaps['darts']['derived_bn_recalibrated'])
    assert gaps['darts']['gap'] == pytest.approx(
        gaps['darts']['one_shot'] - gaps['darts']['derived'])
    assert result['config']['worst_case_clamped_ops'] == ['sep_conv_5x5']
    assert result['config']['gap_cfg_options'][
        'model.classifier.backbone.num_layers'] == 3
    with pytest.raises(SystemExit):
        nas.main(['--gap-epochs', '-1'])


def test_face_eval_cli_writes_json(tmp_path):
    face = _load('benchmark_face_eval')
    path = tmp_path / 'face.json'
    result = face.main([
        '--images', '300', '--dims', '16', '--templates', '40', '--pairs',
        '2000', '--genuine', '50', '--bin-pairs', '100', '--mfr-masked',
        '60', '--mfr-plain-per-id', '2', '--mfr-block-size', '16',
        '--neck-depth', '18', '--neck-batch', '2', '--neck-size', '32',
        '--neck-repeats', '2', '--repeats', '1', '--threads', '1', '--no-progress', '--json',
        str(path)
    ])
    summary = json.loads(path.read_text())['summary']
    assert set(summary['targets']) == {
        'ijbc_seconds', 'ijbc_peak_gib', 'tenfold_seconds',
        'mfr_mask_seconds', 'mfr_mask_peak_gib', 'neck_overhead'
    }
    assert all(v for k, v in summary['met'].items() if k != 'neck_overhead')
    assert summary['neck_overhead'] > 0
    assert len(summary['intervals']['neck_overhead']) == 2
    assert 0 < summary['ijbc_peak_gib'] < 0.1
    assert 0 < summary['mfr_mask_peak_gib'] < 0.1
    mfr = result['mfr_mask']
    assert (mfr['num_positive'], mfr['num_negative']) == (120, 60 * 120 - 120)
    assert set(result['ijbc_tar']) == {
        '1e-06', '1e-05', '0.0001', '0.001', '0.01', '0.1'
    }
    for bad in (['--genuine', '0'], ['--device', 'cuda'],
                ['--bin-pairs', '5'], ['--mfr-masked', '1'],
                ['--neck-batch', '0']):
        with pytest.raises(SystemExit):
            face.main(bad)
