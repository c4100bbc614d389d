# Copyright (c) mmdl contributors. All rights reserved.
import pytest
import torch
from mmengine.registry import MODELS as ROOT_MODELS
from mmengine.registry import DefaultScope
from torch import nn

from mmdl.models.backbones import (PreActBasicBlock, PreActBottleneck,
                                   PreActResNet, PreActResNetImageNet)
from mmdl.models.plugins import ScaledNonLocal2d
from mmdl.registry import MODELS


def num_params(module):
    return sum(p.numel() for p in module.parameters())


# Independent counts from the layer shapes (BN: weight + bias; no conv bias).
def basic_params(cin, cout, stride):
    shortcut = cin * cout if stride != 1 or cin != cout else 0
    return 2 * cin + 9 * cin * cout + 2 * cout + 9 * cout * cout + shortcut


def bottleneck_params(cin, cout, stride):
    mid = cout // 4
    shortcut = cin * cout if stride != 1 or cin != cout else 0
    return (2 * cin + cin * mid + 2 * mid + 9 * mid * mid + 2 * mid +
            mid * cout + shortcut)


def expected_params(unit, stem, blocks, widths, strides, stem_kernel=3):
    total = 3 * stem * stem_kernel**2
    cin = stem
    for num, cout, stride in zip(blocks, widths, strides):
        total += unit(cin, cout, stride)
        total += (num - 1) * unit(cout, cout, 1)
        cin = cout
    return total + 2 * cin


def test_cifar_shapes():
    net = PreActResNet(depth=20, out_indices=(0, 1, 2))
    outs = net(torch.rand(2, 3, 32, 32))
    assert [o.shape for o in outs] == [(2, 16, 32, 32), (2, 32, 16, 16),
                                       (2, 64, 8, 8)]
    outs = net(torch.rand(2, 3, 56, 56))
    assert [o.shape for o in outs] == [(2, 16, 56, 56), (2, 32, 28, 28),
                                       (2, 64, 14, 14)]
    net = PreActResNet(depth=11, block='bottleneck')
    assert len(net.layer1) == 1 and isinstance(net.layer1[0], PreActBottleneck)
    (out, ) = net(torch.rand(2, 3, 32, 32))
    assert out.shape == (2, 256, 8, 8)
    # the final BN-ReLU acts on the last stage only
    assert (out >= 0).all()


def test_imagenet_style_shapes():
    net = PreActResNetImageNet(depth=18, out_indices=(0, 1, 2, 3))
    assert net.conv1.kernel_size == (3, 3) and net.conv1.stride == (1, 1)
    outs = net(torch.rand(2, 3, 56, 56))
    assert [o.shape for o in outs] == [(2, 64, 56, 56), (2, 128, 28, 28),
                                       (2, 256, 14, 14), (2, 512, 7, 7)]
    outs = net(torch.rand(2, 3, 32, 32))
    assert [o.shape for o in outs] == [(2, 64, 32, 32), (2, 128, 16, 16),
                                       (2, 256, 8, 8), (2, 512, 4, 4)]
    net = PreActResNetImageNet(
        depth=50, base_channels=8, stem_channels=8, stem_kernel=7)
    assert net.conv1.kernel_size == (7, 7) and net.conv1.padding == (3, 3)
    assert net(torch.rand(2, 3, 56, 56))[0].shape == (2, 256, 7, 7)


def test_depth_rules():
    assert PreActResNet.parse_depth(20) == (PreActBasicBlock, 3)
    assert PreActResNet.parse_depth(110, 'basic') == (PreActBasicBlock, 18)
    assert PreActResNet.parse_depth(56) == (PreActBottleneck, 6)
    assert PreActResNet.parse_depth(164) == (PreActBottleneck, 18)
    assert PreActResNet.parse_depth(44, 'basic') == (PreActBasicBlock, 7)
    with pytest.raises(ValueError, match="block='basic'"):
        PreActResNet.parse_depth(44)
    with pytest.raises(ValueError, match='6n \\+ 2'):
        PreActResNet(depth=21)
    with pytest.raises(ValueError, match="block='wide'"):
        PreActResNet(depth=20, block='wide')
    with pytest.raises(ValueError, match='depth=20 is not one of'):
        PreActResNetImageNet(depth=20)
    with pytest.raises(ValueError, match='out_indices has 3'):
        PreActResNet(depth=8, out_indices=(3, ))
    with pytest.raises(ValueError, match='frozen_stages=4'):
        PreActResNet(depth=8, frozen_stages=4)


@pytest.mark.parametrize('depth, block, known', [
    (20, 'basic', 0.27e6),
    (110, 'basic', 1.7e6),
    (164, 'bottleneck', 1.7e6),
])
def test_cifar_param_count(depth, block, known):
    unit = basic_params if block == 'basic' else bottleneck_params
    n = (depth - 2) // (6 if block == 'basic' else 9)
    exp = 1 if block == 'basic' else 4
    expected = expected_params(unit, 16, (n, ) * 3,
                               (16 * exp, 32 * exp, 64 * exp), (1, 2, 2))
    assert num_params(PreActResNet(depth=depth, block=block)) == expected
    # He et al. 2016 (rounded): ResNet-20 0.27M, -110 1.7M, -164 1.7M
    assert expected == pytest.approx(known, rel=0.02)


def test_imagenet_style_param_count():
    blocks, widths = (2, 2, 2, 2), (64, 128, 256, 512)
    expected7 = expected_params(basic_params, 64, blocks, widths, (1, 2, 2, 2),
                                7)
    expected3 = expected_params(basic_params, 64, blocks, widths, (1, 2, 2, 2),
                                3)
    assert num_params(PreActResNetImageNet(18, stem_kernel=7)) == expected7
    assert num_params(PreActResNetImageNet(18)) == expected3
    # ResNet-18 without its 1000-class fc: 11,689,512 - 513,000 = 11.18M
    assert abs(expected7 - 11_176_512) < 0.01e6


