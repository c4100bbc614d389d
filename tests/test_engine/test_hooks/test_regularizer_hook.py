# Copyright (c) mmdl contributors. All rights reserved.
"""RegularizerHook and KFACBNHook without a training run: building, the
model check, attaching, and checkpoint states (KFACBNHook's in the format
of earlier versions)."""
from types import SimpleNamespace

import pytest
import torch
from mmengine.registry import DefaultScope
from mmengine.registry import MODELS as ROOT_MODELS
from torch import nn

from mmdl.continual import LayerCurvature
from mmdl.continual.regularizers import (KFACRegularizer, L2SPRegularizer,
                                         XKFACRegularizer)
from mmdl.engine.hooks import KFACBNHook, RegularizerHook
from mmdl.registry import HOOKS


def _classifier():
    cfg = dict(
        type='mmdl.ContinualImageClassifier',
        _scope_='mmpretrain',
        data_preprocessor=dict(
            num_classes=10, mean=[77.9], std=[95.9], to_rgb=False),
        backbone=dict(type='mmdl.MLP', in_features=64, hidden=(8, )),
        neck=None,
        head=dict(
            type='LinearClsHead',
            num_classes=10,
            in_channels=8,
            loss=dict(type='CrossEntropyLoss')))
    with DefaultScope.overwrite_default_scope('mmdl'):
        return ROOT_MODELS.build(cfg)


def test_builds_the_regularizer_from_the_registry():
    with DefaultScope.overwrite_default_scope('mmdl'):
        hook = HOOKS.build(
            dict(
                type='RegularizerHook',
                regularizer=dict(type='L2SPRegularizer', alpha=0.1),
                damping=0.5))
    assert isinstance(hook.regularizer, L2SPRegularizer)
    assert hook.regularizer.alpha == 0.1
    assert hook.objective.damping == 0.5 and hook.num_consolidated == 0
    with pytest.raises(TypeError, match='BaseRegularizer'):
        RegularizerHook(regularizer=lambda model: torch.zeros(()))


def test_model_without_the_methods_is_rejected():
    hook = RegularizerHook(regularizer=L2SPRegularizer())
    runner = SimpleNamespace(model=nn.Linear(2, 2))
    with pytest.raises(TypeError, match='Linear does not have'):
        hook.after_task(runner, 0)


def test_attach_keeps_other_regularizers():
    model = _classifier()
    other = L2SPRegularizer()
    model.set_regularizers([other])
    hook = RegularizerHook(regularizer=L2SPRegularizer())
    hook.attach(model)
    hook.attach(model)  # again (e.g. on resume): not duplicated
    assert model.regularizers == (other, hook.regularizer)
    assert model.objective is hook.objective


def test_state_round_trip_and_resume_attaches():
    model = _classifier()
    hook = RegularizerHook(regularizer=L2SPRegularizer(alpha=2.0))
    hook.regularizer.consolidate(model)
    hook.damping.consolidate(model)
    hook.objective.num_old_tasks = 1
    checkpoint = {}
    hook.before_save_checkpoint(None, checkpoint)
    assert set(checkpoint['regularizer_hook']) == {
        'type', 'regularizer', 'damping', 'objective'
    }
    with torch.no_grad():
        model.head.fc.bias.add_(1.0)
    resumed = RegularizerHook(regularizer=L2SPRegularizer(alpha=2.0))
    runner = SimpleNamespace(model=model)
    resumed.after_load_checkpoint(runner, checkpoint)
    assert model.regularizers == (resumed.regularizer, )
    # 2 / 2 * ||1||^2 over the 10 biases
    assert resumed.regularizer(model).item() == pytest.approx(10.0)
    wrong = RegularizerHook(regularizer=KFACRegularizer())
    with pytest.raises(ValueError, match='L2SPRegularizer'):
        wrong.after_load_checkpoint(runner, checkpoint)


def test_kfac_bn_hook_arguments():
    hook = KFACBNHook(
        curvature='kfac',
        fisher='empirical',
        layers=['x'],
        max_batches=3,
        bn_curvature='diag')
    assert isinstance(hook.regularizer, KFACRegularizer)
    reg = hook.regularizer
    assert (reg.fisher, reg.layers, reg.max_batches,
            reg.bn_curvature) == ('empirical', ['x'], 3, 'diag')
    assert isinstance(KFACBNHook().regularizer, XKFACRegularizer)
    for bad in (dict(curvature='diag'), dict(bn_mode='eval'),
                dict(bn_stats='fold'), dict(merge_into='conv'),
                dict(bn_curvature='full')):
        with pytest.raises(ValueError, match=list(bad)[0]):
            KFACBNHook(**bad)


def test_kfac_bn_hook_loads_the_checkpoint_format_of_earlier_versions():
    """The 'kfac_bn_hook' entry as earlier versions wrote it."""
    model = _classifier()
    weight = torch.cat([model.head.fc.weight, model.head.fc.bias[:, None]],
                       dim=1).detach()
    curvature = LayerCurvature(
        a=torch.eye(9), g=2 * torch.eye(10), num_examples=4, num_batches=1)
    state = dict(
        curvature='kfac',
        penalty=dict(
            anchors={'head.fc': weight.clone()},
            tasks=[{
                'head.fc': curvature.to_state()
            }]),
        anchor=dict(anchors={
            n: p.detach().clone()
            for n, p in model.named_parameters()
        }),
        objective=dict(num_old_tasks=1, ema_task=None, ema_penalty=None))
    hook = KFACBNHook(curvature='kfac', layers=['head.fc'], bn_curvature=None)
    hook.after_load_checkpoint(
        SimpleNamespace(model=model), dict(kfac_bn_hook=state))
    assert hook.num_tasks_collected == 1 and hook.num_consolidated == 1
    assert model.regularizers == (hook.regularizer, )
    with torch.no_grad():
        model.head.fc.bias.add_(1.0)
    # 1/2 <G dW A, dW> = 1/2 * 2 * 10 (the bias column of dW is 1)
    assert hook.regularizer(model).item() == pytest.approx(10.0)
    saved = {}
    hook.before_save_checkpoint(None, saved)
    assert set(saved['kfac_bn_hook']) == set(state)
    with pytest.raises(ValueError, match="holds 'kfac' curvature"):
        KFACBNHook(curvature='xkfac').after_load_checkpoint(
            None, dict(kfac_bn_hook=state))
