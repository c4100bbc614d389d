# Copyright (c) mmdl contributors. All rights reserved.
"""A multi-layer perceptron backbone (Linear -> norm -> activation)."""
from collections import OrderedDict
from typing import Optional, Sequence, Tuple

from mmcv.cnn import build_activation_layer, build_norm_layer
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmdl.registry import MODELS


@MODELS.register_module()
class MLP(BaseModule):
    """Fully connected backbone: ``Linear -> norm -> activation`` per hidden
    layer, for flattened images (e.g. 8x8 digits or 28x28 MNIST in
    continual-learning benchmarks such as permuted MNIST with BN).

    mmpretrain has no plain MLP backbone (``MlpMixer`` and ``RepMLPNet`` are
    image architectures), hence this one. Its output is a one-element tuple
    with the features of the last hidden layer, shape ``(N, hidden[-1])``,
    like every mmpretrain backbone, so a ``LinearClsHead`` (or mmdl's
    ``MultiTaskLinearClsHead``) with ``in_channels=hidden[-1]`` follows it
    directly (``neck=None``).

    Layer ``i`` is ``layers[i]``, an ``nn.Sequential`` with the children
    ``fc`` (``nn.Linear``), ``norm`` and ``act`` (the last two only when
    configured), e.g. ``layers.0.fc.weight`` and
    ``layers.0.norm.running_mean``.

    Args:
        in_features (int): Input features, e.g. ``C * H * W`` of the images.
        hidden (Sequence[int]): Widths of the hidden layers. Defaults to
            ``(400, 400)``.
        norm_cfg (dict, optional): Norm layer after every linear layer
            (mmcv's ``build_norm_layer``); None for none. Defaults to
            ``dict(type='BN1d')``.
        act_cfg (dict, optional): Activation (mmcv's
            ``build_activation_layer``); None for none. Defaults to
            ``dict(type='ReLU')``.
        flatten (bool): Flatten inputs of shape ``(N, ...)`` to
            ``(N, in_features)``. Defaults to True.
        bias (bool): Bias of the linear layers. Defaults to True.
        init_cfg (dict | list[dict], optional): Initialisation config.
            Defaults to None (PyTorch's default initialisation).
    """

    def __init__(self,
                 in_features: int,
                 hidden: Sequence[int] = (400, 400),
                 norm_cfg: Optional[dict] = dict(type='BN1d'),
                 act_cfg: Optional[dict] = dict(type='ReLU'),
                 flatten: bool = True,
                 bias: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if in_features <= 0:
            raise ValueError(f'in_features must be positive, got '
                             f'{in_features}')
        if len(hidden) == 0 or any(int(h) <= 0 for h in hidden):
            raise ValueError('hidden must be a non-empty sequence of '
                             f'positive widths, got {hidden}')
        self.in_features = in_features
        self.hidden = tuple(int(h) for h in hidden)
        self.flatten = flatten
        self.out_channels = self.hidden[-1]

        layers = []
        width = in_features
        for out in self.hidden:
            block = OrderedDict(fc=nn.Linear(width, out, bias=bias))
            if norm_cfg is not None:
                block['norm'] = build_norm_layer(norm_cfg, out)[1]
            if act_cfg is not None:
                block['act'] = build_activation_layer(act_cfg)
            layers.append(nn.Sequential(block))
            width = out
        self.layers = nn.ModuleList(layers)

    def forward(self, x: Tensor) -> Tuple[Tensor]:
        """Forward.

        Args:
            x (Tensor): Inputs of shape ``(N, in_features)`` or, with
                ``flatten=True``, ``(N, ...)`` with ``in_features`` elements
                per sample.

        Returns:
            tuple[Tensor]: Features of shape ``(N, hidden[-1])``.
        """
        if self.flatten:
            x = x.flatten(1)
        if x.shape[-1] != self.in_features:
            raise ValueError(f'MLP expects {self.in_features} input '
                             f'features, got {x.shape[-1]}')
        for layer in self.layers:
            x = layer(x)
        return (x, )
