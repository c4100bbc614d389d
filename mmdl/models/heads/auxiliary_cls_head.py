# Copyright (c) mmdl contributors. All rights reserved.
"""A linear classification head with an auxiliary classifier on an
intermediate feature map (NASNet, DARTS)."""
from typing import List, Optional, Tuple

import torch
from mmpretrain.models.heads import ClsHead
from mmpretrain.structures import DataSample
from torch import Tensor, nn

from mmdl.registry import MODELS

AUXILIARY_TYPES = ('cifar', 'imagenet')


def auxiliary_classifier(in_channels: int, num_classes: int,
                         kind: str) -> nn.Sequential:
    """The auxiliary classifier of the DARTS reference code
    (``AuxiliaryHeadCIFAR``, 8x8 maps; ``AuxiliaryHeadImageNet``, 7x7 maps
    in the mobile network): ReLU, 5x5 average pooling (stride 3, or 2), 1x1
    convolution to
    128 channels, batch norm, ReLU, 2x2 convolution to 768 channels, batch
    norm (CIFAR only), ReLU, flatten, linear."""
    stride = 3 if kind == 'cifar' else 2
    layers = [
        nn.ReLU(inplace=False),
        nn.AvgPool2d(5, stride=stride, padding=0, count_include_pad=False),
        nn.Conv2d(in_channels, 128, 1, bias=False),
        nn.BatchNorm2d(128),
        nn.ReLU(inplace=True),
        nn.Conv2d(128, 768, 2, bias=False)
    ]
    if kind == 'cifar':
        layers.append(nn.BatchNorm2d(768))
    layers += [
        nn.ReLU(inplace=True),
        nn.Flatten(),
        nn.Linear(768, num_classes)
    ]
    return nn.Sequential(*layers)


@MODELS.register_module()
class AuxiliaryClsHead(ClsHead):
    """Global average pooling and a linear classifier on the last feature
    map, plus, in training, an auxiliary classifier on the one before it
    (``feats[-2]``, e.g. :class:`~mmdl.models.DARTSBackbone` with
    ``auxiliary=True``): the loss is ``loss_cls + loss_aux``, ``loss_aux``
    being ``aux_weight`` times the auxiliary classifier's loss, with the
    head's loss module for both. Predictions use the main classifier
    only.

    Args:
        num_classes (int): Classes.
        in_channels (int): Channels of the last feature map.
        aux_in_channels (int, optional): Channels of the auxiliary feature
            map; None for no auxiliary classifier.
        aux_weight (float): Weight of the auxiliary loss. Defaults to 0.4.
        aux_type (str): ``'cifar'`` or ``'imagenet'`` (see
            :func:`auxiliary_classifier`). Defaults to ``'cifar'``.
        loss (dict): The loss. Defaults to mmpretrain's cross-entropy.
        init_cfg (dict, optional): Initialisation config.
        **kwargs: Other arguments of mmpretrain's ``ClsHead``.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 aux_in_channels: Optional[int] = None,
                 aux_weight: float = 0.4,
                 aux_type: str = 'cifar',
                 loss: dict = dict(
                     type='mmpretrain.CrossEntropyLoss', loss_weight=1.0),
                 init_cfg: Optional[dict] = None,
                 **kwargs) -> None:
        super().__init__(loss=loss, init_cfg=init_cfg, **kwargs)
        if aux_type not in AUXILIARY_TYPES:
            raise ValueError(f'AuxiliaryClsHead: aux_type must be one of '
                             f'{AUXILIARY_TYPES}, got {aux_type!r}')
        self.num_classes = num_classes
        self.fc = nn.Linear(in_channels, num_classes)
        self.aux_weight = float(aux_weight)
        self.aux = (None if aux_in_channels is None else auxiliary_classifier(
            aux_in_channels, num_classes, aux_type))

    def pre_logits(self, feats: Tuple[Tensor, ...]) -> Tensor:
        """The globally pooled last feature map."""
        return torch.flatten(
            nn.functional.adaptive_avg_pool2d(feats[-1], 1), 1)

    def forward(self, feats: Tuple[Tensor, ...]) -> Tensor:
        """The main classifier's logits."""
        return self.fc(self.pre_logits(feats))

    def loss(self, feats: Tuple[Tensor, ...], data_samples: List[DataSample],
             **kwargs) -> dict:
        """``loss_cls`` of the main classifier and, with an auxiliary one,
        ``loss_aux`` (already weighted)."""
        losses = self._get_loss(self(feats), data_samples, **kwargs)
        # not 'loss': mmengine logs the sum of all losses under that key
        losses['loss_cls'] = losses.pop('loss')
        if self.aux is not None and self.aux_weight > 0:
            if len(feats) < 2:
                raise ValueError('AuxiliaryClsHead: the auxiliary classifier '
                                 'needs two feature maps; build the backbone '
                                 'with auxiliary=True')
            aux = self._get_loss(self.aux(feats[-2]), data_samples, **kwargs)
            losses['loss_aux'] = self.aux_weight * aux['loss']
        return losses
