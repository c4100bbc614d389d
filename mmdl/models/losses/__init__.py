# Copyright (c) mmdl contributors. All rights reserved.
"""Losses: source-disposal losses of disposable transfer learning."""
from .base_disposal_loss import BaseDisposalLoss, source_logits
from .gc_loss import GCLoss, SourcePasses
from .neg_grad_loss import NegGradLoss
from .random_label_loss import RandomLabelLoss

__all__ = [
    'BaseDisposalLoss', 'GCLoss', 'NegGradLoss', 'RandomLabelLoss',
    'SourcePasses', 'source_logits'
]
