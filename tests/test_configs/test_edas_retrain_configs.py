# Copyright (c) mmdl contributors. All rights reserved.
"""The configs that train a derived network from a genotype (DARTS'
evaluation protocol): every one loads, builds with mmdl's registry and
sets the protocol it names. The EDAS configs read the genotype file of a
search that has not run here: they are built with DARTS_V2 instead."""
import copy
import os.path as osp

import numpy as np
import pytest
import torch
from mmcv.transforms import Compose
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope

from conftest import REPO_ROOT
from mmdl.models import AuxiliaryClsHead, DARTSBackbone
from mmdl.registry import DATASETS, MODELS, TRANSFORMS
from mmdl.testing import write_cifar

CIFAR = [
    'darts-v2_20c36_1xb96-600e_cifar10.py',
    'darts-v2_20c36_1xb96-600e_cifar100.py',
    'darts-v1_20c36_1xb96-600e_cifar10.py',
    'edas_20c36_1xb96-600e_cifar10.py',
    'edas_20c36_1xb96-600e_cifar100.py',
]
IMAGENET = [
    'darts-v2_14c48_1xb128-250e_in1k.py',
    'edas_14c48_1xb128-250e_in1k.py',
]
QUICK = 'edas-derived_8c16_1xb64-20e_digits_quick.py'
CONFIGS = CIFAR + IMAGENET + [QUICK]
SEARCH_GENOTYPES = {
    'edas':
    'work_dirs/edas_search-20c16_1xb64-50e_cifar10/genotype.json',
    'edas-derived':
    'work_dirs/edas_search-5c8_1xb64-10e_digits_quick/genotype.json',
}


def _load(name: str) -> Config:
    return Config.fromfile(osp.join(REPO_ROOT, 'configs', 'edas', name))


def _build(cfg: Config):
    """The model with DARTS_V2 in place of a searched genotype file."""
    model_cfg = copy.deepcopy(cfg.model)
    genotype = model_cfg.backbone.genotype
    if genotype.endswith('.json'):
        model_cfg.backbone.genotype = 'DARTS_V2'
    model_cfg = dict(model_cfg, data_preprocessor=cfg.data_preprocessor)
    with DefaultScope.overwrite_default_scope('mmdl'):
        return MODELS.build(model_cfg)


def _pipeline_types(dataloader) -> list:
    return [t['type'] for t in dataloader.dataset.pipeline]


def test_genotypes():
    for name in CONFIGS:
        genotype = _load(name).model.backbone.genotype
        prefix = name.split('_')[0]
        if prefix in SEARCH_GENOTYPES:
            assert genotype == SEARCH_GENOTYPES[prefix], name
        else:
            assert genotype == prefix.upper().replace('-', '_'), name


@pytest.mark.parametrize('name', CIFAR)
def test_cifar_protocol(name):
    cfg = _load(name)
    num_classes = 100 if 'cifar100' in name else 10
    model = _build(cfg)
    backbone, head = model.backbone, model.head
    assert isinstance(backbone, DARTSBackbone)
    assert isinstance(head, AuxiliaryClsHead)
    assert len(backbone.cells) == 20 and backbone.out_channels == 576
    assert backbone.auxiliary and backbone.drop_path_rate == 0.2
    assert head.aux is not None and head.aux_weight == 0.4
    assert head.fc.out_features == num_classes
    assert cfg.data_preprocessor.num_classes == num_classes
    assert cfg.model.backbone.stem == 'cifar'
    assert cfg.model.backbone.base_channels == 36
    assert model.data_preprocessor.mean.flatten().tolist() == pytest.approx(
        [125.307, 122.950, 113.865])
    # batch 96; crop, flip and cutout 16 filled with the mean pixel
    train = cfg.train_dataloader
    assert train.batch_size == 96
    assert _pipeline_types(train) == [
        'mmpretrain.RandomCrop', 'RandomFlip', 'ClippedCutout',
        'mmpretrain.PackInputs'
    ]
    cutout = train.dataset.pipeline[2]
    assert cutout.length == 16 and cutout.get('prob', 1.0) == 1.0
    assert list(cutout.pad_val) == [125, 123, 114]
    assert _pipeline_types(cfg.val_dataloader) == ['mmpretrain.PackInputs']
    assert cfg.val_dataloader.dataset.split == 'test'
    assert train.dataset.data_root == ('data/cifar100' if num_classes == 100
                                       else 'data/cifar10')
    # DARTS' schedule: SGD 0.025, cosine to 0 over 600 epochs, clip 5
    assert cfg.train_cfg.max_epochs == 600
    assert cfg.optim_wrapper.optimizer.lr == 0.025
    assert cfg.optim_wrapper.optimizer.weight_decay == 3e-4
    assert cfg.optim_wrapper.clip_grad.max_norm == 5
    assert cfg.param_scheduler.type == 'CosineAnnealingLR'
    assert (cfg.param_scheduler.T_max, cfg.param_scheduler.end) == (600, 600)
    assert cfg.param_scheduler.eta_min == 0
    assert cfg.auto_scale_lr.base_batch_size == 96
    assert [h['type'] for h in cfg.custom_hooks] == ['DropPathScheduleHook']


