# Copyright (c) mmdl contributors. All rights reserved.
"""Pre-activation ResNets.

K. He, X. Zhang, S. Ren, J. Sun. "Identity Mappings in Deep Residual
Networks". ECCV 2016. The CIFAR and Tiny-ImageNet variants follow the
conventions of the Scaled Non-Local paper's official code
(YooshinCho/pytorch_RethinkingSFM, ``models/preresnet.py``, itself after
bearpaw/pytorch-classification ``preresnet.py``):

* a stem convolution with neither norm nor activation (the first unit
  pre-activates it);
* units ``x + F(x)`` with ``F`` = (BN-ReLU-conv) x 2 (basic) or x 3
  (bottleneck, expansion 4);
* a projection shortcut (a bias-free 1x1 convolution, no norm) where the
  shape changes; it takes the *raw* unit input (set
  ``preact_shortcut=True`` in the blocks to feed it the pre-activated input
  as the WideResNet code does);
* a final BN-ReLU after the last stage.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Type, Union

from mmcv.cnn import build_conv_layer, build_norm_layer
from mmengine.model import BaseModule
from mmengine.utils.dl_utils.parrots_wrapper import _BatchNorm
from torch import Tensor, nn

from mmdl.registry import MODELS
from ..utils.plugin_insertion import (get_stage_plugins,
                                      init_weights_keeping_plugins,
                                      insert_stage_plugins)

DEFAULT_INIT_CFG = [
    dict(type='Kaiming', layer=['Conv2d']),
    dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])
]


class PreActBasicBlock(BaseModule):
    """Pre-activation basic unit: ``x + conv(act(norm(conv(act(norm(x))))))``.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        stride (int): Stride of the first 3x3 convolution. Defaults to 1.
        downsample (nn.Module, optional): Projection shortcut. Defaults to
            None (identity).
        preact_shortcut (bool): Feed the projection shortcut with the
            pre-activated input ``act(norm1(x))`` (WideResNet code) instead
            of ``x`` (pre-activation ResNet code). Identity shortcuts always
            carry ``x``. Defaults to False.
        drop_rate (float): Dropout probability between the two
            convolutions (WideResNet). Defaults to 0.
        conv_cfg (dict, optional): Convolution config. Defaults to None.
        norm_cfg (dict): Norm config. Defaults to ``dict(type='BN')``.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    expansion = 1

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 stride: int = 1,
                 downsample: Optional[nn.Module] = None,
                 preact_shortcut: bool = False,
                 drop_rate: float = 0.0,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: dict = dict(type='BN'),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.stride = stride
        self.preact_shortcut = preact_shortcut
        self.norm1_name, norm1 = build_norm_layer(
            norm_cfg, in_channels, postfix=1)
        self.add_module(self.norm1_name, norm1)
        self.conv1 = build_conv_layer(
            conv_cfg,
            in_channels,
            out_channels,
            3,
            stride=stride,
            padding=1,
            bias=False)
        self.norm2_name, norm2 = build_norm_layer(
            norm_cfg, out_channels, postfix=2)
        self.add_module(self.norm2_name, norm2)
        self.conv2 = build_conv_layer(
            conv_cfg, out_channels, out_channels, 3, padding=1, bias=False)
        self.relu = nn.ReLU(inplace=True)
        self.dropout = nn.Dropout(drop_rate) if drop_rate > 0 else None
        self.downsample = downsample

    @property
    def norm1(self) -> nn.Module:
        return getattr(self, self.norm1_name)

    @property
    def norm2(self) -> nn.Module:
        return getattr(self, self.norm2_name)

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.norm1(x))
        identity = x
        if self.downsample is not None:
            identity = self.downsample(out if self.preact_shortcut else x)
        out = self.conv1(out)
        out = self.relu(self.norm2(out))
        if self.dropout is not None:
            out = self.dropout(out)
        out = self.conv2(out)
        return out + identity