def test_plugin_before_last_unit_runs():
    net = MODELS.build(
        dict(
            type='PreActResNet',
            depth=20,
            plugins=[dict(cfg=dict(type='ScaledNonLocal2d'), stage=1)]))
    assert list(net.layer2._modules) == ['0', '1', 'plugin_0', '2']
    plugin = net.layer2.plugin_0
    assert isinstance(plugin, ScaledNonLocal2d) and plugin.in_channels == 32
    seen = []
    plugin.register_forward_hook(
        lambda m, args, out: seen.append(tuple(args[0].shape)))
    assert net(torch.rand(2, 3, 32, 32))[0].shape == (2, 64, 8, 8)
    assert seen == [(2, 32, 16, 16)]

    net = PreActResNetImageNet(
        depth=18,
        base_channels=8,
        stem_channels=8,
        plugins=[
            dict(cfg=dict(type='ScaledNonLocal2d'), stage=3, num=2),
            dict(cfg=dict(type='ScaledNonLocal2d'), stage=0, position=0)
        ])
    assert list(net.layer4._modules) == ['0', 'plugin_0', 'plugin_1', '1']
    assert net.layer4.plugin_1.in_channels == 64
    assert list(net.layer1._modules) == ['plugin_0', '0', '1']
    assert net.layer1.plugin_0.in_channels == 8
    assert net(torch.rand(2, 3, 56, 56))[0].shape == (2, 64, 7, 7)


def test_identity_at_init():
    plugins = [dict(cfg=dict(type='ScaledNonLocal2d', pos_enc=False))]
    plugged = PreActResNet(depth=20, plugins=plugins)  # every stage
    plain = PreActResNet(depth=20)
    plugged.init_weights()
    for plugin in (plugged.layer1.plugin_0, plugged.layer3.plugin_0):
        assert plugin.norm.weight.abs().sum() == 0
        assert plugin.theta.weight.std() < 0.05  # N(0, 0.01^2), not Kaiming
    missing, unexpected = plain.load_state_dict(
        plugged.state_dict(), strict=False)
    assert missing == [] and all('plugin_' in k for k in unexpected)
    plugged.eval()
    plain.eval()
    x = torch.rand(2, 3, 32, 32)
    torch.testing.assert_close(plugged(x), plain(x))


def test_frozen_stages_and_norm_eval():
    net = PreActResNet(
        depth=8,
        frozen_stages=1,
        norm_eval=True,
        plugins=[dict(cfg=dict(type='ScaledNonLocal2d'), stage=0)])
    net.train()
    frozen = [net.conv1, net.layer1]
    assert all(not p.requires_grad for m in frozen for p in m.parameters())
    assert not net.layer1.plugin_0.training
    assert all(p.requires_grad for p in net.layer2.parameters())
    assert all(not m.training for m in net.modules()
               if isinstance(m, nn.BatchNorm2d))
    assert net.layer2[0].conv1.training
    net = PreActResNet(depth=8, frozen_stages=3)
    assert not any(p.requires_grad for p in net.parameters())


def test_image_classifier_from_config():
    from mmpretrain.structures import DataSample
    cfg = dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        backbone=dict(
            type='mmdl.PreActResNet',
            depth=8,
            plugins=[
                dict(cfg=dict(type='ScaledNonLocal2d', num_heads=2), stage=1)
            ]),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(
            type='LinearClsHead',
            num_classes=10,
            in_channels=64,
            loss=dict(type='CrossEntropyLoss')))
    with DefaultScope.overwrite_default_scope('mmdl'):
        model = ROOT_MODELS.build(cfg)
    model.init_weights()
    assert isinstance(model.backbone, PreActResNet)
    plugin = model.backbone.layer2.plugin_0
    assert plugin.norm.weight.abs().sum() == 0
    samples = [DataSample().set_gt_label(label) for label in (1, 7)]
    losses = model(torch.rand(2, 3, 32, 32), samples, mode='loss')
    assert torch.isfinite(losses['loss'])
    losses['loss'].backward()
    assert plugin.norm.weight.grad is not None


@pytest.mark.parametrize('block', ['basic', 'bottleneck'])
def test_projection_shortcut_takes_raw_input(block):
    net = PreActResNet(depth=11 if block == 'bottleneck' else 8, block=block)
    unit = net.layer2[0].eval()
    x = torch.randn(2, unit.in_channels, 8, 8)
    out = unit.relu(unit.norm1(x))
    out = unit.conv2(unit.relu(unit.norm2(unit.conv1(out))))
    if block == 'bottleneck':
        out = unit.conv3(unit.relu(unit.norm3(out)))
    torch.testing.assert_close(unit(x), out + unit.downsample(x))


def test_pretrained_init_cfg_loads_plugins(tmp_path):
    plugins = [dict(cfg=dict(type='ScaledNonLocal2d'), stage=2)]
    net = PreActResNet(depth=14, plugins=plugins)
    state = net.state_dict()
    state['layer3.plugin_0.norm.weight'].fill_(0.5)
    torch.save(state, tmp_path / 'net.pth')
    init_cfg = [
        dict(type='Kaiming', layer=['Conv2d']),
        dict(type='Pretrained', checkpoint=str(tmp_path / 'net.pth'))
    ]
    net = PreActResNet(depth=14, plugins=plugins, init_cfg=init_cfg)
    net.init_weights()
    assert (net.layer3.plugin_0.norm.weight == 0.5).all()
    torch.testing.assert_close(net.conv1.weight, state['conv1.weight'])
