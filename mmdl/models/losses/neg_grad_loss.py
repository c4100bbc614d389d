# Copyright (c) mmdl contributors. All rights reserved.
"""NegGrad: gradient ascent on the source loss, an unlearning baseline."""
from typing import Dict, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmdl.registry import MODELS
from .base_disposal_loss import BaseDisposalLoss, source_logits


@MODELS.register_module()
class NegGradLoss(BaseDisposalLoss):
    """Gradient ascent on the source cross-entropy (NegGrad): the loss is
    ``-mean_k CE_k``, so minimising it raises the source loss.

    Gradient ascent is unbounded; with ``bound`` the ascent stops for a
    mini-batch once its cross-entropy exceeds ``bound`` (the term is
    ``-min(CE_k, bound)``, whose gradient is zero above the bound), a
    common guard against diverging weights.

    Reconstruction: a baseline of the method's evaluation made here (the
    paper's baselines are not known).

    Args:
        bound (float, optional): See above. Defaults to None (no bound).
        loss_weight (float): Multiplies the loss. Defaults to 1.
    """

    def __init__(self,
                 bound: Optional[float] = None,
                 loss_weight: float = 1.0) -> None:
        super().__init__(loss_weight)
        if bound is not None and bound <= 0:
            raise ValueError(f'NegGradLoss: bound must be > 0, got {bound}')
        self.bound = bound

    def forward(self,
                model: nn.Module,
                inputs: Sequence[Tensor],
                targets: Sequence[Tensor],
                norm: str = 'train') -> Dict[str, Tensor]:
        """``loss_neg_grad`` and ``source_ce`` (detached)."""
        self.check_batches('NegGradLoss', inputs, targets, 1)
        losses = torch.stack([
            F.cross_entropy(source_logits(model, x, norm), y)
            for x, y in zip(inputs, targets)
        ])
        ascent = losses if self.bound is None else losses.clamp(
            max=self.bound)
        return dict(
            loss_neg_grad=-self.loss_weight * ascent.mean(),
            source_ce=losses.detach().mean())
