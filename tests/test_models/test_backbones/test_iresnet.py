# Copyright (c) mmdl contributors. All rights reserved.
import pytest
import torch
from torch import nn

from mmdl.models.backbones import IBasicBlock, IResNet
from mmdl.registry import MODELS

STAGES = {
    18: (2, 2, 2, 2),
    34: (3, 4, 6, 3),
    50: (3, 4, 14, 3),
    100: (3, 13, 30, 3),
    200: (6, 26, 60, 6)
}


def num_params(module):
    return sum(p.numel() for p in module.parameters())


# Independent counts from the layer formulas: conv k*k*cin*cout (no bias),
# BN 2*c, PReLU c, linear in*out + out; the frozen BN1d weight is a
# parameter and is counted (as insightface's parameter sum does).
def unit_params(cin, cout, stride):
    params = (2 * cin + 9 * cin * cout + 2 * cout + cout + 9 * cout * cout +
              2 * cout)
    if stride != 1 or cin != cout:
        params += cin * cout + 2 * cout
    return params


def expected_params(blocks,
                    base=64,
                    embed_dims=512,
                    input_size=112,
                    in_channels=3,
                    with_embedding=True):
    total = 9 * in_channels * base + 2 * base + base
    cin = base
    for i, num in enumerate(blocks):
        cout = base * 2**i
        total += unit_params(cin, cout, 2)
        total += (num - 1) * unit_params(cout, cout, 1)
        cin = cout
    if with_embedding:
        flat = cin * (input_size // 16)**2
        total += 2 * cin + flat * embed_dims + embed_dims + 2 * embed_dims
    return total


@pytest.mark.parametrize('depth, total, body', [
    (18, 24_025_600, 11_177_984),
    (34, 34_139_328, 21_291_712),
    (50, 43_590_848, 30_743_232),
    (100, 65_156_160, 52_308_544),
    (200, 118_833_920, 105_986_304),
])
def test_param_counts(depth, total, body):
    # the numbers of the class docstring, from the formulas ...
    assert expected_params(STAGES[depth]) == total
    assert expected_params(STAGES[depth], with_embedding=False) == body
    # ... and from the implementation (built on the meta device: no memory)
    with torch.device('meta'):
        assert num_params(IResNet(depth, init_cfg=None)) == total
        assert num_params(
            IResNet(
                depth, with_embedding=False, out_indices=(3, ),
                init_cfg=None)) == body
    if depth == 50:  # the usually quoted 43.6M of insightface's r50
        assert total == pytest.approx(43.6e6, rel=1e-3)


def test_param_count_small_variant():
    with torch.device('meta'):
        net = IResNet(
            34, embed_dims=128, base_channels=8, input_size=64, in_channels=1)
    assert num_params(net) == expected_params(
        STAGES[34], base=8, embed_dims=128, input_size=64, in_channels=1)


def test_shapes_of_every_output():
    net = IResNet(18, base_channels=8, out_indices=(0, 1, 2, 3, 4))
    outs = net(torch.rand(2, 3, 112, 112))
    assert [tuple(o.shape) for o in outs] == [(2, 8, 56, 56), (2, 16, 28, 28),
                                              (2, 32, 14, 14), (2, 64, 7, 7),
                                              (2, 512)]
    # in the order of out_indices; negative indices count from the end
    net = IResNet(18, base_channels=8, out_indices=(-1, 1), embed_dims=16)
    emb, stage = net.eval()(torch.rand(1, 3, 112, 112))
    assert emb.shape == (1, 16) and stage.shape == (1, 16, 28, 28)
    net = IResNet(
        18,
        base_channels=8,
        with_embedding=False,
        out_indices=(-1, ),
        input_size=(64, 48))
    assert not hasattr(net, 'fc')
    assert net(torch.rand(1, 3, 64, 48))[0].shape == (1, 64, 4, 3)


def test_stage_outputs_stop_early():
    net = IResNet(18, base_channels=8, out_indices=(1, ))
    calls = []
    for name in ('layer3', 'fc'):
        getattr(net, name).register_forward_hook(
            lambda *args, name=name: calls.append(name))
    assert net(torch.rand(2, 3, 112, 112))[0].shape == (2, 16, 28, 28)
    assert calls == []


def test_r50_forward():
    net = MODELS.build(dict(type='IResNet', depth=50))
    net.init_weights()
    net.eval()
    with torch.no_grad():
        (emb, ) = net(torch.rand(1, 3, 112, 112))
    assert emb.shape == (1, 512) and torch.isfinite(emb).all()
    assert len(net.layer3) == 14 and isinstance(net.layer3[0], IBasicBlock)


def test_unit_layout():
    net = IResNet(18, base_channels=8)
    unit = net.layer2[0].eval()
    assert unit.conv1.stride == (1, 1) and unit.conv2.stride == (2, 2)
    x = torch.randn(2, 8, 16, 16)
    out = unit.conv1(unit.bn1(x))
    out = unit.bn3(unit.conv2(unit.prelu(unit.bn2(out))))
    torch.testing.assert_close(unit(x), out + unit.downsample(x))
    assert isinstance(unit.downsample[1], nn.BatchNorm2d)
    assert net.layer2[1].downsample is None
    # arcface_torch's state-dict keys
    keys = set(net.state_dict())
    for key in ('conv1.weight', 'bn1.running_mean', 'prelu.weight',
                'layer1.0.bn1.weight', 'layer1.0.prelu.weight',
                'layer1.0.bn3.bias', 'layer1.0.downsample.0.weight',
                'layer1.0.downsample.1.weight', 'bn2.weight', 'fc.weight',
                'features.weight', 'features.running_var'):
        assert key in keys, key
    assert net.bn1.eps == 1e-5 and net.features.eps == 1e-5


def test_frozen_embedding_norm_weight():
    net = IResNet(18, base_channels=8, embed_dims=16)
    net.init_weights()
    assert not net.features.weight.requires_grad
    assert net.features.bias.requires_grad
    assert (net.features.weight == 1).all()
    assert abs(net.conv1.weight.std().item() - 0.1) < 0.03
    optim = torch.optim.SGD(
        net.parameters(), lr=1.0, momentum=0.9, weight_decay=0.1)
    for _ in range(2):
        optim.zero_grad()
        net(torch.rand(4, 3, 112, 112))[0].pow(2).sum().backward()
        optim.step()
    assert net.features.weight.grad is None
    assert (net.features.weight == 1).all()
    assert net.fc.weight.grad is not None
    # eval: the embedding is the affine BN1d with unit weight
    net.eval()
    x = torch.rand(2, 3, 112, 112)
    emb = net(x)[0]
    feat = net.prelu(net.bn1(net.conv1(x)))
    for stage in net.stages:
        feat = stage(feat)
    fc = net.fc(torch.flatten(net.bn2(feat), 1))
    bn = net.features
    ref = (fc - bn.running_mean) / torch.sqrt(bn.running_var +
                                              bn.eps) + bn.bias
    torch.testing.assert_close(emb, ref)


def test_frozen_stages_and_norm_eval():
    net = IResNet(18, base_channels=8, frozen_stages=2, norm_eval=True)
    net.train()
    frozen = [net.conv1, net.bn1, net.prelu, net.layer1, net.layer2]
    assert all(not p.requires_grad for m in frozen for p in m.parameters())
    assert all(p.requires_grad for p in net.layer3.parameters())
    assert net.fc.weight.requires_grad
    assert not net.layer1.training and net.layer3.training
    assert all(not m.training for m in net.modules()
               if isinstance(m, nn.modules.batchnorm._BatchNorm))
    assert not net.features.weight.requires_grad


def test_errors():
    with pytest.raises(ValueError, match='depth=101 is not one of'):
        IResNet(101)
    with pytest.raises(ValueError, match='not divisible by 16'):
        IResNet(18, input_size=100)
    with pytest.raises(ValueError, match='input_size must be'):
        IResNet(18, input_size=(112, 112, 3))
    with pytest.raises(ValueError, match='out_indices has 5'):
        IResNet(18, out_indices=(5, ))
    with pytest.raises(ValueError, match='with_embedding=False'):
        IResNet(18, with_embedding=False)
    with pytest.raises(ValueError, match='duplicates'):
        IResNet(18, out_indices=(4, -1))
    with pytest.raises(ValueError, match='frozen_stages=5'):
        IResNet(18, frozen_stages=5)
    with pytest.raises(ValueError, match='dropout'):
        IResNet(18, dropout=1.0)
    with pytest.raises(ValueError, match='base_channels must be'):
        IResNet(18, base_channels=0)
    net = IResNet(18, base_channels=8, embed_dims=8).eval()
    with pytest.raises(ValueError, match=r'built for \(7, 7\)'):
        net(torch.rand(1, 3, 96, 96))
