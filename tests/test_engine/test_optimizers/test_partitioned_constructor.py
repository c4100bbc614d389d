# Copyright (c) mmdl contributors. All rights reserved.
"""PartitionedOptimWrapperConstructor: parameters split by name patterns
into one optimiser each, paramwise rules inside a part, DDP unwrapping,
the runner's per-part schedulers, and configuration errors."""
import pytest
import torch
from mmengine.optim import OptimWrapperDict, build_optim_wrapper
from mmengine.registry import DefaultScope
from torch import nn

from mmdl.utils.config_checks import ConfigError


class Toy(nn.Module):

    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))
        self.backbone.alphas_normal = nn.ParameterList(
            [nn.Parameter(torch.zeros(3)) for _ in range(2)])
        self.head = nn.Linear(2, 2)
        self.frozen = nn.Parameter(torch.zeros(1), requires_grad=False)


def _cfg(**parts):
    return dict(constructor='PartitionedOptimWrapperConstructor', **parts)


def _build(model, cfg):
    with DefaultScope.overwrite_default_scope('mmdl'):
        return build_optim_wrapper(model, cfg)


def _names(model, wrapper):
    ids = {id(p) for g in wrapper.optimizer.param_groups for p in g['params']}
    return sorted(n for n, p in model.named_parameters() if id(p) in ids)


def test_parts_by_pattern():
    model = Toy()
    optim = _build(
        model,
        _cfg(
            architecture=dict(
                params=['*.alphas_*'],
                optimizer=dict(type='Adam', lr=3e-4, betas=(0.5, 0.999))),
            network=dict(
                optimizer=dict(type='SGD', lr=0.025, momentum=0.9),
                clip_grad=dict(max_norm=5))))
    assert isinstance(optim, OptimWrapperDict)
    assert _names(model, optim['architecture']) == [
        'backbone.alphas_normal.0', 'backbone.alphas_normal.1'
    ]
    assert _names(model, optim['network']) == [
        'backbone.0.bias', 'backbone.0.weight', 'backbone.1.bias',
        'backbone.1.weight', 'head.bias', 'head.weight'
    ]
    assert isinstance(optim['architecture'].optimizer, torch.optim.Adam)
    assert optim['architecture'].optimizer.defaults['betas'] == (0.5, 0.999)
    assert optim['network'].clip_grad_kwargs == dict(max_norm=5)
    # one group: the optimiser keeps its fast multi-tensor path
    assert len(optim['network'].optimizer.param_groups) == 1


def test_paramwise_cfg_inside_a_part_and_ddp_unwrap():

    class Wrapped(nn.Module):

        def __init__(self, module):
            super().__init__()
            self.module = module

    model = Toy()
    optim = _build(
        Wrapped(model),
        _cfg(
            architecture=dict(
                params=['*alphas*'], optimizer=dict(type='SGD', lr=1.0)),
            network=dict(
                optimizer=dict(type='SGD', lr=0.1, weight_decay=1e-2),
                paramwise_cfg=dict(norm_decay_mult=0.0))))
    groups = optim['network'].optimizer.param_groups
    decay = {
        n: g['weight_decay']
        for g in groups
        for n, p in model.named_parameters() if p is g['params'][0]
    }
    assert decay['backbone.1.weight'] == 0.0  # batch norm: no decay
    assert decay['head.weight'] == 1e-2
    assert 'backbone.alphas_normal.0' not in decay  # only the part's own
    assert len(groups) == 6


@pytest.mark.parametrize('parts,match', [
    (dict(
        a=dict(params=['*'], optimizer=dict(type='SGD', lr=1)),
        b=dict(params=['head.*'], optimizer=dict(type='SGD', lr=1))),
     "'head.weight' matches the params of several parts"),
    (dict(a=dict(params=['head.*'], optimizer=dict(type='SGD', lr=1))),
     "parameter 'backbone.0.weight' matches no part"),
    (dict(
        a=dict(optimizer=dict(type='SGD', lr=1)),
        b=dict(optimizer=dict(type='SGD', lr=1))), 'at most one part'),
    (dict(
        a=dict(params=['*.nothing'], optimizer=dict(type='SGD', lr=1)),
        b=dict(optimizer=dict(type='SGD', lr=1))),
     r"parts \['a'\] hold no trainable parameter"),
    (dict(a=dict(params='head.*', optimizer=dict(type='SGD', lr=1))),
     'list of name patterns'),
    (dict(a=1), 'part names to optim-wrapper configs'),
])
def test_errors(parts, match):
    with pytest.raises(ConfigError, match=match):
        _build(Toy(), _cfg(**parts))
    with pytest.raises(ConfigError, match='inside a part'):
        _build(
            Toy(),
            _cfg(
                paramwise_cfg=dict(),
                a=dict(optimizer=dict(type='SGD', lr=1))))