class PreActBottleneck(BaseModule):
    """Pre-activation bottleneck unit: three (norm-act-conv) with 1x1, 3x3
    and 1x1 kernels, the middle width being ``out_channels / 4``.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels (4 x the middle width).
        stride (int): Stride of the 3x3 convolution. Defaults to 1.
        downsample (nn.Module, optional): Projection shortcut. Defaults to
            None (identity).
        preact_shortcut (bool): Feed the projection shortcut with the
            pre-activated input instead of ``x``. Defaults to False.
        conv_cfg (dict, optional): Convolution config. Defaults to None.
        norm_cfg (dict): Norm config. Defaults to ``dict(type='BN')``.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    expansion = 4

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 stride: int = 1,
                 downsample: Optional[nn.Module] = None,
                 preact_shortcut: bool = False,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: dict = dict(type='BN'),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if out_channels % self.expansion:
            raise ValueError(f'PreActBottleneck: out_channels={out_channels}'
                             f' is not divisible by {self.expansion}')
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.mid_channels = out_channels // self.expansion
        self.stride = stride
        self.preact_shortcut = preact_shortcut
        mid = self.mid_channels
        self.norm1_name, norm1 = build_norm_layer(
            norm_cfg, in_channels, postfix=1)
        self.add_module(self.norm1_name, norm1)
        self.conv1 = build_conv_layer(
            conv_cfg, in_channels, mid, 1, bias=False)
        self.norm2_name, norm2 = build_norm_layer(norm_cfg, mid, postfix=2)
        self.add_module(self.norm2_name, norm2)
        self.conv2 = build_conv_layer(
            conv_cfg, mid, mid, 3, stride=stride, padding=1, bias=False)
        self.norm3_name, norm3 = build_norm_layer(norm_cfg, mid, postfix=3)
        self.add_module(self.norm3_name, norm3)
        self.conv3 = build_conv_layer(
            conv_cfg, mid, out_channels, 1, bias=False)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    @property
    def norm1(self) -> nn.Module:
        return getattr(self, self.norm1_name)

    @property
    def norm2(self) -> nn.Module:
        return getattr(self, self.norm2_name)

    @property
    def norm3(self) -> nn.Module:
        return getattr(self, self.norm3_name)

    def forward(self, x: Tensor) -> Tensor:
        out = self.relu(self.norm1(x))
        identity = x
        if self.downsample is not None:
            identity = self.downsample(out if self.preact_shortcut else x)
        out = self.conv1(out)
        out = self.conv2(self.relu(self.norm2(out)))
        out = self.conv3(self.relu(self.norm3(out)))
        return out + identity


Block = Union[Type[PreActBasicBlock], Type[PreActBottleneck]]


class BasePreActResNet(BaseModule):
    """Body shared by the pre-activation backbones.

    A stem convolution (no norm, no activation), stages ``layer1``,
    ``layer2``, ... (``nn.Sequential`` of units, names in
    ``self.res_layers`` as in mmpretrain's ResNet) and a final norm + ReLU
    (``bn_out``) applied to the last stage's output. Only the last stage's
    output is normalised, so an earlier stage in ``out_indices`` is returned
    before activation (a pre-activation sum).

    Args:
        block (type): Unit class, :class:`PreActBasicBlock` or
            :class:`PreActBottleneck`.
        stage_blocks (Sequence[int]): Units per stage.
        stage_channels (Sequence[int]): Output channels per stage.
        strides (Sequence[int]): Stride of the first unit of each stage.
        in_channels (int): Input image channels. Defaults to 3.
        stem_channels (int): Output channels of the stem. Defaults to 16.
        stem_kernel (int): Kernel size of the stem convolution. Defaults
            to 3.
        stem_stride (int): Stride of the stem convolution. Defaults to 1.
        out_indices (Sequence[int]): Stages whose outputs are returned;
            negative values count from the end. Defaults to ``(-1, )``.
        frozen_stages (int): Stages to freeze (no gradient, eval mode);
            0 freezes the stem only, -1 nothing, the number of stages also
            freezes the final norm. Defaults to -1.
        norm_eval (bool): Keep norm layers in eval mode during training.
            Defaults to False.
        conv_cfg (dict, optional): Convolution config. Defaults to None.
        norm_cfg (dict): Norm config. Defaults to
            ``dict(type='BN', requires_grad=True)``.
        block_cfg (dict, optional): Extra keyword arguments of every unit.
            Defaults to None.
        plugins (list[dict], optional): Plugins inserted between the units
            of the stages, see
            :func:`~mmdl.models.utils.plugin_insertion.insert_stage_plugins`.
            Defaults to None.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Defaults to None (the subclasses default to Kaiming-normal
            (fan_out) convolutions and unit norms, as the official code).
    """

    def __init__(self,
                 block: Block,
                 stage_blocks: Sequence[int],
                 stage_channels: Sequence[int],
                 strides: Sequence[int],
                 in_channels: int = 3,
                 stem_channels: int = 16,
                 stem_kernel: int = 3,
                 stem_stride: int = 1,
                 out_indices: Sequence[int] = (-1, ),
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 block_cfg: Optional[dict] = None,
                 plugins: Optional[List[dict]] = None,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        name = type(self).__name__
        num_stages = len(stage_blocks)
        if not len(stage_channels) == len(strides) == num_stages:
            raise ValueError(f'{name}: stage_blocks, stage_channels and '
                             'strides must have the same length')
        if isinstance(out_indices, int):
            out_indices = (out_indices, )
        for index in out_indices:
            if not -num_stages <= index < num_stages:
                raise ValueError(f'{name}: out_indices has {index}, not a '
                                 f'stage index (the backbone has '
                                 f'{num_stages} stages)')
        if not -1 <= frozen_stages <= num_stages:
            raise ValueError(f'{name}: frozen_stages={frozen_stages} is not '
                             f'in -1..{num_stages}')
        self.num_stages = num_stages
        self.stage_blocks = tuple(stage_blocks)
        self.out_indices = tuple(i % num_stages for i in out_indices)
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.conv_cfg = conv_cfg
        self.norm_cfg = norm_cfg
        self.plugins = plugins

        self.conv1 = build_conv_layer(
            conv_cfg,
            in_channels,
            stem_channels,
            kernel_size=stem_kernel,
            stride=stem_stride,
            padding=stem_kernel // 2,
            bias=False)
        self.res_layers = []
        channels = stem_channels
        for i, (num_blocks, out_channels, stride) in enumerate(
                zip(stage_blocks, stage_channels, strides)):
            res_layer = self.make_res_layer(block, num_blocks, channels,
                                            out_channels, stride,
                                            **(block_cfg or {}))
            layer_name = f'layer{i + 1}'
            self.add_module(layer_name, res_layer)
            self.res_layers.append(layer_name)
            channels = out_channels
        self.feat_dim = channels
        self.norm_out_name, norm_out = build_norm_layer(
            norm_cfg, channels, postfix='_out')
        self.add_module(self.norm_out_name, norm_out)
        self.relu = nn.ReLU(inplace=True)

        insert_stage_plugins(self.stages, plugins)
        self._freeze_stages()

    @property
    def norm_out(self) -> nn.Module:
        return getattr(self, self.norm_out_name)

    @property
    def stages(self) -> List[nn.Sequential]:
        """The stages ``layer1``, ``layer2``, ..., in order."""
        return [getattr(self, name) for name in self.res_layers]

    def make_res_layer(self, block: Block, num_blocks: int, in_channels: int,
                       out_channels: int, stride: int,
                       **kwargs) -> nn.Sequential:
        """One stage: ``num_blocks`` units, the first one with ``stride``
        and, where the shape changes, a 1x1 projection shortcut."""
        downsample = None
        if stride != 1 or in_channels != out_channels:
            downsample = nn.Sequential(
                build_conv_layer(
                    self.conv_cfg,
                    in_channels,
                    out_channels,
                    1,
                    stride=stride,
                    bias=False))
        layers = [
            block(
                in_channels,
                out_channels,
                stride=stride,
                downsample=downsample,
                conv_cfg=self.conv_cfg,
                norm_cfg=self.norm_cfg,
                **kwargs)
        ]
        for _ in range(1, num_blocks):
            layers.append(
                block(
                    out_channels,
                    out_channels,
                    conv_cfg=self.conv_cfg,
                    norm_cfg=self.norm_cfg,
                    **kwargs))
        return nn.Sequential(*layers)

    def _freeze_stages(self) -> None:
        modules: List[nn.Module] = []
        if self.frozen_stages >= 0:
            modules.append(self.conv1)
        modules += self.stages[:max(self.frozen_stages, 0)]
        if self.frozen_stages == self.num_stages:
            modules.append(self.norm_out)
        for module in modules:
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def init_weights(self) -> None:
        """Initialise by ``init_cfg``; plugins keep their own
        initialisation (a ``'Pretrained'`` entry is still applied last)."""
        init_weights_keeping_plugins(self, get_stage_plugins(self.stages),
                                     super().init_weights)

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """Forward.

        Args:
            x (Tensor): Images, (B, C, H, W).

        Returns:
            tuple[Tensor]: The outputs of the stages in ``out_indices``.
        """
        x = self.conv1(x)
        outs = []
        for i, layer_name in enumerate(self.res_layers):
            x = getattr(self, layer_name)(x)
            if i == self.num_stages - 1:
                x = self.relu(self.norm_out(x))
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def train(self, mode: bool = True) -> 'BasePreActResNet':
        """Set the mode, keeping frozen stages and (with ``norm_eval``) the
        norm layers in eval mode."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self


@MODELS.register_module()
class PreActResNet(BasePreActResNet):
    """Pre-activation ResNet for CIFAR (32x32 inputs).

    Stem conv3x3 with 16 channels, three stages of ``n`` units at 32x32,
    16x16 and 8x8 with 16/32/64 channels (x4 for bottleneck units), final
    BN-ReLU. Basic units need ``depth = 6n + 2`` (20, 32, 44, 56, 110...),
    bottleneck units ``depth = 9n + 2`` (56, 110, 164, 1001...). As in the
    official code the unit defaults to bottleneck from depth 44 on; that
    code floors ``(depth - 2) / 9``, so its "depth 44" has 4 bottleneck
    units per stage (38 layers). mmdl raises instead: use ``block='basic'``
    for a 44-layer basic network.

    Use it with mmpretrain's ``GlobalAveragePooling`` neck and
    ``LinearClsHead`` (``in_channels=64`` or 256 with bottlenecks).

    Args:
        depth (int): Depth. Defaults to 20.
        block (str, optional): ``'basic'`` or ``'bottleneck'``. Defaults to
            None: bottleneck if ``depth >= 44``, else basic.
        in_channels (int): Input image channels. Defaults to 3.
        base_channels (int): Stem channels and width of the first stage
            (before expansion). Defaults to 16.
        out_indices (Sequence[int]): Stages whose outputs are returned.
            Defaults to ``(2, )``.
        frozen_stages (int): Stages to freeze, see
            :class:`BasePreActResNet`. Defaults to -1.
        norm_eval (bool): Keep norm layers in eval mode during training.
            Defaults to False.
        conv_cfg (dict, optional): Convolution config. Defaults to None.
        norm_cfg (dict): Norm config. Defaults to
            ``dict(type='BN', requires_grad=True)``.
        plugins (list[dict], optional): Plugins between units, e.g.
            ``[dict(cfg=dict(type='ScaledNonLocal2d'), stage=1)]`` puts a
            Scaled Non-Local block before the last unit of the 16x16 stage.
            Defaults to None.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Defaults to Kaiming-normal (fan_out) convolutions, unit norms.

    Example:
        >>> import torch
        >>> net = PreActResNet(depth=20, out_indices=(0, 1, 2))
        >>> [tuple(o.shape) for o in net(torch.rand(1, 3, 32, 32))]
        [(1, 16, 32, 32), (1, 32, 16, 16), (1, 64, 8, 8)]
    """

    block_types: Dict[str, Tuple[Block, int]] = {
        'basic': (PreActBasicBlock, 6),
        'bottleneck': (PreActBottleneck, 9)
    }

    def __init__(self,
                 depth: int = 20,
                 block: Optional[str] = None,
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
        block_cls, num_blocks = self.parse_depth(depth, block)
        super().__init__(
            block=block_cls,
            stage_blocks=(num_blocks, ) * 3,
            stage_channels=[
                base_channels * 2**i * block_cls.expansion for i in range(3)
            ],
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
            plugins=plugins,
            init_cfg=init_cfg)
        self.depth = depth

    @classmethod
    def parse_depth(cls,
                    depth: int,
                    block: Optional[str] = None) -> Tuple[Block, int]:
        """Unit class and units per stage for a depth.

        Args:
            depth (int): Depth.
            block (str, optional): ``'basic'``, ``'bottleneck'`` or None
                (by depth).

        Returns:
            tuple: ``(unit class, units per stage)``.
        """
        if block is None:
            block = 'bottleneck' if depth >= 44 else 'basic'
        if block not in cls.block_types:
            raise ValueError(f'PreActResNet: block={block!r} is not one of '
                             f'{tuple(cls.block_types)}')
        block_cls, layers = cls.block_types[block]
        if depth < layers + 2 or (depth - 2) % layers:
            other = 'basic' if block == 'bottleneck' else 'bottleneck'
            raise ValueError(
                f'PreActResNet: depth={depth} does not fit {block} units, '
                f'which need depth = {layers}n + 2 (n >= 1); set '
                f'block={other!r} or change the depth')
        return block_cls, (depth - 2) // layers


@MODELS.register_module()
class PreActResNetImageNet(BasePreActResNet):
    """ImageNet-style pre-activation ResNet for small images (Tiny-ImageNet).

    Four stages with 64/128/256/512 channels (x4 for bottleneck units),
    depths 18/34/50/101/152/200 as in ResNet, and a stem convolution with
    stride 1 and no max-pool, so 56x56 crops give 56/28/14/7 stages.

    **Stem kernel** (Reconstruction). The official code's Tiny-ImageNet
    stem is a 7x7 convolution with stride 1 (``stem_kernel=7`` reproduces
    it); the default is the 3x3 stem of the CIFAR-style networks. The two
    differ by ``(49 - 9) * 3 * 64`` parameters only.

    Args:
        depth (int): Depth, from {18, 34, 50, 101, 152, 200}. Defaults to
            18.
        in_channels (int): Input image channels. Defaults to 3.
        stem_channels (int): Stem channels. Defaults to 64.
        base_channels (int): Width of the first stage (before expansion).
            Defaults to 64.
        stem_kernel (int): Stem kernel size. Defaults to 3.
        stem_stride (int): Stem stride. Defaults to 1.
        out_indices (Sequence[int]): Stages whose outputs are returned.
            Defaults to ``(3, )``.
        frozen_stages (int): Stages to freeze, see
            :class:`BasePreActResNet`. Defaults to -1.
        norm_eval (bool): Keep norm layers in eval mode during training.
            Defaults to False.
        conv_cfg (dict, optional): Convolution config. Defaults to None.
        norm_cfg (dict): Norm config. Defaults to
            ``dict(type='BN', requires_grad=True)``.
        plugins (list[dict], optional): Plugins between units. Defaults to
            None.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Defaults to Kaiming-normal (fan_out) convolutions, unit norms.

    Example:
        >>> import torch
        >>> net = PreActResNetImageNet(depth=18, out_indices=(0, 1, 2, 3))
        >>> [tuple(o.shape) for o in net(torch.rand(1, 3, 56, 56))]
        [(1, 64, 56, 56), (1, 128, 28, 28), (1, 256, 14, 14), (1, 512, 7, 7)]
    """

    arch_settings: Dict[int, Tuple[Block, Tuple[int, ...]]] = {
        18: (PreActBasicBlock, (2, 2, 2, 2)),
        34: (PreActBasicBlock, (3, 4, 6, 3)),
        50: (PreActBottleneck, (3, 4, 6, 3)),
        101: (PreActBottleneck, (3, 4, 23, 3)),
        152: (PreActBottleneck, (3, 8, 36, 3)),
        200: (PreActBottleneck, (3, 24, 36, 3))
    }

    def __init__(self,
                 depth: int = 18,
                 in_channels: int = 3,
                 stem_channels: int = 64,
                 base_channels: int = 64,
                 stem_kernel: int = 3,
                 stem_stride: int = 1,
                 out_indices: Sequence[int] = (3, ),
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 plugins: Optional[List[dict]] = None,
                 init_cfg: Optional[Union[dict,
                                          List[dict]]] = DEFAULT_INIT_CFG):
        if depth not in self.arch_settings:
            raise ValueError(f'PreActResNetImageNet: depth={depth} is not '
                             f'one of {tuple(self.arch_settings)}')
        block_cls, stage_blocks = self.arch_settings[depth]
        super().__init__(
            block=block_cls,
            stage_blocks=stage_blocks,
            stage_channels=[
                base_channels * 2**i * block_cls.expansion for i in range(4)
            ],
            strides=(1, 2, 2, 2),
            in_channels=in_channels,
            stem_channels=stem_channels,
            stem_kernel=stem_kernel,
            stem_stride=stem_stride,
            out_indices=out_indices,
            frozen_stages=frozen_stages,
            norm_eval=norm_eval,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            plugins=plugins,
            init_cfg=init_cfg)
        self.depth = depth
