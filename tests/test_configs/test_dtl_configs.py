# Copyright (c) mmdl contributors. All rights reserved.
"""The disposable-transfer configs build, and the baselines differ from
DTL only in the disposal loss."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.registry import DefaultScope

from mmdl.registry import MODELS

CONFIGS = osp.join(osp.dirname(__file__), '..', '..', 'configs', 'dtl')
LEAVES = sorted(glob.glob(osp.join(CONFIGS, '*.py')))
TRANSFER = [p for p in LEAVES if not osp.basename(p).startswith('pretrain')]


def _load(path):
    return Config.fromfile(path)


@pytest.mark.parametrize('path', LEAVES, ids=osp.basename)
def test_models_build(path):
    cfg = _load(path)
    model_cfg = dict(cfg.model, data_preprocessor=cfg.data_preprocessor)
    model_cfg.pop('source_checkpoint', None)
    with DefaultScope.overwrite_default_scope('mmdl'):
        model = MODELS.build(model_cfg)
    if osp.basename(path).startswith('pretrain'):
        assert cfg.train_cfg.get('type') is None
        return
    assert cfg.train_cfg.type == 'PairedEpochBasedTrainLoop'
    assert set(cfg.train_cfg.paired_dataloaders) == {'source'}
    assert cfg.test_cfg.type == 'PiggybackTestLoop'
    assert cfg.test_cfg.tasks.source.fraction == 0.1
    # the source checkpoint is the pre-training config's last checkpoint
    stem = cfg.model.source_checkpoint.split('/')[1]
    assert osp.exists(osp.join(CONFIGS, stem + '.py')), stem
    assert not model.source_head.fc.weight.requires_grad


@pytest.mark.parametrize('path', TRANSFER, ids=osp.basename)
def test_baselines_only_change_the_disposal_loss(path):
    name = osp.basename(path)
    method = name.split('_')[0]
    if method == 'dtl':
        assert _load(path).model.disposal_loss.type == 'GCLoss'
        return
    dtl = _load(osp.join(CONFIGS, 'dtl' + name[len(method):]))
    cfg = _load(path)
    expected = dict(finetune=None, neggrad='NegGradLoss',
                    randlabel='RandomLabelLoss')[method]
    loss = cfg.model.disposal_loss
    assert (loss if loss is None else loss.type) == expected
    for key in ('model', 'train_cfg', 'test_cfg', 'optim_wrapper'):
        mine, theirs = dict(cfg[key]), dict(dtl[key])
        mine.pop('disposal_loss', None)
        theirs.pop('disposal_loss', None)
        assert mine == theirs, key
