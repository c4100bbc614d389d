# Copyright (c) mmdl contributors. All rights reserved.
"""The ImageNet -> fine-grained ResNet-50 configs of configs/xkfac: the set
of configs, their datasets on miniature copies of ImageNet, CUB-200-2011,
Stanford Cars, FGVC-Aircraft and Flowers-102 in the real formats, the
checkpoint converter, and the XK-FAC CUB config through tools/train.py
(0-epoch ImageNet task, 1 CUB iteration at 32x32)."""
import glob
import importlib.util
import json
import os.path as osp

import pytest
import torch
from conftest import REPO_ROOT, python_tool
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmdl.registry import DATASETS
from mmdl.testing import (write_cub, write_fgvc_aircraft, write_flowers102,
                          write_imagenet, write_stanford_cars)

XKFAC = osp.join(REPO_ROOT, 'configs', 'xkfac')
METHODS = ('finetune', 'l2-sp', 'ewc', 'kfac', 'kfac-fixed-bn', 'xkfac')
# target -> (miniature writer, number of classes of the real dataset)
TARGETS = {
    'cub': (write_cub, 200),
    'stanford-cars': (write_stanford_cars, 196),
    'fgvc-aircraft': (write_fgvc_aircraft, 100),
    'flowers102': (write_flowers102, 102),
}

CHECKPOINT = 'checkpoints/resnet50_8xb32_in1k_multi-task.pth'
# layers penalised in the end-to-end run
LAYERS = [
    'backbone.conv1', 'backbone.layer1.0.conv2', 'backbone.layer4.2.conv3',
    'head.fcs.0', 'head.fcs.1'
]

spec = importlib.util.spec_from_file_location(
    'in1k_to_multitask',
    osp.join(REPO_ROOT, 'tools', 'model_converters', 'in1k_to_multitask.py'))
converter = importlib.util.module_from_spec(spec)
spec.loader.exec_module(converter)


def _config(method, target='cub'):
    return osp.join(XKFAC, f'{method}_resnet50_1xb32-in1k-to-{target}.py')


def test_config_set():
    names = {
        osp.basename(p)
        for p in glob.glob(osp.join(XKFAC, '*_resnet50_*.py'))
    }
    expected = {osp.basename(_config(m)) for m in METHODS}
    expected |= {osp.basename(_config('xkfac', t)) for t in TARGETS}
    assert names == expected
    hooks = {}
    for name in sorted(names):
        cfg = Config.fromfile(osp.join(XKFAC, name))
        # ImageNet is not retrained; the target gets 30 epochs
        assert cfg.train_cfg.max_epochs == [0, 30]
        assert cfg.load_from == CHECKPOINT
        assert cfg.model.backbone.depth == 50
        assert cfg.model.backbone.norm_eval is False
        target = name.split('-to-')[1][:-3]
        assert cfg.model.head.num_classes == [1000, TARGETS[target][1]]
        for loader in ('train_dataloader', 'val_dataloader'):
            datasets = cfg[loader].dataset.dataset
            assert datasets[0].type == 'mmpretrain.ImageNet'
            assert datasets[0].split == ('train' if loader.startswith('train')
                                         else 'val')
        assert cfg.test_dataloader.dataset.task_id == 1
        hooks[name.split('_')[0]] = cfg.custom_hooks
    assert hooks['finetune'] == []
    # L2-SP: the starting-point regulariser, the CUB loss unweighted
    l2sp = hooks['l2-sp'][0]
    assert l2sp.type == 'RegularizerHook'
    assert l2sp.regularizer.type == 'L2SPRegularizer'
    assert l2sp.regularizer.alpha > 0
    assert not l2sp.task_weighting and not l2sp.adaptive_scaling
    penalties = {
        'ewc': ('ewc', 'train'),
        'kfac': ('kfac', 'train'),
        'kfac-fixed-bn': ('kfac', 'fixed'),
        'xkfac': ('xkfac', 'train'),
    }
    for method, expected in penalties.items():
        hook = hooks[method][0]
        assert (hook.curvature, hook.bn_mode) == expected
        assert hook.max_batches == 1000


