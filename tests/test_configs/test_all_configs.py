# Copyright (c) mmdl contributors. All rights reserved.
"""Every config in configs/ parses and names registered components."""
import glob
import os.path as osp

import mmpretrain.registry as mmpretrain_registry
import pytest
from mmengine.config import Config
from mmengine.registry import Registry

import mmdl.registry as mmdl_registry
from conftest import REPO_ROOT
from mmdl.utils.config_checks import iter_items

REGISTRIES = [
    r for module in (mmdl_registry, mmpretrain_registry)
    for r in vars(module).values() if isinstance(r, Registry)
]


def _registered(name):
    for registry in REGISTRIES:
        try:
            if registry.get(name) is not None:
                return True
        except Exception:  # noqa: BLE001  (a lookup may raise in a scope)
            continue
    return False


CONFIGS = sorted(
    p for p in glob.glob(
        osp.join(REPO_ROOT, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in p)


@pytest.mark.parametrize(
    'path', CONFIGS, ids=lambda p: osp.relpath(p, REPO_ROOT))
def test_config_parses(path):
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmdl'
    assert cfg.runner_type == 'mmdl.MMDLRunner'
    assert 'model' in cfg and 'train_dataloader' in cfg
    types = {
        v
        for p, v in iter_items(cfg._cfg_dict)
        if p.split('.')[-1] in ('type', 'runner_type') and isinstance(v, str)
    }
    assert types
    unknown = sorted(t for t in types if not _registered(t))
    assert not unknown, f'unregistered types in {path}: {unknown}'


def test_permuted_mnist_inherits_fashion_loaders():
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', 'xkfac',
                 'xkfac_mlp-bn_1xb128-10t-1e_permuted-mnist.py'))
    assert cfg.train_dataloader.dataset.type == 'PermutedMNIST'
    assert cfg.val_dataloader.dataset.data_root == 'data/mnist'
    assert cfg.data_preprocessor.mean == [33.32]
    assert cfg.train_dataloader.dataset.indices == 10000
