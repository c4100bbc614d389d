# Copyright (c) mmdl contributors. All rights reserved.
"""Views of an mmpretrain classifier's feature extractor with another
head."""
from typing import Optional

import torch
from torch import Tensor, nn


class FeatureExtractor(nn.Module):
    """Backbone, then the neck (if any), then flattening of the last
    feature map: preprocessed inputs to ``(N, C)`` features.

    Args:
        backbone (nn.Module): An mmpretrain backbone (returns a tuple).
        neck (nn.Module, optional): Its neck.
    """

    def __init__(self, backbone: nn.Module,
                 neck: Optional[nn.Module] = None) -> None:
        super().__init__()
        self.backbone = backbone
        self.neck = neck

    def forward(self, inputs: Tensor) -> Tensor:
        feats = self.backbone(inputs)
        if self.neck is not None:
            feats = self.neck(feats)
        if isinstance(feats, (tuple, list)):
            feats = feats[-1]
        return torch.flatten(feats, 1)


class SourceNetwork(nn.Module):
    """The classifier's backbone and neck with the source head: the network
    disposal losses take gradients of. It shares its submodules with the
    classifier, so its parameter names are ``backbone.*``, ``neck.*`` and
    ``head.*``.

    Args:
        backbone (nn.Module): The backbone.
        neck (nn.Module, optional): The neck.
        head (nn.Module): An mmpretrain classification head (its
            ``forward`` maps the feature tuple to logits).
    """

    def __init__(self, backbone: nn.Module, neck: Optional[nn.Module],
                 head: nn.Module) -> None:
        super().__init__()
        self.backbone = backbone
        self.neck = neck
        self.head = head

    def forward(self, inputs: Tensor) -> Tensor:
        feats = self.backbone(inputs)
        if self.neck is not None:
            feats = self.neck(feats)
        return self.head(feats)
