# Copyright (c) mmdl contributors. All rights reserved.
"""Binary KL divergence between soft targets and predicted probabilities,
computed from log-probabilities."""
import torch
from torch import Tensor


def binary_kl_divergence(log_p: Tensor, log_1mp: Tensor,
                         target: Tensor) -> Tensor:
    """Elementwise ``KL(Bernoulli(t) || Bernoulli(p))``.

    It is the binary cross-entropy minus the target's entropy, so it has
    the gradient of BCE with respect to ``p`` and is zero exactly where the
    prediction equals a soft target (BCE is not, for ``0 < t < 1``, e.g. an
    area-downsampled segmentation). Taking ``log p`` and ``log(1 - p)``
    separately keeps it exact where ``p`` saturates (each can come from a
    ``log_softmax`` / ``logsigmoid`` of logits).

    Args:
        log_p (Tensor): ``log p``.
        log_1mp (Tensor): ``log(1 - p)``.
        target (Tensor): ``t`` in [0, 1], broadcastable.

    Returns:
        Tensor: ``t log(t / p) + (1 - t) log((1 - t) / (1 - p))``, with
        ``0 log 0 = 0``.
    """
    t = target.to(log_p.dtype)
    return (torch.xlogy(t, t) - t * log_p + torch.xlogy(1 - t, 1 - t) -
            (1 - t) * log_1mp)
