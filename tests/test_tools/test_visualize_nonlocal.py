# Copyright (c) mmdl contributors. All rights reserved.
import importlib.util
import json
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmengine.registry import DefaultScope

from conftest import REPO_ROOT, python_tool
from mmdl.models import ScaledNonLocal2d

spec = importlib.util.spec_from_file_location(
    'visualize_nonlocal',
    osp.join(REPO_ROOT, 'tools', 'analysis_tools', 'visualize_nonlocal.py'))
tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tool)

QUICK = osp.join(REPO_ROOT, 'configs', 'scaled_nonlocal',
                 'snl-h4_preact-resnet14_1xb32-15e_digits_quick.py')


def test_key_norm_correlation_matches_numpy():
    torch.manual_seed(0)
    attention = torch.rand(2, 3, 4, 10)
    norms = torch.rand(2, 3, 10)
    expected = np.mean([
        np.corrcoef(attention[b, h, q].numpy(), norms[b, h].numpy())[0, 1]
        for b in range(2) for h in range(3) for q in range(4)
    ])
    assert tool.key_norm_correlation(attention, norms) == pytest.approx(
        expected, abs=1e-6)


def test_row_similarity_brute_force():
    torch.manual_seed(0)
    attention = torch.rand(1, 2, 3, 7)
    values = []
    for h in range(2):
        for i in range(3):
            for j in range(3):
                if i != j:
                    a, b = attention[0, h, i], attention[0, h, j]
                    values.append(float(a @ b / (a.norm() * b.norm())))
    assert tool.row_similarity(attention) == pytest.approx(
        np.mean(values), abs=1e-6)


def test_magnitude_only_attention_follows_key_norms():
    """With the 'mag' similarity, A_ij = s |theta_i| |phi_j|: every row is
    proportional to the key norms (correlation 1, identical rows)."""
    torch.manual_seed(0)
    x = torch.randn(2, 8, 5, 5)
    mag = ScaledNonLocal2d(8, similarity='mag', init_std=0.3).eval()
    stats = tool.block_statistics(mag, x)
    assert stats['key_norm_correlation'] == pytest.approx(1.0, abs=1e-5)
    assert stats['row_similarity'] == pytest.approx(1.0, abs=1e-5)
    angle = ScaledNonLocal2d(8, similarity='angle', init_std=0.3).eval()
    assert tool.block_statistics(angle, x)['row_similarity'] < 0.9


@pytest.mark.slow
def test_tool_on_a_trained_checkpoint(tmp_path):
    result = python_tool('train.py', QUICK, '--work-dir', tmp_path,
                         '--cfg-options', 'train_cfg.max_epochs=1')
    assert result.returncode == 0, result.stderr[-3000:]
    out_dir = tmp_path / 'vis'
    try:
        stats = tool.main([
            QUICK,
            str(tmp_path / 'epoch_1.pth'), '--out-dir',
            str(out_dir), '--index', '3', '--num-images', '16'
        ])
    finally:
        DefaultScope._instance_dict.clear()
    image = cv2.imread(str(out_dir / 'attention_3.png'))
    assert image is not None and image.shape[0] > 100
    saved = json.loads((out_dir / 'nonlocal_stats.json').read_text())
    assert saved['num_images'] == 16
    assert set(saved['blocks']) == set(stats) == {'backbone.layer2.plugin_0'}
    block = stats['backbone.layer2.plugin_0']
    assert block['heads'] == 4 and block['feature_map'] == [16, 16]
    assert -1 <= block['key_norm_correlation'] <= 1
    assert -1 <= block['row_similarity'] <= 1
