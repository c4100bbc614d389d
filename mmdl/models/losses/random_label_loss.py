# Copyright (c) mmdl contributors. All rights reserved.
"""Random source labels, an unlearning baseline."""
from typing import Dict, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmdl.registry import MODELS
from .base_disposal_loss import BaseDisposalLoss, source_logits


@MODELS.register_module()
class RandomLabelLoss(BaseDisposalLoss):
    """Cross-entropy of the source mini-batches against random wrong
    labels, drawn anew at every step: label ``(y + s) mod C`` with ``s``
    uniform in ``1 ... C - 1`` (``C`` from the logits), so every label is
    wrong and the wrong classes are equally likely. Minimising it lowers
    the cross-entropy to the random labels and raises it to the true ones.

    Reconstruction: a baseline of the method's evaluation made here (the
    paper's baselines are not known).

    Args:
        loss_weight (float): Multiplies the loss. Defaults to 1.
    """

    def forward(self,
                model: nn.Module,
                inputs: Sequence[Tensor],
                targets: Sequence[Tensor],
                norm: str = 'train') -> Dict[str, Tensor]:
        """``loss_random_label`` and ``source_ce`` (to the true labels,
        detached)."""
        self.check_batches('RandomLabelLoss', inputs, targets, 1)
        logits = [source_logits(model, x, norm) for x in inputs]
        num_classes = logits[0].shape[-1]
        if num_classes < 2:
            raise ValueError('RandomLabelLoss: the source head needs at '
                             f'least 2 classes, got {num_classes}')
        wrong = [(y + torch.randint_like(y, 1, num_classes)) % num_classes
                 for y in targets]
        loss = torch.stack(
            [F.cross_entropy(z, w) for z, w in zip(logits, wrong)]).mean()
        with torch.no_grad():
            source_ce = torch.stack(
                [F.cross_entropy(z, y) for z, y in zip(logits, targets)])
        return dict(
            loss_random_label=self.loss_weight * loss,
            source_ce=source_ce.mean())
