# Copyright (c) mmdl contributors. All rights reserved.
"""ResCL's units and exact merge against a two-branch reference written
here (not the module's own forward)."""
import copy
import math

import pytest
import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from mmdl.models.algorithms.rescl import (combine_units, find_units,
                                          plain_state_dict)

LAYERS = (nn.Linear, nn.Conv2d)


def _conv_bn_relu(bias):
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1, bias=bias), nn.BatchNorm2d(8),
        nn.ReLU(), nn.Conv2d(8, 6, 3, bias=bias), nn.BatchNorm2d(6),
        nn.ReLU(), nn.Flatten(), nn.Linear(6 * 4 * 4, 5, bias=bias))


def _preact(bias):
    # BN-ReLU-conv with standalone batch norms, on the input and inside
    return nn.Sequential(
        nn.BatchNorm2d(3), nn.ReLU(), nn.Conv2d(3, 8, 3, padding=1,
                                                bias=bias), nn.ReLU(),
        nn.BatchNorm2d(8), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1,
                                                bias=bias),
        nn.AdaptiveAvgPool2d(1), nn.Flatten())


def _linear_bn1d(bias):
    return nn.Sequential(
        nn.Flatten(), nn.Linear(3 * 6 * 6, 16, bias=bias), nn.BatchNorm1d(16),
        nn.ReLU(), nn.Linear(16, 12, bias=bias), nn.BatchNorm1d(12),
        nn.ReLU(), nn.Linear(12, 7, bias=bias))


NETS = {
    'conv-bn-relu': (_conv_bn_relu, ['layer+norm', 'layer+norm', 'layer']),
    'preact': (_preact, ['norm', 'layer', 'norm', 'layer']),
    'linear-bn1d': (_linear_bn1d, ['layer+norm', 'layer+norm', 'layer']),
}


@torch.no_grad()
def _randomise(net, generator):
    """Random weights, batch-norm statistics and (partly negative)
    gammas."""
    for module in net.modules():
        if isinstance(module, _BatchNorm):
            c = module.num_features
            module.running_mean.copy_(torch.randn(c, generator=generator))
            module.running_var.copy_(
                torch.rand(c, generator=generator) * 1.5 + 0.5)
            module.weight.copy_(torch.randn(c, generator=generator))
            module.bias.copy_(torch.randn(c, generator=generator))
        elif isinstance(module, LAYERS):
            fan_in = module.weight[0].numel()
            module.weight.copy_(
                torch.randn(module.weight.shape, generator=generator) /
                math.sqrt(fan_in))
            if module.bias is not None:
                module.bias.copy_(
                    torch.randn(module.bias.shape, generator=generator))


def _reference(source, target, alphas, x):
    """``(1 + a_s) f_s(x) + a_t f_t(x)`` unit by unit, both branches fed
    the combined activation: walks the two plain Sequentials in step."""
    src, tgt = list(source), list(target)
    i, k = 0, 0
    while i < len(src):
        if isinstance(src[i], LAYERS + (_BatchNorm, )):
            ys, yt = src[i](x), tgt[i](x)
            if (isinstance(src[i], LAYERS) and i + 1 < len(src)
                    and isinstance(src[i + 1], _BatchNorm)):
                ys, yt = src[i + 1](ys), tgt[i + 1](yt)
                i += 1
            a_s, a_t = alphas[k]
            shape = (1, -1) + (1, ) * (ys.dim() - 2)
            x = (1 + a_s.view(shape)) * ys + a_t.view(shape) * yt
            k += 1
        else:
            x = src[i](x)
        i += 1
    return x


def _combined(name, bias, dtype, seed=0):
    generator = torch.Generator().manual_seed(seed)
    make, kinds = NETS[name]
    source = make(bias).to(dtype)
    target = make(bias).to(dtype)
    _randomise(source, generator)
    _randomise(target, generator)
    x = torch.randn(4, 3, 6, 6, generator=generator, dtype=dtype)
    net = copy.deepcopy(source)
    units = find_units(net, lambda: net(x))
    assert [u.kind for u in units] == kinds
    combos = combine_units(net, units)
    alphas = []
    for spec, unit in zip(units, combos):
        for part, module_name in (('layer', spec.layer), ('norm', spec.norm)):
            if module_name is not None:
                getattr(unit.target, part).load_state_dict(
                    target.get_submodule(module_name).state_dict())
        with torch.no_grad():
            unit.alpha_source.copy_(
                torch.randn(unit.alpha_source.shape, generator=generator))
            unit.alpha_target.copy_(
                torch.randn(unit.alpha_target.shape, generator=generator))
        alphas.append((unit.alpha_source.detach().clone(),
                       unit.alpha_target.detach().clone()))
        unit.mode = 'combined'
    for module in (source, target, net):
        module.eval()
    return source, target, net, units, combos, alphas, x


@pytest.mark.parametrize('name', sorted(NETS))
@pytest.mark.parametrize('bias', [True, False])
@pytest.mark.parametrize('dtype,tol', [(torch.float32, 1e-5),
                                       (torch.float64, 1e-10)])
def test_merge_is_exact(name, bias, dtype, tol):
    source, target, net, units, combos, alphas, x = _combined(
        name, bias, dtype)
    with torch.no_grad():
        reference = _reference(source, target, alphas, x)
        # the module computes the same combination
        torch.testing.assert_close(net(x), reference, rtol=tol, atol=tol)
        merged = copy.deepcopy(source)
        state = plain_state_dict(net.state_dict(), units, combos, '',
                                 'combined')
        # the original size and names
        assert {k: v.shape
                for k, v in state.items()
                } == {k: v.shape
                      for k, v in source.state_dict().items()}
        merged.load_state_dict(state)
        merged.eval()
        scale = reference.abs().max().clamp(min=1)
        assert (merged(x) - reference).abs().max() / scale < tol


def test_zero_coefficients_reproduce_the_source_exactly():
    source, _, net, _, combos, _, x = _combined('conv-bn-relu', True,
                                                torch.float32)
    with torch.no_grad():
        for unit in combos:
            unit.reset_alpha((0.0, 0.0))
        assert torch.equal(net(x), source(x))


def test_source_and_target_modes_are_the_branches():
    source, target, net, units, combos, _, x = _combined(
        'preact', True, torch.float32)
    with torch.no_grad():
        for mode, plain in (('source', source), ('target', target)):
            for unit in combos:
                unit.mode = mode
            assert torch.equal(net(x), plain(x))
            state = plain_state_dict(net.state_dict(), units, combos, '',
                                     mode)
            for key, value in plain.state_dict().items():
                assert torch.equal(state[key], value), (mode, key)


def test_frozen_source_keeps_eval_mode_batch_norm():
    _, _, net, _, combos, _, _ = _combined('linear-bn1d', True,
                                           torch.float32)
    combos[0].source_frozen = True
    net.train()
    assert not combos[0].source.norm.training
    assert combos[0].target.norm.training
    assert combos[1].source.norm.training  # not frozen


def test_unsupported_modules_are_named():
    net = nn.Sequential(nn.Linear(4, 4), nn.LayerNorm(4))
    with pytest.raises(TypeError, match=r'1 \(LayerNorm\).*Linear, Conv2d'):
        find_units(net, lambda: net(torch.zeros(2, 4)))
    net = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4, affine=False))
    with pytest.raises(ValueError, match='1: ResCL merges batch norms'):
        find_units(net, lambda: net(torch.zeros(2, 4)))
