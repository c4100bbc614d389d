# Copyright (c) mmdl contributors. All rights reserved.
import pytest
import torch
from torch import nn

from mmdl.models.backbones import MLP
from mmdl.registry import MODELS


def test_layers_and_shapes():
    net = MLP(in_features=64, hidden=(32, 16))
    assert [type(m)
            for m in net.layers[0]] == [nn.Linear, nn.BatchNorm1d, nn.ReLU]
    assert net.layers[1].fc.in_features == 32
    assert net.out_channels == 16
    outs = net(torch.rand(5, 1, 8, 8))
    assert isinstance(outs, tuple) and outs[0].shape == (5, 16)
    # ReLU last
    assert (outs[0] >= 0).all()


def test_equals_manual_computation():
    net = MLP(in_features=6, hidden=(4, ), norm_cfg=None, bias=False)
    x = torch.randn(3, 2, 3)
    expected = torch.relu(x.flatten(1) @ net.layers[0].fc.weight.t())
    assert torch.allclose(net(x)[0], expected)
    assert net.layers[0].fc.bias is None


def test_no_norm_no_act_no_flatten():
    net = MLP(
        in_features=6,
        hidden=(4, ),
        norm_cfg=None,
        act_cfg=None,
        flatten=False)
    assert [type(m) for m in net.layers[0]] == [nn.Linear]
    with pytest.raises(ValueError, match='expects 6'):
        net(torch.rand(2, 7))
    assert net(torch.rand(2, 6))[0].shape == (2, 4)


def test_invalid_and_registry():
    with pytest.raises(ValueError):
        MLP(in_features=0)
    with pytest.raises(ValueError):
        MLP(in_features=4, hidden=())
    net = MODELS.build(dict(type='MLP', in_features=4, hidden=(3, )))
    assert isinstance(net, MLP)
