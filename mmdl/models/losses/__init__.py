# Copyright (c) mmdl contributors. All rights reserved.
"""Losses: source-disposal losses of disposable transfer learning; the
binary KL divergence of attention supervision."""
from .base_disposal_loss import BaseDisposalLoss, source_logits
from .binary_kl_loss import binary_kl_divergence
from .gc_loss import GCLoss, SourcePasses
from .neg_grad_loss import NegGradLoss
from .random_label_loss import RandomLabelLoss

__all__ = [
    'BaseDisposalLoss', 'GCLoss', 'NegGradLoss', 'RandomLabelLoss',
    'SourcePasses', 'source_logits', 'binary_kl_divergence'
]