@pytest.mark.parametrize('name', IMAGENET)
def test_imagenet_protocol(name):
    cfg = _load(name)
    model = _build(cfg)
    backbone, head = model.backbone, model.head
    assert len(backbone.cells) == 14 and backbone.out_channels == 768
    assert backbone.stem1 is not None  # the ImageNet stem
    assert cfg.model.backbone.base_channels == 48
    assert head.fc.out_features == 1000 and head.aux_weight == 0.4
    assert cfg.model.head.aux_type == 'imagenet'
    assert cfg.model.head.loss.type == 'LabelSmoothLoss'
    assert cfg.model.head.loss.label_smooth_val == 0.1
    assert cfg.train_cfg.max_epochs == 250
    assert cfg.train_dataloader.batch_size == 128
    assert cfg.optim_wrapper.optimizer.lr == 0.1
    assert cfg.optim_wrapper.optimizer.weight_decay == 3e-5
    assert cfg.param_scheduler.type == 'ExponentialLR'
    assert cfg.param_scheduler.gamma == 0.97
    jitter = [
        t for t in cfg.train_dataloader.dataset.pipeline
        if t['type'] == 'mmpretrain.torchvision/ColorJitter'
    ]
    assert len(jitter) == 1
    assert (jitter[0].brightness, jitter[0].contrast, jitter[0].saturation,
            jitter[0].hue) == (0.4, 0.4, 0.4, 0.2)
    assert cfg.val_dataloader.dataset.split == 'val'


def test_quick_config():
    cfg = _load(QUICK)
    model = _build(cfg)
    backbone, head = model.backbone, model.head
    assert len(backbone.cells) == 8 and backbone.out_channels == 256
    assert backbone.drop_path_rate == 0.2
    # 16x16 inputs: the auxiliary cell's 4x4 maps are too small for the
    # CIFAR auxiliary classifier, which is off
    assert not backbone.auxiliary and head.aux is None
    assert cfg.train_dataloader.batch_size == 64
    assert cfg.train_cfg.max_epochs == 20
    assert cfg.param_scheduler.T_max == cfg.param_scheduler.end == 20
    assert cfg.randomness.seed == 0
    assert [h['type'] for h in cfg.custom_hooks] == ['DropPathScheduleHook']


def _run_pipeline(pipeline: list, img):
    """Apply config transforms (built as the dataset would) to ``img``."""
    with DefaultScope.overwrite_default_scope('mmdl'):
        transforms = Compose([TRANSFORMS.build(t) for t in pipeline])
    return transforms(dict(img=img, img_shape=img.shape[:2], gt_label=0))


def test_cifar_pipelines_run():
    cfg = _load(CIFAR[0])
    img = np.full((32, 32, 3), 255, dtype=np.uint8)
    out = _run_pipeline(cfg.train_dataloader.dataset.pipeline, img)
    pixels = out['inputs'].permute(1, 2, 0).reshape(-1, 3).tolist()
    # the cut is filled with the mean pixel
    assert [125, 123, 114] in pixels and [255, 255, 255] in pixels
    out = _run_pipeline(cfg.test_dataloader.dataset.pipeline, img)
    assert out['inputs'].shape == (3, 32, 32)


def test_imagenet_pipelines_run():
    """Both pipelines give 224x224 crops; the colour jitter runs with
    negative hue shifts too (mmpretrain's own ColorJitter fails on them
    under NumPy 2); the round trip through PIL around it keeps the BGR
    channel order that the data preprocessor expects."""
    cfg = _load(IMAGENET[0])
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)
    torch.manual_seed(0)
    for _ in range(8):  # 8 hue shifts, about half negative
        out = _run_pipeline(cfg.train_dataloader.dataset.pipeline[1:], img)
        assert out['inputs'].shape == (3, 224, 224)
    round_trip = [
        t for t in cfg.train_dataloader.dataset.pipeline
        if t['type'] in ('mmpretrain.NumpyToPIL', 'mmpretrain.PILToNumpy')
    ]
    assert len(round_trip) == 2
    blue = np.zeros((8, 8, 3), dtype=np.uint8)
    blue[..., 0] = 200  # BGR
    out = _run_pipeline(round_trip, blue)
    assert out['img'].shape == (8, 8, 3)
    assert out['img'][..., 0].mean() > out['img'][..., 2].mean()
    out = _run_pipeline(cfg.test_dataloader.dataset.pipeline[1:], img)
    assert out['inputs'].shape == (3, 224, 224)


def test_cifar_config_train_step_on_miniature_copy(tmp_path):
    """The CIFAR-10 config's data, model and optimiser, with a 3-cell
    network: one training step gives the main and the auxiliary loss."""
    root = write_cifar(str(tmp_path / 'cifar'), num_train=10, num_test=4)
    cfg = _load(CIFAR[0])
    # cells 0-2: reductions at 1 and 2, the auxiliary map is cell 2's (8x8)
    cfg.model.backbone.update(num_layers=3, base_channels=4)
    cfg.model.head.update(in_channels=64, aux_in_channels=64)
    dataset_cfg = dict(
        cfg.train_dataloader.dataset, data_root=root, verify_md5=False)
    with DefaultScope.overwrite_default_scope('mmdl'):
        dataset = DATASETS.build(dataset_cfg)
        torch.manual_seed(0)
        model = _build(cfg)
        optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    model.backbone.set_drop_path_prob(0.1)
    model.train()
    aux_before = [p.detach().clone() for p in model.head.aux.parameters()]
    batch = pseudo_collate([dataset[i] for i in range(4)])
    assert batch['inputs'][0].shape == (3, 32, 32)
    log_vars = model.train_step(batch, optim_wrapper)
    # mmengine logs the sum as 'loss', beside the two terms
    assert set(log_vars) == {'loss', 'loss_cls', 'loss_aux'}
    assert torch.allclose(log_vars['loss'],
                          log_vars['loss_cls'] + log_vars['loss_aux'])
    assert all(torch.isfinite(v) for v in log_vars.values())
    # the auxiliary classifier was trained: its loss is in the sum
    assert all(not torch.equal(p, q)
               for p, q in zip(model.head.aux.parameters(), aux_before))
