# Copyright (c) mmdl contributors. All rights reserved.
"""tools/dataset_converters/make_bin.py and tools/analysis_tools/
eval_ijb.py: a .bin built from a pairs list reads back through the
dataset; features scored from a file; clear errors."""
import json
import os.path as osp
import pickle
import re

import cv2
import numpy as np
import pytest
import torch
from conftest import REPO_ROOT, python_tool
from tool_mains import tool_main

from mmdl.datasets import BinVerificationDataset


def _images(root):
    rng = np.random.default_rng(0)
    for name, size in (('a/1.png', 112), ('a/2.jpg', 112), ('b/1.png', 90)):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(path), rng.integers(0, 255, (size, size, 3),
                                            dtype=np.uint8))


def test_make_bin(tmp_path, capsys):
    _images(tmp_path / 'img')
    pairs = tmp_path / 'pairs.txt'
    pairs.write_text('# a comment\na/1.png a/2.jpg 1\n\na/1.png b/1.png 0\n')
    stats = tool_main('dataset_converters/make_bin.py')(
        [str(pairs), str(tmp_path / 'img'), str(tmp_path / 'set.bin')])
    assert stats == dict(pairs=2, same=1, reencoded=1)
    with open(tmp_path / 'set.bin', 'rb') as f:
        bins, issame = pickle.load(f)
    assert issame == [True, False] and len(bins) == 4
    # 112x112 files are stored byte for byte, the 90x90 one resized
    assert bins[0] == (tmp_path / 'img' / 'a' / '1.png').read_bytes()
    assert bins[1] == (tmp_path / 'img' / 'a' / '2.jpg').read_bytes()
    assert cv2.imdecode(np.frombuffer(bins[3], np.uint8),
                        cv2.IMREAD_COLOR).shape == (112, 112, 3)
    dataset = BinVerificationDataset(ann_file=str(tmp_path / 'set.bin'))
    assert dataset.issame == [True, False] and dataset.name == 'set'
    assert '2 pairs (1 same)' in capsys.readouterr().out


@pytest.mark.parametrize('text,match', [
    ('a/1.png a/2.jpg yes\n', 'line 1: expected'),
    ('a/1.png missing.png 1\n', 'missing.png .* does not exist'),
    ('\n', 'no pairs'),
])
def test_make_bin_errors(tmp_path, capsys, text, match):
    _images(tmp_path / 'img')
    pairs = tmp_path / 'pairs.txt'
    pairs.write_text(text)
    with pytest.raises(SystemExit) as exit_info:
        tool_main('dataset_converters/make_bin.py')(
            [str(pairs), str(tmp_path / 'img'), str(tmp_path / 'x.bin')])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith('make_bin.py: error: ')
    assert re.search(match, err), err


def test_eval_ijb_tool(tmp_path, capsys):
    root = tmp_path / 'ijb'
    (root / 'meta').mkdir(parents=True)
    rng = np.random.default_rng(1)
    n = 30
    tids = np.arange(n) // 3
    (root / 'meta' / 'ijbb_name_5pts_score.txt').write_text(''.join(
        f'{i}.jpg ' + ' '.join(['0'] * 10) + ' 0.9\n' for i in range(n)))
    (root / 'meta' / 'ijbb_face_tid_mid.txt').write_text(''.join(
        f'{i}.jpg {tids[i]} {i}\n' for i in range(n)))
    (root / 'meta' / 'ijbb_template_pair_label.txt').write_text(''.join(
        f'{a} {b} {int(a % 2 == b % 2)}\n' for a in range(10)
        for b in range(a + 1, 10)))
    feats = rng.normal(size=(n, 8)) + np.where(tids[:, None] % 2, 3, -3)
    np.save(tmp_path / 'f.npy', feats.astype(np.float32))
    result = tool_main('analysis_tools/eval_ijb.py')([
        str(tmp_path / 'f.npy'), '--data-root',
        str(root), '--target', 'IJBB', '--out-dir',
        str(tmp_path / 'out')
    ])
    assert result['auc'] == pytest.approx(1.0)
    assert 'IJBB TAR (%) at FAR' in capsys.readouterr().out
    saved = json.loads((tmp_path / 'out' / 'ijbb_roc.json').read_text())
    assert saved['tar']['0.1'] == pytest.approx(1.0)
    with pytest.raises(SystemExit):
        tool_main('analysis_tools/eval_ijb.py')([
            str(tmp_path / 'missing.npy'), '--data-root',
            str(root), '--target', 'IJBB'
        ])
    assert 'missing.npy does not exist' in capsys.readouterr().err