@pytest.mark.parametrize('target', sorted(TARGETS))
def test_config_datasets_read_miniatures(target, tmp_path):
    """Each config's train/val datasets (splits and arguments) on a
    miniature copy of ImageNet and of its target in the original layout."""
    cfg = Config.fromfile(_config('xkfac', target))
    imagenet = write_imagenet(str(tmp_path / 'imagenet'))
    writer, _ = TARGETS[target]
    data = writer(str(tmp_path / target))
    split_of = {'cub': ('train', 'test'), 'stanford-cars': ('train', 'test')}
    train_split, test_split = split_of.get(target, ('trainval', 'test'))
    expected = {
        ('train_dataloader', 0): imagenet['train'],
        ('val_dataloader', 0): imagenet['val'],
        ('train_dataloader', 1): data[train_split],
        ('val_dataloader', 1): data[test_split],
    }
    with DefaultScope.overwrite_default_scope('mmdl'):
        for (loader, task), items in expected.items():
            dataset_cfg = cfg[loader].dataset.to_dict()
            roots = [imagenet['data_root'], data['data_root']]
            for sub, root in zip(dataset_cfg['dataset'], roots):
                sub['data_root'] = root
            dataset = DATASETS.build(dict(dataset_cfg, task_id=task))
            root = roots[task]
            found = []
            for i in range(len(dataset)):
                info = dataset.get_data_info(i)
                assert info['task_id'] == task
                path = osp.relpath(info['img_path'], root)
                found.append((path, info['gt_label']))
            assert found == items, (loader, task)
            sample = dataset[0]
            assert sample['data_samples'].task_id == task
            assert tuple(sample['inputs'].shape) == (3, 224, 224)


def test_imagenet_folder_layout(tmp_path):
    """The other layout of mmpretrain's ImageNet: class folders for val too
    and no meta files (needs the classes when there are not 1000)."""
    data = write_imagenet(str(tmp_path), num_classes=2, ann_files=False)
    assert not osp.exists(tmp_path / 'meta')
    with DefaultScope.overwrite_default_scope('mmdl'):
        for split in ('train', 'val'):
            dataset = DATASETS.build(
                dict(
                    type='mmpretrain.ImageNet',
                    data_root=data['data_root'],
                    split=split,
                    metainfo=dict(classes=data['wnids'])))
            infos = map(dataset.get_data_info, range(len(dataset)))
            root = data['data_root']
            found = [(osp.relpath(i['img_path'], root), i['gt_label'])
                     for i in infos]
            assert found == data[split]


def test_converter(tmp_path, capsys):
    state = {
        'backbone.conv1.weight': torch.randn(2, 3, 1, 1),
        'head.fc.weight': torch.randn(4, 2),
        'head.fc.bias': torch.randn(4),
    }
    converted = converter.convert_state_dict(state, task=1)
    assert list(converted) == [
        'backbone.conv1.weight', 'head.fcs.1.weight', 'head.fcs.1.bias'
    ]
    assert converted['head.fcs.1.weight'] is state['head.fc.weight']
    prefixed = {f'module.{k}': v for k, v in state.items()}
    wrapped = converter.convert_state_dict(prefixed)
    assert 'module.head.fcs.0.bias' in wrapped
    with pytest.raises(KeyError, match='already has'):
        converter.convert_state_dict(converted)
    with pytest.raises(KeyError, match='no key starts with'):
        converter.convert_state_dict({'backbone.w': torch.zeros(1)})

    # the command line, on a checkpoint as mmpretrain writes it and on a
    # bare state dict
    src = tmp_path / 'in1k.pth'
    torch.save(dict(state_dict=state, meta=dict(epoch=100)), src)
    dst = tmp_path / 'out' / 'multi-task.pth'
    converter.main([str(src), str(dst)])
    assert 'head.fc.* -> head.fcs.0.*' in capsys.readouterr().out
    result = torch.load(dst, weights_only=True)
    assert sorted(result) == ['meta', 'state_dict']
    assert torch.equal(result['state_dict']['head.fcs.0.weight'],
                       state['head.fc.weight'])
    assert result['meta']['task'] == 0
    torch.save(state, src)
    converter.main([str(src), str(dst), '--task', '2'])
    assert 'head.fcs.2.bias' in torch.load(dst)['state_dict']
    with pytest.raises(SystemExit, match='already has'):
        converter.main([str(dst), str(tmp_path / 'again.pth')])


