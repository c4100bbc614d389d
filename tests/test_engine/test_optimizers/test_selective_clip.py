# Copyright (c) mmdl contributors. All rights reserved.
"""SelectiveClipOptimWrapper: the clipped norm is that of the unmarked
parameters, and marked ones (class centres) keep their gradient."""
import torch
from torch import nn

from mmdl.engine.optimizers import SelectiveClipOptimWrapper
from mmdl.models.heads import CombinedMarginHead


def test_marked_parameters_are_not_clipped():
    torch.manual_seed(0)
    backbone = nn.Linear(4, 3)
    head = CombinedMarginHead(num_classes=5, in_channels=3)
    assert head.weight.skip_grad_clip is True
    params = list(backbone.parameters()) + list(head.parameters())
    wrapper = SelectiveClipOptimWrapper(
        torch.optim.SGD(params, lr=0.0), clip_grad=dict(max_norm=0.1))
    for p in params:
        p.grad = torch.randn_like(p) * 10
    expected = [p.grad.clone() for p in backbone.parameters()]
    total = torch.sqrt(sum((g**2).sum() for g in expected))
    centres = head.weight.grad.clone()
    wrapper.step()
    for p, g in zip(backbone.parameters(), expected):
        assert torch.allclose(p.grad, g * 0.1 / (total + 1e-6), atol=1e-6)
    assert torch.equal(head.weight.grad, centres)
    assert float(wrapper.message_hub.get_scalar(
        'train/grad_norm').current()) == float(total)