QUICK_FACE = osp.join(REPO_ROOT, 'configs', 'face_recognition',
                      'arcface_iresnet18-w8_1xb64-10e_digits-faces_quick.py')


def _face_config(tmp_path, cache, epochs=2, dump=True):
    """The face quick config, tiny: base width 4, 64 training images in
    batches of 16 per rank, no validation, checkpoints every epoch; with
    ``dump``, every rank's weights saved by RankDumpHook."""
    hooks = [
        "custom_imports = dict(imports=['rank_dump'], "
        'allow_failed_imports=False)',
        'custom_hooks = [dict(type="RankDumpHook", '
        f'out_dir={str(tmp_path)!r}, every_epoch=True)]'
    ] if dump else []
    return '\n'.join([f'_base_ = [{QUICK_FACE!r}]'] + hooks + [
        f'data_root = {str(cache)!r}',
        'model = dict(backbone=dict(base_channels=4, embed_dims=16), '
        'head=dict(in_channels=16))',
        'train_dataloader = dict(batch_size=16, dataset=dict('
        'data_root=data_root, indices=64))',
        'val_dataloader = dict(dataset=dict(data_root=data_root))',
        f'train_cfg = dict(max_epochs={epochs}, val_interval=100)',
        'param_scheduler = [dict(type="PolyLR", power=2.0, eta_min=0.0, '
        f'by_epoch=True, begin=0, end={epochs}, '
        'convert_to_iter_based=True)]',
        'default_hooks = dict(checkpoint=dict(interval=1, '
        'max_keep_ckpts=-1))',
    ]) + '\n'


@pytest.mark.dist
def test_dist_sharded_face_training_checkpoints_and_resume(tmp_path):
    """Two gloo processes with the class centres sharded (5 classes each):
    the backbone stays identical on both ranks, each rank keeps its own
    centres, checkpoints hold the full centre matrix and its momentum,
    resuming continues exactly, and tools/test.py evaluates the checkpoint
    in one process."""
    from mmdl.datasets.face import write_digits_face_set
    from test_dist_train import _dist_train
    cache = tmp_path / 'cache' / 'digits_faces'
    write_digits_face_set(str(cache))
    straight = tmp_path / 'straight'
    straight.mkdir()
    ranks = _dist_train(straight, _face_config(straight, cache), 29651)
    assert ranks[0]['wrapper'] == 'MMDistributedDataParallel'
    shards = [r['state_dict'] for r in ranks]
    assert shards[0]['head.weight'].shape == (5, 16)
    assert not torch.equal(shards[0]['head.weight'],
                           shards[1]['head.weight'])
    for key, value in shards[0].items():
        if key != 'head.weight' and 'running_' not in key and \
                'num_batches' not in key:
            assert torch.equal(value, shards[1][key]), key
    checkpoint = torch.load(
        straight / 'work' / 'epoch_2.pth', weights_only=False)
    full = checkpoint['state_dict']['head.weight']
    assert torch.equal(
        full, torch.cat([shards[0]['head.weight'],
                         shards[1]['head.weight']]))
    momentum = [
        s['momentum_buffer']
        for s in checkpoint['optimizer']['state'].values()
        if s['momentum_buffer'].shape == (10, 16)
    ]
    assert len(momentum) == 1

    # resumed at epoch 1 (a copy of the straight run's checkpoint)
    resumed = tmp_path / 'resumed'
    (resumed / 'work').mkdir(parents=True)
    (resumed / 'work' / 'epoch_1.pth').write_bytes(
        (straight / 'work' / 'epoch_1.pth').read_bytes())
    text = _face_config(resumed, cache) + \
        f"resume = True\nload_from = {str(resumed / 'work' / 'epoch_1.pth')!r}\n"
    again = _dist_train(resumed, text, 29653)
    final = torch.load(resumed / 'work' / 'epoch_2.pth', weights_only=False)
    for key, value in checkpoint['state_dict'].items():
        assert torch.equal(value, final['state_dict'][key]), key
    assert torch.equal(again[1]['state_dict']['head.weight'],
                       shards[1]['head.weight'])

    # evaluated in one process: the full matrix fits the unsharded head
    config = tmp_path / 'test.py'
    config.write_text(_face_config(tmp_path, cache, dump=False))
    result = python_tool('test.py', config,
                         straight / 'work' / 'epoch_2.pth', '--work-dir',
                         tmp_path / 'test')
    assert result.returncode == 0, result.stderr[-3000:]
    assert 'verification/heldout/accuracy' in result.stdout + result.stderr
