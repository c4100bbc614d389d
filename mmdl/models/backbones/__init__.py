# Copyright (c) mmdl contributors. All rights reserved.
from .darts_backbone import DARTSBackbone
from .iresnet import IBasicBlock, IResNet
from .mlp import MLP
from .plugged_backbone import PluggedBackbone
from .preact_resnet import (BasePreActResNet, PreActBasicBlock,
                            PreActBottleneck, PreActResNet,
                            PreActResNetImageNet)
from .wide_resnet import WideResNet

__all__ = [
    'DARTSBackbone', 'IBasicBlock', 'IResNet', 'MLP', 'PluggedBackbone',
    'BasePreActResNet', 'PreActBasicBlock', 'PreActBottleneck', 'PreActResNet',
    'PreActResNetImageNet', 'WideResNet'
]
