# Copyright (c) mmdl contributors. All rights reserved.
import pytest
import torch
from mmengine.registry import MODELS as ROOT_MODELS
from mmengine.registry import DefaultScope
from mmpretrain.models import ResNet, ResNet_CIFAR
from torch import nn

from mmdl.models.backbones import PluggedBackbone, PreActResNet
from mmdl.models.plugins import ScaledNonLocal2d
from mmdl.registry import MODELS

SNL = dict(type='ScaledNonLocal2d')


def test_mmpretrain_resnet_stages():
    net = MODELS.build(
        dict(
            type='PluggedBackbone',
            backbone=dict(
                type='mmpretrain.ResNet', depth=18, out_indices=(2, 3)),
            plugins=[dict(cfg=SNL, stage=2)]))
    assert isinstance(net.backbone, ResNet)
    assert list(net.backbone.layer3._modules) == ['0', 'plugin_0', '1']
    plugin = net.backbone.layer3.plugin_0
    assert plugin.in_channels == 256
    seen = []
    plugin.register_forward_hook(
        lambda m, args, out: seen.append(tuple(args[0].shape)))
    outs = net(torch.rand(2, 3, 64, 64))
    assert [o.shape for o in outs] == [(2, 256, 4, 4), (2, 512, 2, 2)]
    assert seen == [(2, 256, 4, 4)]
    # the keys of the plain backbone are kept, under 'backbone.'
    plain_keys = {f'backbone.{k}' for k in ResNet(depth=18).state_dict()}
    keys = set(net.state_dict())
    assert plain_keys <= keys
    assert all('.layer3.plugin_0.' in k for k in keys - plain_keys)


def test_identity_at_init_matches_plain_resnet():
    net = PluggedBackbone(
        backbone=dict(type='mmpretrain.ResNet', depth=18),
        plugins=[dict(cfg=dict(SNL, pos_enc=False), stage=(1, 2))])
    net.init_weights()
    plugins = [net.backbone.layer2.plugin_0, net.backbone.layer3.plugin_0]
    for plugin in plugins:
        # not overwritten by ResNet's Kaiming / Constant(1) init_cfg
        assert plugin.norm.weight.abs().sum() == 0
        assert plugin.norm.bias.abs().sum() == 0
        assert plugin.theta.weight.std() < 0.05
    plain = ResNet(depth=18)
    missing, unexpected = plain.load_state_dict(
        net.backbone.state_dict(), strict=False)
    assert missing == [] and all('plugin_' in k for k in unexpected)
    net.eval()
    plain.eval()
    x = torch.rand(2, 3, 32, 32)
    torch.testing.assert_close(net(x), plain(x))
    # with the positional encoding the block adds P: the output differs
    net.backbone.layer2.plugin_0.pos_enc = True
    assert not torch.allclose(net(x)[0], plain(x)[0])


def test_resnet_cifar_stacked_plugins():
    net = PluggedBackbone(
        backbone=dict(type='mmpretrain.ResNet_CIFAR', depth=18),
        plugins=[dict(cfg=dict(SNL, num_heads=4), stage=1, num=2)])
    assert isinstance(net.backbone, ResNet_CIFAR)
    layer2 = net.backbone.layer2
    assert list(layer2._modules) == ['0', 'plugin_0', 'plugin_1', '1']
    assert [layer2.plugin_0.in_channels, layer2.plugin_1.num_heads] == \
        [128, 4]
    assert net(torch.rand(2, 3, 32, 32))[0].shape == (2, 512, 4, 4)


def test_frozen_stages_and_norm_eval():
    net = PluggedBackbone(
        backbone=dict(
            type='mmpretrain.ResNet',
            depth=18,
            frozen_stages=2,
            norm_eval=True),
        plugins=[dict(cfg=SNL, stage=1),
                 dict(cfg=SNL, stage=2)])
    frozen = net.backbone.layer2.plugin_0
    # frozen right after construction, as the backbone's own stages
    assert not any(p.requires_grad for p in frozen.parameters())
    assert all(p.requires_grad
               for p in net.backbone.layer3.plugin_0.parameters())
    net.train()
    assert net.training and not frozen.training
    assert net.backbone.layer3.plugin_0.training
    assert all(not m.training for m in net.modules()
               if isinstance(m, nn.BatchNorm2d))
    net.eval()
    assert not net.backbone.layer3.plugin_0.training


def test_wraps_mmdl_backbones_and_modules():
    net = PluggedBackbone(
        backbone=dict(type='PreActResNet', depth=14),
        plugins=[dict(cfg=SNL, stage=0, position=0)])
    assert list(net.backbone.layer1._modules) == ['plugin_0', '0', '1']
    assert net.backbone.layer1.plugin_0.in_channels == 16
    built = PreActResNet(depth=14)
    net = PluggedBackbone(built, plugins=[dict(cfg=SNL, stage=2)])
    assert net.backbone is built
    assert net(torch.rand(2, 3, 32, 32))[0].shape == (2, 64, 8, 8)

    class Net(nn.Module):

        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList(
                [nn.Sequential(nn.Conv2d(3, 8, 1), nn.Conv2d(8, 8, 1))])

        def forward(self, x):
            return self.blocks[0](x)

    net = PluggedBackbone(Net(), [dict(cfg=SNL)], stage_attr='blocks')
    assert isinstance(net.backbone.blocks[0].plugin_0, ScaledNonLocal2d)
    with pytest.raises(ValueError, match='cannot find the stages of Net'):
        PluggedBackbone(Net(), [dict(cfg=SNL)])
    with pytest.raises(ValueError, match="stage_attr='stages'"):
        PluggedBackbone(Net(), [dict(cfg=SNL)], stage_attr='stages')
    with pytest.raises(ValueError, match='backbone must be'):
        PluggedBackbone(dict(depth=18), [dict(cfg=SNL)])
    with pytest.raises(ValueError, match=r'plugins\[0\]\.stage=4'):
        PluggedBackbone(
            dict(type='mmpretrain.ResNet', depth=18), [dict(cfg=SNL, stage=4)])


@pytest.mark.parametrize('scope', [None, 'mmdl', 'mmpretrain'])
def test_builds_in_any_default_scope(scope, monkeypatch):
    cfg = dict(
        type='mmdl.PluggedBackbone',
        backbone=dict(type='mmpretrain.ResNet_CIFAR', depth=18),
        plugins=[dict(cfg=SNL, stage=1)])
    if scope is None:  # a bare session: no default scope at all
        monkeypatch.setattr(DefaultScope, 'get_current_instance',
                            classmethod(lambda cls: None))
        net = MODELS.build(cfg)
    else:
        with DefaultScope.overwrite_default_scope(scope):
            net = ROOT_MODELS.build(cfg)
    assert isinstance(net.backbone.layer2.plugin_0, ScaledNonLocal2d)


def test_own_pretrained_init_cfg_is_applied_last(tmp_path):
    cfg = dict(
        backbone=dict(type='mmpretrain.ResNet_CIFAR', depth=18),
        plugins=[dict(cfg=SNL, stage=3)])
    net = PluggedBackbone(**cfg)
    state = net.state_dict()
    state['backbone.layer4.plugin_0.norm.weight'].fill_(0.5)
    torch.save(state, tmp_path / 'net.pth')
    net = PluggedBackbone(
        **cfg,
        init_cfg=dict(type='Pretrained', checkpoint=str(tmp_path / 'net.pth')))
    net.init_weights()
    assert (net.backbone.layer4.plugin_0.norm.weight == 0.5).all()
    torch.testing.assert_close(net.backbone.conv1.weight,
                               state['backbone.conv1.weight'])
