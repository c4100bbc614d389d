# Copyright (c) mmdl contributors. All rights reserved.
"""Every ScaledNonLocal config builds and places its block as it says;
CIFAR and Tiny-ImageNet configs train through tools/train.py on miniature
copies in the real formats."""
import glob
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS, DefaultScope

from conftest import REPO_ROOT, python_tool
from mmdl.models import ScaledNonLocal2d
from mmdl.testing import write_cifar, write_tiny_imagenet

CONFIGS = sorted(
    glob.glob(osp.join(REPO_ROOT, 'configs', 'scaled_nonlocal', '*.py')))


def _name(path):
    return osp.basename(path)


def test_config_set_is_complete():
    names = {_name(p) for p in CONFIGS}
    for data, backbone in (('cifar10', 'preact-resnet20'),
                           ('cifar100', 'preact-resnet20'),
                           ('tiny-imagenet', 'preact-resnet18')):
        for prefix in ('', 'nl-softmax_', 'snl-h1_', 'snl-h4_', 'snl-h8_',
                       'snl-mag_', 'snl-angle_', 'nl-softmax-mag_',
                       'nl-softmax-angle_'):
            assert f'{prefix}{backbone}_1xb128-300e_{data}.py' in names
        assert len([
            n for n in names
            if n.startswith('snl-c') and n.endswith(f'{backbone}_1xb128-300e_'
                                                    f'{data}.py')
        ]) == 3
    assert any(n.endswith('_quick.py') for n in names)


@pytest.mark.parametrize('path', CONFIGS, ids=_name)
def test_config_builds_with_its_block(path):
    cfg = Config.fromfile(path)
    with DefaultScope.overwrite_default_scope('mmdl'):
        model = MODELS.build(cfg.model)
    blocks = [m for m in model.modules() if isinstance(m, ScaledNonLocal2d)]
    name = _name(path)
    if name.startswith(('snl', 'nl-')):
        assert len(blocks) == 1
        block = blocks[0]
        assert block.normalizer == ('softmax'
                                    if name.startswith('nl-') else 'scaled')
        heads = re.match(r'snl-h(\d+)_', name)
        assert block.num_heads == (int(heads.group(1)) if heads else 1)
        for similarity in ('mag', 'angle'):
            if f'-{similarity}_' in name:
                assert block.similarity == similarity
        width = re.match(r'snl-c(\d+)_', name)
        if width:
            assert block.embed_channels == int(width.group(1))
        # the block sits before the last unit of stage 1
        stage = model.backbone.layer2
        assert list(stage._modules)[-2] == 'plugin_0'
    else:
        assert not blocks
    if 'wrn' not in name:  # WRN-28-10 is too slow for a forward here
        size = 56 if 'tiny' in name else 32
        channels = 1 if 'digits' in name else 3
        model.eval()
        with torch.no_grad():
            out = model(torch.randn(1, channels, size, size), mode='tensor')
        assert out.shape == (1, cfg.model.head.num_classes)


def _accuracy_logged(result):
    assert result.returncode == 0, result.stderr[-4000:]
    log = result.stdout + result.stderr
    assert 'Epoch(train)' in log
    return re.findall(r'accuracy/top1: ([\d.]+)', log)


@pytest.mark.slow
def test_cifar_config_trains_on_miniature_copy(tmp_path):
    root = write_cifar(str(tmp_path / 'cifar'), num_train=16, num_test=8)
    config = osp.join(REPO_ROOT, 'configs', 'scaled_nonlocal',
                      'snl-h4_preact-resnet20_1xb128-300e_cifar10.py')
    options = [
        'train_cfg.max_epochs=1', 'default_hooks.logger.interval=1'
    ]
    for loader in ('train_dataloader', 'val_dataloader'):
        options += [
            f'{loader}.dataset.data_root={root}',
            f'{loader}.dataset.verify_md5=False', f'{loader}.batch_size=4',
            f'{loader}.num_workers=0'
        ]
    result = python_tool('train.py', config, '--work-dir', tmp_path / 'w',
                         '--cfg-options', *options)
    assert _accuracy_logged(result)
    assert (tmp_path / 'w' / 'epoch_1.pth').exists()


@pytest.mark.slow
def test_tiny_imagenet_config_trains_on_miniature_copy(tmp_path):
    info = write_tiny_imagenet(str(tmp_path / 'tiny'), num_classes=5)
    config = osp.join(REPO_ROOT, 'configs', 'scaled_nonlocal',
                      'snl-h8_preact-resnet18_1xb128-300e_tiny-imagenet.py')
    options = [
        'train_cfg.max_epochs=1', 'default_hooks.logger.interval=1',
        'model.head.num_classes=5'
    ]
    for loader in ('train_dataloader', 'val_dataloader'):
        options += [
            f'{loader}.dataset.data_root={info["data_root"]}',
            f'{loader}.batch_size=4', f'{loader}.num_workers=0'
        ]
    result = python_tool('train.py', config, '--work-dir', tmp_path / 'w',
                         '--cfg-options', *options)
    assert _accuracy_logged(result)
