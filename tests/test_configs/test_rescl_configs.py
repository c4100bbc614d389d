# Copyright (c) mmdl contributors. All rights reserved.
"""Every ResCL config builds its wrapper, and the merged state dict fits the
model of its unwrapped sibling config (the config tools/test.py runs the
merged checkpoints with)."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

from conftest import REPO_ROOT
from mmdl.registry import MODELS

RESCL = osp.join(REPO_ROOT, 'configs', 'rescl')
CONFIGS = sorted(
    glob.glob(osp.join(RESCL, 'rescl_*.py')) +
    glob.glob(osp.join(RESCL, 'mean-imm_*.py')))
# the unwrapped sibling of each ResCL config
SIBLINGS = {
    'rescl_resnet50_1xb32-in1k-to-cub.py':
    osp.join(REPO_ROOT, 'configs', 'xkfac',
             'finetune_resnet50_1xb32-in1k-to-cub.py'),
    'rescl_mlp-bn_1xb128-2t-6e_permuted-mnist.py':
    osp.join(RESCL, 'finetune_mlp-bn_1xb128-2t-6e_permuted-fashion-mnist.py'),
}


def _model(cfg):
    model = dict(cfg.model)
    if 'data_preprocessor' in cfg:
        model.setdefault('data_preprocessor', cfg.data_preprocessor)
    with DefaultScope.overwrite_default_scope('mmdl'):
        return MODELS.build(model)


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_config_builds_and_merges_into_its_sibling(path):
    cfg = Config.fromfile(path)
    name = osp.basename(path)
    sibling = SIBLINGS.get(name) or osp.join(
        RESCL, 'finetune_' + name.split('_', 1)[1])
    wrapper = _model(cfg)
    assert type(wrapper).__name__ == 'ResCLWrapper'
    assert cfg.optim_wrapper.optimizer.weight_decay == 0
    assert 'paramwise_cfg' not in cfg.optim_wrapper
    hooks = [h for h in cfg.custom_hooks if h.type == 'ResCLHook']
    assert len(hooks) == 1
    epochs = cfg.train_cfg.max_epochs
    epochs = epochs if isinstance(epochs, int) else max(epochs)
    assert hooks[0].finetune_epochs <= epochs
    plain = _model(Config.fromfile(sibling))
    merged = wrapper.plain_state_dict('combined')
    assert {k: v.shape
            for k, v in merged.items()
            } == {k: v.shape
                  for k, v in plain.state_dict().items()}
