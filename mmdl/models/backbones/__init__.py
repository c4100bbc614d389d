# Copyright (c) mmdl contributors. All rights reserved.
from .plugged_backbone import PluggedBackbone
from .preact_resnet import (BasePreActResNet, PreActBasicBlock,
                            PreActBottleneck, PreActResNet,
                            PreActResNetImageNet)
from .wide_resnet import WideResNet

__all__ = [
    'PluggedBackbone', 'BasePreActResNet', 'PreActBasicBlock',
    'PreActBottleneck', 'PreActResNet', 'PreActResNetImageNet', 'WideResNet'
]