def _pretrained_checkpoint(path, label):
    """An mmpretrain ResNet-50 ImageNet classifier checkpoint (random
    backbone) whose classifier predicts ``label`` for every image (zero
    weights, one large bias)."""
    from mmpretrain.registry import MODELS
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = MODELS.build(
            dict(
                type='ImageClassifier',
                backbone=dict(type='ResNet', depth=50),
                neck=dict(type='GlobalAveragePooling'),
                head=dict(
                    type='LinearClsHead', num_classes=1000, in_channels=2048)))
    state = model.state_dict()
    state['head.fc.weight'].zero_()
    state['head.fc.bias'].zero_()
    state['head.fc.bias'][label] = 10.0
    torch.save(dict(state_dict=state, meta=dict(epoch=100)), path)


@pytest.mark.slow
def test_xkfac_cub_trains_through_tools_train(tmp_path):
    imagenet = write_imagenet(
        str(tmp_path / 'imagenet'),
        num_classes=3,
        train_per_class=2,
        val_per_class=2)
    cub = write_cub(
        str(tmp_path / 'cub'),
        num_classes=3,
        train_per_class=1,
        test_per_class=2)
    # task 0 is evaluated with the converted classifier: label 1 for every
    # ImageNet image, right for 2 of the 6 validation images
    src, ckpt = tmp_path / 'in1k.pth', tmp_path / 'in1k_multi-task.pth'
    _pretrained_checkpoint(src, label=1)
    converter.main([str(src), str(ckpt)])
    expected_source = 100.0 * sum(
        label == 1 for _, label in imagenet['val']) / len(imagenet['val'])
    assert expected_source == pytest.approx(100 / 3)
    roots = [imagenet['data_root'], cub['data_root']]
    options = [
        f'{loader}.dataset.dataset.{task}.data_root={root}'
        for loader in ('train_dataloader', 'val_dataloader')
        for task, root in enumerate(roots)
    ] + [
        # 3 CUB training images: one iteration of 3
        'train_dataloader.batch_size=3',
        'train_dataloader.num_workers=0',
        'val_dataloader.batch_size=6',
        'val_dataloader.num_workers=0',
        # 32x32 instead of 224x224
        'train_dataloader.dataset.pipeline.1.scale=32',
        'val_dataloader.dataset.pipeline.1.scale=32',
        'val_dataloader.dataset.pipeline.2.crop_size=32',
        'train_cfg.max_epochs=[0,1]',
        'custom_hooks.0.max_batches=1',
        # five layers instead of all 107 (the stem, a 3x3 conv, the conv
        # before the last BN, both classifiers): the XK-FAC penalty of the
        # whole ResNet-50 costs seconds per CPU step
        f"custom_hooks.0.layers=[{','.join(LAYERS)}]",
        f'load_from={ckpt}',
        # no checkpoint (it would hold about 1 GB of curvature)
        'default_hooks.checkpoint.interval=-1',
        'default_hooks.checkpoint.save_last=False',
        'default_hooks.logger.interval=1',
        'randomness.seed=0',
    ]
    work_dir = tmp_path / 'work'
    # one step on 3 images at 32x32: the last stage's batch norms see 3
    # values per channel, and a random ResNet-50's gradients can explode
    # through them (some initialisations gave NaN features); clip them
    config = tmp_path / 'xkfac_cub.py'
    config.write_text(f'_base_ = [{_config("xkfac")!r}]\n'
                      'optim_wrapper = dict(clip_grad=dict(max_norm=1.0))\n')
    # one thread: two-thread OpenMP next to other processes on two cores
    # slows ResNet-50 down twenty-fold
    result = python_tool(
        'train.py',
        config,
        '--work-dir',
        work_dir,
        '--cfg-options',
        *options,
        env=dict(OMP_NUM_THREADS='1'))
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    with open(work_dir / 'continual_metrics.json') as f:
        metrics = json.load(f)
    matrix = metrics['accuracy_matrix']
    assert metrics['tasks_learned'] == 2 and metrics['epoch'] == 1
    assert len(matrix) == 2 and all(len(row) == 2 for row in matrix)
    assert matrix[0][1] is None
    # ImageNet with the pretrained classifier, before and after CUB (the
    # CUB samples never reach the ImageNet classifier)
    assert matrix[0][0] == pytest.approx(expected_source, abs=1e-3)
    assert matrix[1][0] == pytest.approx(
        expected_source, abs=1e-3), log[-3000:]
    assert 0 <= matrix[1][1] <= 100
    assert 'Task 0 (1 of 2): 0 epochs (not trained' in log
    assert 'curvature of task 0 collected' in log
    assert 'Epoch(train) [1][1/1]' in log
    assert 'loss_penalty' in log
    assert not list(work_dir.glob('*.pth'))
