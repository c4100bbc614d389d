# Copyright (c) mmdl contributors. All rights reserved.
"""IResNet: the "improved" ResNet of ArcFace for 112x112 aligned faces.

J. Deng, J. Guo, N. Xue, S. Zafeiriou. "ArcFace: Additive Angular Margin
Loss for Deep Face Recognition". CVPR 2019 (the network of section 3.2 and
its "E" output block: BN-Dropout-FC-BN). The layout is the one of
insightface's ``recognition/arcface_torch/backbones/iresnet.py`` (written
by hand here after that file, with the same module names so that an
arcface_torch state dict loads key for key):

* stem: conv3x3 (stride 1) - BN - PReLU, 64 channels;
* 4 stages of :class:`IBasicBlock` with 64, 128, 256, 512 channels, the
  first block of each stage with stride 2 (112 -> 56, 28, 14, 7);
* embedding block: BN2d - Dropout - flatten - Linear(512 * 7 * 7 -> 512) -
  BN1d whose weight is fixed to 1 and not trained (``requires_grad``
  False, as insightface does).
"""
from typing import (Callable, Dict, List, Optional, Sequence, Tuple,
                    Union)

import torch
from mmengine.model import BaseModule
from mmengine.utils.dl_utils.parrots_wrapper import _BatchNorm
from torch import Tensor, nn

from mmdl.registry import MODELS

# arcface_torch's initialisation: conv N(0, 0.1^2), norms 1 / 0 (the BN1d
# embedding norm included); Linear and PReLU keep PyTorch's defaults.
DEFAULT_INIT_CFG = [
    dict(type='Normal', layer='Conv2d', std=0.1),
    dict(type='Constant', val=1, bias=0, layer='_BatchNorm')
]

EMBEDDING_INDEX = 4


def conv3x3(in_channels: int, out_channels: int, stride: int = 1) -> nn.Conv2d:
    """3x3 convolution, padding 1, no bias."""
    return nn.Conv2d(
        in_channels, out_channels, 3, stride=stride, padding=1, bias=False)


