# Copyright (c) mmdl contributors. All rights reserved.
"""The operations of the DARTS search space (Liu, Simonyan and Yang, ICLR
2019), as its reference code defines them, in ``PRIMITIVES`` order.

Written here rather than imported: the only OpenMMLab implementation
(mmrazor) does not import with current mmcv, and the reference code is not
a package. ``affine=False`` gives the search network's batch norms (no
learned scale and shift); evaluation networks use ``affine=True``.
"""
from typing import Callable, Dict

import torch
from torch import Tensor, nn

#: The DARTS operations, in the order of the reference code's PRIMITIVES
#: (architecture parameters index them in this order).
PRIMITIVES = ('none', 'max_pool_3x3', 'avg_pool_3x3', 'skip_connect',
              'sep_conv_3x3', 'sep_conv_5x5', 'dil_conv_3x3', 'dil_conv_5x5')


class Zero(nn.Module):
    """``none``: zeros of the output's shape (strided for stride 2)."""

    def __init__(self, stride: int) -> None:
        super().__init__()
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        if self.stride == 1:
            return x.mul(0.0)
        return x[:, :, ::self.stride, ::self.stride].mul(0.0)


class FactorizedReduce(nn.Module):
    """ReLU, two 1x1 stride-2 convolutions of ``C_out / 2`` channels each,
    the second on the input shifted by one pixel, concatenated, then batch
    norm: halves the resolution without losing the odd pixels."""

    def __init__(self, in_channels: int, out_channels: int,
                 affine: bool = True) -> None:
        super().__init__()
        if out_channels % 2:
            raise ValueError('FactorizedReduce needs an even number of output '
                             f'channels, got {out_channels}')
        self.relu = nn.ReLU(inplace=False)
        self.conv_1 = nn.Conv2d(
            in_channels, out_channels // 2, 1, stride=2, bias=False)
        self.conv_2 = nn.Conv2d(
            in_channels, out_channels // 2, 1, stride=2, bias=False)
        self.bn = nn.BatchNorm2d(out_channels, affine=affine)

    def forward(self, x: Tensor) -> Tensor:
        x = self.relu(x)
        shifted = nn.functional.pad(x[:, :, 1:, 1:], (0, 1, 0, 1))
        return self.bn(torch.cat([self.conv_1(x), self.conv_2(shifted)], 1))


class ReLUConvBN(nn.Sequential):
    """ReLU, convolution, batch norm (the cells' input preprocessing)."""

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: int,
                 stride: int,
                 padding: int,
                 affine: bool = True) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(
                in_channels,
                out_channels,
                kernel_size,
                stride=stride,
                padding=padding,
                bias=False), nn.BatchNorm2d(out_channels, affine=affine))


class DilConv(nn.Sequential):
    """ReLU, depthwise ``k x k`` convolution with dilation, pointwise 1x1
    convolution, batch norm."""

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: int,
                 stride: int,
                 padding: int,
                 dilation: int,
                 affine: bool = True) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(
                in_channels,
                in_channels,
                kernel_size,
                stride=stride,
                padding=padding,
                dilation=dilation,
                groups=in_channels,
                bias=False),
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels, affine=affine))


class SepConv(nn.Sequential):
    """Two :class:`DilConv` blocks without dilation; the first carries the
    stride and keeps the channels."""

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: int,
                 stride: int,
                 padding: int,
                 affine: bool = True) -> None:
        super().__init__(
            DilConv(in_channels, in_channels, kernel_size, stride, padding,
                    1, affine),
            DilConv(in_channels, out_channels, kernel_size, 1, padding, 1,
                    affine))


def _pool(kind: str, stride: int) -> nn.Module:
    if kind == 'max':
        return nn.MaxPool2d(3, stride=stride, padding=1)
    return nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False)


OPERATIONS: Dict[str, Callable[[int, int, bool], nn.Module]] = {
    'none': lambda c, s, affine: Zero(s),
    'max_pool_3x3': lambda c, s, affine: _pool('max', s),
    'avg_pool_3x3': lambda c, s, affine: _pool('avg', s),
    'skip_connect': lambda c, s, affine: (
        nn.Identity() if s == 1 else FactorizedReduce(c, c, affine)),
    'sep_conv_3x3': lambda c, s, affine: SepConv(c, c, 3, s, 1, affine),
    'sep_conv_5x5': lambda c, s, affine: SepConv(c, c, 5, s, 2, affine),
    'dil_conv_3x3': lambda c, s, affine: DilConv(c, c, 3, s, 2, 2, affine),
    'dil_conv_5x5': lambda c, s, affine: DilConv(c, c, 5, s, 4, 2, affine),
}


def build_operation(name: str,
                    channels: int,
                    stride: int,
                    affine: bool = True) -> nn.Module:
    """One DARTS operation.

    Args:
        name (str): One of :data:`PRIMITIVES`.
        channels (int): Input and output channels.
        stride (int): 1, or 2 on the input edges of reduction cells.
        affine (bool): Learned scale and shift in the batch norms (False
            in the search network). Defaults to True.

    Returns:
        nn.Module: The operation.
    """
    if name not in OPERATIONS:
        raise KeyError(f'unknown DARTS operation {name!r}; expected one of '
                       f'{PRIMITIVES}')
    if stride not in (1, 2):
        raise ValueError(f'DARTS operations take stride 1 or 2, got {stride}')
    return OPERATIONS[name](channels, stride, affine)
