# Copyright (c) mmdl contributors. All rights reserved.
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mmdl.models.backbones import WideResNet
from mmdl.models.plugins import ScaledNonLocal2d
from mmdl.registry import MODELS


def num_params(module):
    return sum(p.numel() for p in module.parameters())


def expected_wrn_params(depth, k):
    """From the layer shapes of WRN-d-k (BN weight + bias, no conv bias)."""
    n = (depth - 4) // 6
    widths = (16, 16 * k, 32 * k, 64 * k)

    def unit(cin, cout):
        shortcut = cin * cout if cin != cout else 0
        return 2 * cin + 9 * cin * cout + 2 * cout + 9 * cout**2 + shortcut

    total = 3 * 16 * 9
    for cin, cout in zip(widths[:-1], widths[1:]):
        total += unit(cin, cout) + (n - 1) * unit(cout, cout)
    return total + 2 * widths[-1]


def test_shapes():
    net = WideResNet(depth=10, widen_factor=2, out_indices=(0, 1, 2))
    outs = net(torch.rand(2, 3, 32, 32))
    assert [o.shape for o in outs] == [(2, 32, 32, 32), (2, 64, 16, 16),
                                       (2, 128, 8, 8)]
    outs = net(torch.rand(2, 3, 56, 56))
    assert [o.shape for o in outs] == [(2, 32, 56, 56), (2, 64, 28, 28),
                                       (2, 128, 14, 14)]


def test_param_count():
    # WRN-28-10 on CIFAR-10 has 36,479,194 parameters with its 640x10 fc
    expected = expected_wrn_params(28, 10)
    assert expected + 640 * 10 + 10 == 36_479_194
    assert num_params(WideResNet(depth=28, widen_factor=10)) == expected
    assert num_params(WideResNet(depth=16, widen_factor=4)) == \
        expected_wrn_params(16, 4)


def test_units_follow_the_wrn_code():
    net = WideResNet(depth=16, widen_factor=1, drop_rate=0.3).eval()
    assert len(net.layer1) == 2 and net.layer1[0].downsample is None
    for module in net.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-1, 1)
            module.running_var.uniform_(0.5, 2)
    x = torch.randn(2, 16, 8, 8)
    # projection: the shortcut takes the pre-activated input
    unit = net.layer2[0]
    pre = F.relu(unit.bn1(x))
    ref = unit.conv2(F.relu(unit.bn2(unit.conv1(pre)))) + unit.downsample(pre)
    torch.testing.assert_close(unit(x), ref)
    # identity: the shortcut carries the raw input
    unit = net.layer1[1]
    ref = unit.conv2(F.relu(unit.bn2(unit.conv1(F.relu(unit.bn1(x)))))) + x
    torch.testing.assert_close(unit(x), ref)
    # dropout between the convolutions, active in training mode only
    assert unit.dropout.p == 0.3
    assert WideResNet(depth=10, widen_factor=1).layer1[0].dropout is None


def test_plugin_in_second_stage():
    net = MODELS.build(
        dict(
            type='WideResNet',
            depth=16,
            widen_factor=2,
            plugins=[
                dict(
                    cfg=dict(type='ScaledNonLocal2d', num_heads=4),
                    stages=(False, True, False))
            ]))
    assert list(net.layer2._modules) == ['0', 'plugin_0', '1']
    plugin = net.layer2.plugin_0
    assert isinstance(plugin, ScaledNonLocal2d)
    assert plugin.in_channels == 64 and plugin.num_heads == 4
    calls = []
    for name in ('0', 'plugin_0', '1'):
        getattr(
            net.layer2,
            name).register_forward_hook(lambda m, args, out, name=name: calls.
                                        append((name, tuple(args[0].shape))))
    net.init_weights()
    assert plugin.norm.weight.abs().sum() == 0
    assert net(torch.rand(2, 3, 32, 32))[0].shape == (2, 128, 8, 8)
    assert calls == [('0', (2, 32, 32, 32)), ('plugin_0', (2, 64, 16, 16)),
                     ('1', (2, 64, 16, 16))]


def test_bad_arguments():
    with pytest.raises(ValueError, match='depth=20 is not 6n \\+ 4'):
        WideResNet(depth=20)
    with pytest.raises(ValueError, match='widen_factor=0'):
        WideResNet(depth=10, widen_factor=0)
    with pytest.raises(ValueError, match='drop_rate=1'):
        WideResNet(depth=10, drop_rate=1)
    with pytest.raises(ValueError, match=r'plugins\[0\]\.stage=3'):
        WideResNet(
            depth=10,
            widen_factor=1,
            plugins=[dict(cfg=dict(type='ScaledNonLocal2d'), stage=3)])
