# Copyright (c) mmdl contributors. All rights reserved.
"""The masked-face quick config, tiny, through tools/dist_train.sh (2 gloo
processes: the attention weights stay identical on both ranks) and
tools/test.py, then tools/analysis_tools/analyze_attention.py on its
checkpoints."""
import json
import os.path as osp

import pytest
import torch
from conftest import REPO_ROOT, python_tool
from tool_mains import tool_main

QUICK_MASKED = osp.join(REPO_ROOT, 'configs', 'masked_face',
                        'mfsa_iresnet18-w8_1xb64-10e_digits-faces_quick.py')


def _masked_config(tmp_path, cache, dump=True):
    """The masked-face quick config, tiny: base width 4, 64 training images
    in batches of 16 per rank, 2 epochs, validation at the end on 40 images
    of each held-out view (plain, masked)."""
    hooks = [
        "custom_imports = dict(imports=['rank_dump'], "
        'allow_failed_imports=False)',
        'custom_hooks = [dict(type="RankDumpHook", '
        f'out_dir={str(tmp_path)!r})]'
    ] if dump else []
    return '\n'.join([f'_base_ = [{QUICK_MASKED!r}]'] + hooks + [
        f'data_root = {str(cache)!r}',
        'model = dict(backbone=dict(base_channels=4, embed_dims=16), '
        'head=dict(in_channels=16))',
        'train_dataloader = dict(batch_size=16, dataset=dict('
        'data_root=data_root, indices=64))',
        "pack = dict(type='mmpretrain.PackInputs', meta_keys=("
        "'sample_idx', 'pair_index', 'issame', 'dataset_name'))",
        "mask = dict(type='RandomFaceMask', prob=1.0, "
        "condition_key='probe', seed=0)",
        'val_dataloader = dict(dataset=dict(datasets=[dict('
        "type='BinVerificationDataset', data_root=data_root, "
        "ann_file='heldout.bin', name=name, indices=40, pipeline=pipeline) "
        "for name, pipeline in (('heldout', [pack]), "
        "('heldout_masked', [mask, pack]))]))",
        'test_dataloader = val_dataloader',
        'train_cfg = dict(max_epochs=2, val_interval=2)',
        'param_scheduler = [dict(type="PolyLR", power=2.0, eta_min=0.0, '
        'by_epoch=True, begin=0, end=2, convert_to_iter_based=True)]',
        'default_hooks = dict(logger=dict(interval=1))',
    ]) + '\n'


@pytest.mark.dist
def test_dist_masked_training_and_attention_analysis(tmp_path):
    from mmdl.datasets.face import write_digits_face_set
    from test_dist_train import _dist_train
    cache = tmp_path / 'cache' / 'digits_faces'
    write_digits_face_set(str(cache))
    run = tmp_path / 'run'
    run.mkdir()
    ranks = _dist_train(run, _masked_config(run, cache), 29671)
    assert ranks[0]['wrapper'] == 'MMDistributedDataParallel'
    states = [r['state_dict'] for r in ranks]
    attention = [
        k for k in states[0] if k.startswith('neck.') and 'running_' not in k
        and 'num_batches' not in k
    ]
    assert attention
    for key in attention:
        assert torch.equal(states[0][key], states[1][key]), key
    work = run / 'work'
    logs = ''.join(
        p.read_text() for p in work.glob('*/vis_data/scalars.json'))
    for key in ('loss_mask', 'loss_background',
                'verification/heldout_masked/accuracy'):
        assert key in logs, key

    config = tmp_path / 'test_cfg.py'
    config.write_text(_masked_config(tmp_path, cache, dump=False))
    result = python_tool('test.py', config, work / 'epoch_2.pth',
                         '--work-dir', tmp_path / 'test')
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'verification/heldout_masked/accuracy' in (result.stdout +
                                                      result.stderr)

    out = tmp_path / 'attention'
    report = tool_main('analysis_tools/analyze_attention.py')([
        str(config),
        str(work / 'epoch_1.pth'),
        str(work / 'epoch_2.pth'), '--out-dir',
        str(out), '--num-images', '20', '--num-show', '3'
    ])
    assert len(report['checkpoints']) == 2
    for entry in report['checkpoints']:
        stage = entry['stages']['2']
        assert stage['map_size'] == [14, 14]
        for key in ('mass_share', 'iou', 'mask_iou'):
            assert 0.0 <= stage[key] <= 1.0
        assert osp.getsize(stage['png']) > 1000
    with open(out / 'localisation.json') as f:
        assert json.load(f)['num_images'] == 20
