# Copyright (c) mmdl contributors. All rights reserved.
"""ContinualImageClassifier: building in mmpretrain's scope, the current
task, and the regularisers and objective attached through its public
methods."""
import os.path as osp

import pytest
import torch
from conftest import REPO_ROOT
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.registry import MODELS as ROOT_MODELS
from mmengine.registry import DefaultScope
from mmpretrain.structures import DataSample

from mmdl.models.classifiers import ContinualImageClassifier
from mmdl.models.heads import MultiTaskLinearClsHead

PREPROCESSOR = dict(num_classes=10, mean=[77.9], std=[95.9], to_rgb=False)


def _cfg(head=None, **kwargs):
    cfg = dict(
        type='mmdl.ContinualImageClassifier',
        _scope_='mmpretrain',
        data_preprocessor=PREPROCESSOR,
        backbone=dict(type='mmdl.MLP', in_features=64, hidden=(16, )),
        neck=None,
        head=head or dict(
            type='LinearClsHead',
            num_classes=10,
            in_channels=16,
            loss=dict(type='CrossEntropyLoss')))
    cfg.update(kwargs)
    return cfg


def _build(cfg):
    with DefaultScope.overwrite_default_scope('mmdl'):
        return ROOT_MODELS.build(cfg)


def _data(num=6, task_ids=None):
    gen = torch.Generator().manual_seed(num)
    samples = []
    for i in range(num):
        sample = DataSample().set_gt_label(i % 3)
        if task_ids is not None:
            sample.task_id = task_ids[i]
        samples.append(sample)
    inputs = torch.randint(
        0, 256, (num, 1, 8, 8), dtype=torch.uint8, generator=gen)
    return dict(inputs=list(inputs), data_samples=samples)


def test_builds_in_mmpretrain_scope():
    model = _build(_cfg())
    assert isinstance(model, ContinualImageClassifier)
    assert type(model.data_preprocessor).__name__ == 'ClsDataPreprocessor'
    assert type(model.backbone).__name__ == 'MLP'
    assert model.current_task == 0
    assert model.regularizers == () and model.objective is None


def test_without_mmpretrain_scope_children_are_not_found():
    cfg = _cfg()
    cfg.pop('_scope_')
    with pytest.raises(KeyError, match='ClsDataPreprocessor'):
        _build(cfg)


def test_model_base_config_builds():
    cfg = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', '_base_', 'models', 'mlp_bn_digits.py'))
    model_cfg = cfg.model.to_dict()
    model_cfg['data_preprocessor'] = PREPROCESSOR
    model = _build(model_cfg)
    assert isinstance(model, ContinualImageClassifier)
    assert model.backbone.hidden == (400, 400)
    feats = model.extract_feat(torch.rand(3, 1, 8, 8))
    assert feats[0].shape == (3, 400)


def test_regularizers_are_plain_and_added_to_the_loss():
    model = _build(_cfg())
    data = model.data_preprocessor(_data(), True)
    plain = model(**data, mode='loss')
    assert set(plain) == {'loss'}
    state_keys = set(model.state_dict())

    def l2(m):
        return sum((p**2).sum() for p in m.backbone.parameters())

    attached = [l2, lambda m: torch.tensor(1.5)]
    model.set_regularizers(attached)
    attached.pop()  # the model keeps its own copy
    assert len(model.regularizers) == 2
    assert isinstance(model.regularizers, tuple)
    # not registered: no new children, parameters or state
    assert [name for name, _ in model.named_children()
            ] == ['data_preprocessor', 'backbone', 'head']
    assert set(model.state_dict()) == state_keys
    losses = model(**data, mode='loss')
    assert torch.allclose(losses['loss'], plain['loss'])
    assert torch.allclose(losses['loss_penalty'], l2(model) + 1.5)

    # mmengine sums every 'loss' key: the penalty is optimised
    optim_wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    before = l2(model).item()
    log_vars = model.train_step(_data(), optim_wrapper)
    assert log_vars['loss_penalty'].item() == pytest.approx(
        losses['loss_penalty'].item(), rel=1e-5)
    assert l2(model).item() < before
    # detached: the plain losses again
    model.set_regularizers([])
    assert set(model(**data, mode='loss')) == {'loss'}
    with pytest.raises(TypeError, match='callables'):
        model.set_regularizers([1.0])


def test_objective_combines_losses_and_penalty():
    model = _build(_cfg())
    data = model.data_preprocessor(_data(), True)
    plain = model(**data, mode='loss')
    calls = []

    def objective(m, losses, penalty):
        calls.append(m)
        return dict(loss=losses['loss'] * 0.25, loss_penalty=penalty * 3.0)

    # without a regulariser the objective is not used
    model.set_objective(objective)
    assert model.objective is objective
    assert set(model(**data, mode='loss')) == {'loss'} and not calls
    model.set_regularizers([lambda m: torch.tensor(2.0)])
    losses = model(**data, mode='loss')
    assert calls == [model]
    torch.testing.assert_close(losses['loss'], plain['loss'] * 0.25)
    assert losses['loss_penalty'].item() == 6.0
    model.set_objective(None)
    assert model(**data, mode='loss')['loss_penalty'].item() == 2.0
    with pytest.raises(TypeError, match='callable'):
        model.set_objective('sum')


def test_combine_losses_is_overridable():

    class Weighted(ContinualImageClassifier):

        def combine_losses(self, task_loss_dict, penalty):
            losses = {k: v * 0.5 for k, v in task_loss_dict.items()}
            if penalty is not None:
                losses['loss_penalty'] = penalty * (self.current_task + 1)
            return losses

    cfg = _cfg()
    cfg.pop('type')
    cfg.pop('_scope_')
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = Weighted(**cfg)
    model.current_task = 2
    model.set_regularizers([lambda m: torch.tensor(1.0)])
    data = model.data_preprocessor(_data(), True)
    losses = model(**data, mode='loss')
    assert losses['loss_penalty'].item() == 3.0


def test_current_task_drives_the_multi_task_head():
    model = _build(
        _cfg(
            head=dict(
                type='mmdl.MultiTaskLinearClsHead',
                num_tasks=3,
                num_classes=3,
                in_channels=16)))
    assert isinstance(model.head, MultiTaskLinearClsHead)
    model.current_task = 2
    assert model.head.default_task == 2
    model.eval()
    data = model.data_preprocessor(_data(4), False)
    feats = model.extract_feat(data['inputs'])[0]
    predictions = model(data['inputs'], mode='predict')
    assert [int(p.pred_label) for p in predictions] == \
        model.head.fcs[2](feats).argmax(1).tolist()
    # samples with task_id are routed by it, whatever the current task
    data = model.data_preprocessor(_data(4, task_ids=[0, 1, 0, 1]), False)
    predictions = model(**data, mode='predict')
    for i, pred in enumerate(predictions):
        expected = model.head.fcs[i % 2](feats[i:i + 1]).argmax(1)
        assert int(pred.pred_label) == int(expected)
