# Copyright (c) mmdl contributors. All rights reserved.
from .darts_backbone import DARTSBackbone
from .mlp import MLP
from .plugged_backbone import PluggedBackbone
from .preact_resnet import (BasePreActResNet, PreActBasicBlock,
                            PreActBottleneck, PreActResNet,
                            PreActResNetImageNet)
from .wide_resnet import WideResNet

__all__ = [
    'DARTSBackbone', 'MLP', 'PluggedBackbone', 'BasePreActResNet',
    'PreActBasicBlock', 'PreActBottleneck', 'PreActResNet',
    'PreActResNetImageNet', 'WideResNet'
]
