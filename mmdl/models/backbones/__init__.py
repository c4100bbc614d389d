# Copyright (c) mmdl contributors. All rights reserved.
from .mlp import MLP
from .plugged_backbone import PluggedBackbone
from .preact_resnet import (BasePreActResNet, PreActBasicBlock,
                            PreActBottleneck, PreActResNet,
                            PreActResNetImageNet)
from .wide_resnet import WideResNet

__all__ = [
    'MLP', 'PluggedBackbone', 'BasePreActResNet', 'PreActBasicBlock',
    'PreActBottleneck', 'PreActResNet', 'PreActResNetImageNet', 'WideResNet'
]