class IBasicBlock(BaseModule):
    """The IResNet residual unit: ``x + BN(conv(PReLU(BN(conv(BN(x))))))``.

    Unlike ResNet's basic block the first convolution has stride 1 and the
    second carries the stride, there is a BN before the first convolution
    and no activation after the sum. The shortcut is a strided conv1x1 +
    BN where the shape changes (``downsample``).

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        stride (int): Stride of the second 3x3 convolution. Defaults to 1.
        downsample (nn.Module, optional): Projection shortcut. Defaults to
            None (identity).
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    expansion = 1

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 stride: int = 1,
                 downsample: Optional[nn.Module] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.stride = stride
        self.bn1 = nn.BatchNorm2d(in_channels, eps=1e-5)
        self.conv1 = conv3x3(in_channels, out_channels)
        self.bn2 = nn.BatchNorm2d(out_channels, eps=1e-5)
        self.prelu = nn.PReLU(out_channels)
        self.conv2 = conv3x3(out_channels, out_channels, stride)
        self.bn3 = nn.BatchNorm2d(out_channels, eps=1e-5)
        self.downsample = downsample

    def forward(self, x: Tensor) -> Tensor:
        out = self.prelu(self.bn2(self.conv1(self.bn1(x))))
        out = self.bn3(self.conv2(out))
        identity = x if self.downsample is None else self.downsample(x)
        return out + identity


@MODELS.register_module()
class IResNet(BaseModule):
    """IResNet backbone of ArcFace (insightface's arcface_torch layout).

    See the module docstring for the layout. Outputs are selected with
    ``out_indices``: 0..3 are the outputs of the 4 stages (feature maps of
    ``base_channels * (1, 2, 4, 8)`` channels at 1/2, 1/4, 1/8, 1/16 of the
    input; block outputs, i.e. residual sums without activation) and 4 is
    the ``(N, embed_dims)`` embedding. :meth:`forward` returns a tuple in
    the order of ``out_indices`` (a neck can read intermediate maps).

    **Parameter counts** (``embed_dims=512``, ``input_size=112``,
    ``base_channels=64``, 3 input channels, with the embedding block); the
    modules are insightface's ``iresnet18/34/50/100/200`` one for one, so
    are the counts (r50 43.6M and r100 65.2M as usually quoted):

    ========  ================  ===========  =============
    depth     units per stage   all          without block
    ========  ================  ===========  =============
    18        (2, 2, 2, 2)      24,025,600   11,177,984
    34        (3, 4, 6, 3)      34,139,328   21,291,712
    50        (3, 4, 14, 3)     43,590,848   30,743,232
    100       (3, 13, 30, 3)    65,156,160   52,308,544
    200       (6, 26, 60, 6)    118,833,920  105,986,304
    ========  ================  ===========  =============

    Counting rule: every parameter tensor is counted, the frozen BN1d
    weight included (insightface's ``sum(p.numel() for p in
    model.parameters())`` counts it too; 512 of the totals are not
    trained). Convolutions have no bias (k*k*cin*cout), BN has 2*c, PReLU
    c, the linear layer in*out + out; running statistics are buffers and
    not counted. The embedding block (BN2d, Linear, BN1d) alone is
    12,847,616 parameters (the linear layer 25,088 x 512 + 512), "without
    block" above being the rest (``with_embedding=False``).

    **Written by hand**, not taken from mmpretrain: mmpretrain's ResNet
    has a different unit (BN-free input, ReLU, stride in the first
    convolution) and no embedding block. The module names follow
    arcface_torch (``conv1``, ``bn1``, ``prelu``, ``layer1..4``, ``bn2``,
    ``dropout``, ``fc``, ``features``; units ``bn1``, ``conv1``, ``bn2``,
    ``prelu``, ``conv2``, ``bn3``, ``downsample.0/1``), so its checkpoints
    load with ``init_cfg=dict(type='Pretrained', checkpoint=...)``.
    arcface_torch's ``fp16`` switch is left to mmengine's AMP and its
    ``zero_init_residual``, ``groups`` and dilation options (unused by its
    configs) are not reproduced.

    Args:
        depth (int): One of 18, 34, 50, 100, 200.
        embed_dims (int): Embedding dimension. Defaults to 512.
        dropout (float): Dropout probability before the linear layer.
            Defaults to 0.
        in_channels (int): Input image channels. Defaults to 3.
        base_channels (int): Width of the stem and the first stage; the
            stages have ``base_channels * (1, 2, 4, 8)`` channels. Defaults
            to 64 (insightface); smaller values make CPU demos cheap.
        input_size (int | Sequence[int]): Input size ``(H, W)`` (an int for
            a square); it sets the linear layer's input,
            ``8 * base_channels * (H / 16) * (W / 16)``, so both must be
            divisible by 16. Defaults to 112.
        out_indices (Sequence[int]): Outputs to return, 0..3 the stages, 4
            the embedding; negative values count from the last available
            output. Defaults to ``(4, )``.
        with_embedding (bool): Build the embedding block. False for a
            feature-map backbone (then ``out_indices`` must be in 0..3).
            Defaults to True.
        frozen_stages (int): As mmpretrain's ResNet: -1 freezes nothing, 0
            the stem, ``k`` the stem and stages 1..k (no gradient, eval
            mode). The embedding block is never frozen. Defaults to -1.
        norm_eval (bool): Keep every BN (the embedding BNs included) in
            eval mode during training. Defaults to False.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Defaults to arcface_torch's: convolutions N(0, 0.1^2), BN
            weight 1 and bias 0.

    Example:
        >>> import torch
        >>> net = IResNet(18, base_channels=8, out_indices=(0, 3, 4)).eval()
        >>> [tuple(o.shape) for o in net(torch.rand(1, 3, 112, 112))]
        [(1, 8, 56, 56), (1, 64, 7, 7), (1, 512)]
    """

    arch_settings: Dict[int, Tuple[int, ...]] = {
        18: (2, 2, 2, 2),
        34: (3, 4, 6, 3),
        50: (3, 4, 14, 3),
        100: (3, 13, 30, 3),
        200: (6, 26, 60, 6)
    }
    num_stages = 4
    downsample_factor = 2**num_stages

    def __init__(self,
                 depth: int,
                 embed_dims: int = 512,
                 dropout: float = 0.0,
                 in_channels: int = 3,
                 base_channels: int = 64,
                 input_size: Union[int, Sequence[int]] = 112,
                 out_indices: Sequence[int] = (EMBEDDING_INDEX, ),
                 with_embedding: bool = True,
                 frozen_stages: int = -1,
                 norm_eval: bool = False,
                 init_cfg: Optional[Union[dict,
                                          List[dict]]] = DEFAULT_INIT_CFG):
        super().__init__(init_cfg=init_cfg)
        if depth not in self.arch_settings:
            raise ValueError(f'IResNet: depth={depth} is not one of '
                             f'{tuple(self.arch_settings)}')
        positive = dict(
            embed_dims=embed_dims,
            in_channels=in_channels,
            base_channels=base_channels)
        for name, value in positive.items():
            if not isinstance(value, int) or value < 1:
                raise ValueError(f'IResNet: {name} must be a positive int, '
                                 f'got {value!r}')
        if not 0 <= dropout < 1:
            raise ValueError(f'IResNet: dropout must be in [0, 1), got '
                             f'{dropout}')
        self.input_size = self._parse_input_size(input_size)
        num_outputs = self.num_stages + int(with_embedding)
        if isinstance(out_indices, int):
            out_indices = (out_indices, )
        indices = []
        for index in out_indices:
            if not -num_outputs <= index < num_outputs:
                hint = ('' if with_embedding else
                        ' (with_embedding=False: no embedding output 4)')
                raise ValueError(f'IResNet: out_indices has {index}, not in '
                                 f'0..{num_outputs - 1}{hint}')
            indices.append(index % num_outputs)
        if len(set(indices)) != len(indices):
            raise ValueError(f'IResNet: out_indices {tuple(out_indices)} '
                             'has duplicates')
        if not -1 <= frozen_stages <= self.num_stages:
            raise ValueError(f'IResNet: frozen_stages={frozen_stages} is not '
                             f'in -1..{self.num_stages}')
        self.depth = depth
        self.stage_blocks = self.arch_settings[depth]
        self.embed_dims = embed_dims
        self.base_channels = base_channels
        self.out_indices = tuple(indices)
        self.with_embedding = with_embedding
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval

        self.conv1 = conv3x3(in_channels, base_channels)
        self.bn1 = nn.BatchNorm2d(base_channels, eps=1e-5)
        self.prelu = nn.PReLU(base_channels)
        self.res_layers = []
        channels = base_channels
        for i, num_blocks in enumerate(self.stage_blocks):
            out_channels = base_channels * 2**i
            self.add_module(
                f'layer{i + 1}',
                self.make_res_layer(num_blocks, channels, out_channels, 2))
            self.res_layers.append(f'layer{i + 1}')
            channels = out_channels
        self.feat_dim = channels
        h, w = self.input_size
        self.final_size = (h // self.downsample_factor,
                           w // self.downsample_factor)
        if with_embedding:
            self.bn2 = nn.BatchNorm2d(channels, eps=1e-5)
            self.dropout = nn.Dropout(p=dropout)
            self.fc = nn.Linear(
                channels * self.final_size[0] * self.final_size[1], embed_dims)
            self.features = nn.BatchNorm1d(embed_dims, eps=1e-5)
            nn.init.constant_(self.features.weight, 1.0)
            self.features.weight.requires_grad = False
        self._freeze_stages()

    @classmethod
    def _parse_input_size(
            cls, input_size: Union[int, Sequence[int]]) -> Tuple[int, int]:
        size = ((input_size, input_size)
                if isinstance(input_size, int) else tuple(input_size))
        if (len(size) != 2
                or not all(isinstance(s, int) and s > 0 for s in size)):
            raise ValueError(f'IResNet: input_size must be a positive int '
                             f'or (H, W), got {input_size!r}')
        if any(s % cls.downsample_factor for s in size):
            raise ValueError(
                f'IResNet: input_size={input_size!r} is not divisible by '
                f'{cls.downsample_factor} (4 stride-2 stages; the linear '
                'layer needs an exact final map size)')
        return size

    @property
    def stages(self) -> List[nn.Sequential]:
        """The stages ``layer1`` .. ``layer4``, in order."""
        return [getattr(self, name) for name in self.res_layers]

    @staticmethod
    def make_res_layer(num_blocks: int, in_channels: int, out_channels: int,
                       stride: int) -> nn.Sequential:
        """One stage: ``num_blocks`` units, the first with ``stride`` and a
        conv1x1 + BN shortcut where the shape changes."""
        downsample = None
        if stride != 1 or in_channels != out_channels:
            downsample = nn.Sequential(
                nn.Conv2d(
                    in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels, eps=1e-5))
        layers = [IBasicBlock(in_channels, out_channels, stride, downsample)]
        layers += [
            IBasicBlock(out_channels, out_channels)
            for _ in range(1, num_blocks)
        ]
        return nn.Sequential(*layers)

    def _freeze_stages(self) -> None:
        modules: List[nn.Module] = []
        if self.frozen_stages >= 0:
            modules += [self.conv1, self.bn1, self.prelu]
        modules += self.stages[:max(self.frozen_stages, 0)]
        for module in modules:
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def embedding(self, x: Tensor) -> Tensor:
        """The embedding block on the last stage's output ``(N, C, h, w)``.

        Args:
            x (Tensor): Output of ``layer4``.

        Returns:
            Tensor: ``(N, embed_dims)``.
        """
        if not self.with_embedding:
            raise ValueError('IResNet: built with with_embedding=False')
        if tuple(x.shape[-2:]) != self.final_size:
            raise ValueError(
                f'IResNet: the last stage map is {tuple(x.shape[-2:])}, '
                f'the embedding block was built for {self.final_size} '
                f'(input_size={self.input_size}); resize the input or set '
                'input_size')
        x = torch.flatten(self.dropout(self.bn2(x)), 1)
        return self.features(self.fc(x))

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        """Forward.

        Args:
            x (Tensor): Images ``(N, C, H, W)``, ``(H, W) = input_size``
                when the embedding is returned.

        Returns:
            tuple[Tensor]: The outputs of ``out_indices``, in that order.
        """
        return self.forward_refined(x)

    def forward_refined(
            self,
            x: Tensor,
            refine: Optional[Callable[[int, Tensor], Tensor]] = None
    ) -> Tuple[Tensor, ...]:
        """Forward with the stage outputs refined in place: the extension
        point of attention modules that act inside the network (e.g.
        :class:`~mmdl.models.necks.ComplementaryAttention`).

        After stage ``i`` (0-based, ``layer{i + 1}``) the map becomes
        ``refine(i, x)``, which the rest of the network (later stages, the
        embedding block) and the returned outputs see.

        Args:
            x (Tensor): Images ``(N, C, H, W)``.
            refine (callable, optional): ``(stage index, map) -> map`` of
                the same shape. Defaults to None (plain forward).

        Returns:
            tuple[Tensor]: The outputs of ``out_indices``, in that order.
        """
        last = max(self.out_indices)
        outs = {}
        x = self.prelu(self.bn1(self.conv1(x)))
        num_stages = min(last + 1, self.num_stages)
        for i, layer in enumerate(self.stages[:num_stages]):
            x = layer(x)
            if refine is not None:
                refined = refine(i, x)
                if refined.shape != x.shape:
                    raise ValueError(
                        f'IResNet.forward_refined: refine({i}, x) returned '
                        f'{tuple(refined.shape)}, expected {tuple(x.shape)}')
                x = refined
            outs[i] = x
        if last == EMBEDDING_INDEX:
            outs[EMBEDDING_INDEX] = self.embedding(x)
        return tuple(outs[i] for i in self.out_indices)

    def train(self, mode: bool = True) -> 'IResNet':
        """Set the mode, keeping frozen stages and (with ``norm_eval``) the
        norm layers in eval mode."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for module in self.modules():
                if isinstance(module, _BatchNorm):
                    module.eval()
        return self
