# Copyright (c) mmdl contributors. All rights reserved.
"""L2Regularizer: 1/2 ||theta - theta*||^2 toward the latest task's
weights."""
import pytest
import torch
from torch import nn

from mmdl.continual.regularizers import L2Regularizer


def _model():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    model[0].bias.requires_grad_(False)  # frozen: not penalised
    return model


def _shift(model, seed):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=gen))


def _reference(model, anchor):
    """1/2 sum of squared differences over the trainable parameters."""
    total = 0.0
    for name, p in model.named_parameters():
        if p.requires_grad:
            total += 0.5 * float(((p.detach() - anchor[name])**2).sum())
    return total


def test_zero_before_the_first_task():
    model = _model()
    assert L2Regularizer()(model).item() == 0.0


def test_anchor_follows_every_task():
    model = _model()
    reg = L2Regularizer()
    reg.consolidate(model)  # end of task 0
    task0 = {n: p.detach().clone() for n, p in model.named_parameters()}
    _shift(model, 1)
    assert reg(model).item() == pytest.approx(_reference(model, task0))
    reg.consolidate(model)  # end of task 1: re-centred
    task1 = {n: p.detach().clone() for n, p in model.named_parameters()}
    assert reg(model).item() == 0.0
    _shift(model, 2)
    value = reg(model)
    assert value.item() == pytest.approx(_reference(model, task1))
    assert value.item() != pytest.approx(_reference(model, task0))
    # the gradient is theta - theta*
    value.backward()
    torch.testing.assert_close(model[2].weight.grad,
                               model[2].weight.detach() - task1['2.weight'])
    assert model[0].bias.grad is None


def test_state_round_trip_and_coordinate_changes():
    model = _model()
    reg = L2Regularizer()
    reg.consolidate(model)
    _shift(model, 3)
    other = L2Regularizer()
    other.load_state_dict(reg.state_dict())
    torch.testing.assert_close(other(model), reg(model))
    # nothing to re-express: the value does not change
    before = reg(model).item()
    reg.scale_layer_outputs('0', torch.full((4, ), 2.0))
    reg.transform_bn_unit('1', torch.eye(2).expand(4, 2, 2))
    assert reg(model).item() == before
