# Copyright (c) mmdl contributors. All rights reserved.
"""Wide Residual Networks.

S. Zagoruyko, N. Komodakis. "Wide Residual Networks". BMVC 2016. Layout of
the Scaled Non-Local paper's official code (YooshinCho/pytorch_RethinkingSFM
``models/wrn.py``, after xternalz/WideResNet-pytorch).
"""
from typing import List, Optional, Sequence, Union

from mmdl.registry import MODELS
from .preact_resnet import DEFAULT_INIT_CFG, BasePreActResNet, PreActBasicBlock


@MODELS.register_module()
class WideResNet(BasePreActResNet):
    """WRN-d-k for CIFAR: pre-activation basic units, widths 16, 16k, 32k,
    64k.

    Stem conv3x3 with 16 channels, three stages of ``n = (d - 4) / 6``
    units at 32x32, 16x16 and 8x8 with 16k/32k/64k channels, final BN-ReLU.
    Where the shape changes, the 1x1 projection shortcut takes the
    pre-activated input (as in the WRN code); dropout, if any, sits between
    the two convolutions of a unit. The paper's Scaled Non-Local block goes
    before the last unit of the second stage:
    ``plugins=[dict(cfg=dict(type='ScaledNonLocal2d'), stage=1)]``.

    Args:
        depth (int): Depth d, ``6n + 4``. Defaults to 28.
        widen_factor (int): Widening factor k. Defaults to 10.
        drop_rate (float): Dropout probability inside the units. Defaults
            to 0.
        in_channels (int): Input image channels. Defaults to 3.
        base_channels (int): Stem channels; the stages have
            ``base_channels * k * (1, 2, 4)``. Defaults to 16.
        out_indices (Sequence[int]): Stages whose outputs are returned.
            Defaults to ``(2, )``.
        frozen_stages (int): Stages to freeze, see
            :class:`~mmdl.models.backbones.preact_resnet.BasePreActResNet`.
            Defaults to -1.
        norm_eval (bool): Keep norm layers in eval mode during training.
            Defaults to False.
        conv_cfg (dict, optional): Convolution config. Defaults to None.
        norm_cfg (dict): Norm config. Defaults to
            ``dict(type='BN', requires_grad=True)``.
        plugins (list[dict], optional): Plugins between units, see
            :func:`~mmdl.models.utils.plugin_insertion.insert_stage_plugins`.
            Defaults to None.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Defaults to Kaiming-normal (fan_out) convolutions, unit norms.

    Example:
        >>> import torch
        >>> net = WideResNet(depth=16, widen_factor=2, out_indices=(0, 1, 2))
        >>> [tuple(o.shape) for o in net(torch.rand(1, 3, 32, 32))]
        [(1, 32, 32, 32), (1, 64, 16, 16), (1, 128, 8, 8)]
    """

    def __init__(self,
                 depth: int = 28,
                 widen_factor: int = 10,
                 drop_rate: float = 0.0,
                 in_channels: int = 3,
                 base_channels: int = 16,
                 out_indices: Sequence[int] = (2, ),
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 plugins: Optional[List[dict]] = None,
                 init_cfg: Optional[Union[dict,
                                          List[dict]]] = DEFAULT_INIT_CFG):
        if depth < 10 or (depth - 4) % 6:
            raise ValueError(f'WideResNet: depth={depth} is not 6n + 4 '
                             '(n >= 1), e.g. 16, 22, 28, 40')
        if widen_factor < 1:
            raise ValueError(f'WideResNet: widen_factor={widen_factor} must '
                             'be a positive int')
        if not 0 <= drop_rate < 1:
            raise ValueError(f'WideResNet: drop_rate={drop_rate} is not in '
                             '[0, 1)')
        width = base_channels * widen_factor
        super().__init__(
            block=PreActBasicBlock,
            stage_blocks=((depth - 4) // 6, ) * 3,
            stage_channels=(width, 2 * width, 4 * width),
            strides=(1, 2, 2),
            in_channels=in_channels,
            stem_channels=base_channels,
            stem_kernel=3,
            stem_stride=1,
            out_indices=out_indices,
            frozen_stages=frozen_stages,
            norm_eval=norm_eval,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            block_cfg=dict(preact_shortcut=True, drop_rate=drop_rate),
            plugins=plugins,
            init_cfg=init_cfg)
        self.depth = depth
        self.widen_factor = widen_factor
        self.drop_rate = drop_rate
