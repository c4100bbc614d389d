# Copyright (c) mmdl contributors. All rights reserved.
"""The DARTS operations: output shapes for both strides, parameter counts
from the definitions, and the exact behaviour of the parameter-free ones."""
import pytest
import torch
import torch.nn.functional as F

from mmdl.models.nas import PRIMITIVES, FactorizedReduce, build_operation

C = 6


def _params(module):
    return sum(p.numel() for p in module.parameters())


def test_primitives_order():
    assert PRIMITIVES == ('none', 'max_pool_3x3', 'avg_pool_3x3',
                          'skip_connect', 'sep_conv_3x3', 'sep_conv_5x5',
                          'dil_conv_3x3', 'dil_conv_5x5')


@pytest.mark.parametrize('stride', [1, 2])
@pytest.mark.parametrize('name', PRIMITIVES)
def test_output_shape(name, stride):
    x = torch.randn(2, C, 9, 9)
    out = build_operation(name, C, stride, affine=False)(x)
    side = 9 if stride == 1 else 5
    assert out.shape == (2, C, side, side)


def test_parameter_counts():
    """Depthwise k x k (C k^2) and pointwise (C^2) per block, affine batch
    norm 2 C; SepConv has two blocks."""
    def block(k):
        return C * k * k + C * C + 2 * C

    assert _params(build_operation('sep_conv_3x3', C, 1)) == 2 * block(3)
    assert _params(build_operation('sep_conv_5x5', C, 1)) == 2 * block(5)
    assert _params(build_operation('dil_conv_3x3', C, 1)) == block(3)
    assert _params(build_operation('dil_conv_5x5', C, 1)) == block(5)
    # the search network's batch norms have no parameters
    assert _params(build_operation('dil_conv_3x3', C, 1, affine=False)) == (
        C * 9 + C * C)
    assert _params(build_operation('skip_connect', C, 2)) == (
        2 * C * (C // 2) + 2 * C)
    for name in ('none', 'max_pool_3x3', 'avg_pool_3x3'):
        assert _params(build_operation(name, C, 2)) == 0


def test_parameter_free_operations():
    x = torch.randn(2, C, 8, 8)
    assert torch.equal(build_operation('skip_connect', C, 1)(x), x)
    assert not build_operation('none', C, 2)(x).any()
    # average pooling excludes the padding from the count: a constant
    # input stays constant at the border
    ones = torch.ones(1, C, 5, 5)
    assert torch.allclose(build_operation('avg_pool_3x3', C, 1)(ones), ones)
    assert torch.equal(
        build_operation('max_pool_3x3', C, 2)(x),
        F.max_pool2d(x, 3, stride=2, padding=1))


def test_factorized_reduce_sees_the_odd_pixels():
    reduce = FactorizedReduce(C, C, affine=False).eval()
    x = torch.randn(1, C, 8, 8).abs()
    expected = torch.cat([
        F.conv2d(x[:, :, ::2, ::2], reduce.conv_1.weight),
        F.conv2d(x[:, :, 1::2, 1::2], reduce.conv_2.weight)
    ], 1)
    assert torch.allclose(reduce(x), reduce.bn(expected), atol=1e-6)
    with pytest.raises(ValueError, match='even'):
        FactorizedReduce(C, 5)


def test_bad_names_and_strides():
    with pytest.raises(KeyError, match='sep_conv_7x7'):
        build_operation('sep_conv_7x7', C, 1)
    with pytest.raises(ValueError, match='stride'):
        build_operation('sep_conv_3x3', C, 3)
