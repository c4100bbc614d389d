# Copyright (c) mmdl contributors. All rights reserved.
"""L2SPRegularizer (Li et al., ICML 2018): alpha/2 ||w_S - w_S^0||^2 +
beta/2 ||w_new||^2, with the starting point fixed at the first task."""
import pytest
import torch
from torch import nn

from mmdl.continual.regularizers import L2SPRegularizer


def _model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


def _shift(model, seed):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=gen))


def _snapshot(model):
    return {n: p.detach().clone() for n, p in model.named_parameters()}


def _l2_sp(model, start, alpha, beta, new=()):
    """Li et al.'s penalty: parameters in ``start`` and not in ``new``
    toward their starting values, the others toward 0."""
    total = 0.0
    for name, p in model.named_parameters():
        p = p.detach()
        if name in start and name not in new:
            total += alpha / 2 * float(((p - start[name])**2).sum())
        else:
            total += beta / 2 * float((p**2).sum())
    return total


def test_starting_point_does_not_move_after_later_tasks():
    model = _model()
    reg = L2SPRegularizer(alpha=0.3)
    assert reg(model).item() == 0.0  # no starting point yet
    reg.consolidate(model)  # end of task 0: the starting point
    start = _snapshot(model)
    assert reg(model).item() == 0.0
    _shift(model, 1)
    reg.consolidate(model)  # end of task 1: not re-centred
    assert reg(model).item() > 0
    _shift(model, 2)
    reg.consolidate(model)  # end of task 2
    value = reg(model)
    assert value.item() == pytest.approx(_l2_sp(model, start, 0.3, 0.0))
    value.backward()
    torch.testing.assert_close(
        model[0].weight.grad,
        0.3 * (model[0].weight.detach() - start['0.weight']))


def test_new_parameters_get_plain_l2():
    model = _model()
    reg = L2SPRegularizer(alpha=0.5, beta=0.2, new_params=['2'])
    reg.consolidate(model)
    start = _snapshot(model)
    # a parameter created after the starting point (e.g. a new head)
    model.add_module('3', nn.Linear(2, 2))
    _shift(model, 4)
    expected = _l2_sp(model, start, 0.5, 0.2, new=('2.weight', '2.bias'))
    assert reg(model).item() == pytest.approx(expected)
    # beta = 0: new parameters are not penalised
    plain = L2SPRegularizer(alpha=0.5, new_params=['2'])
    plain.load_state_dict(reg.state_dict())
    assert plain(model).item() == pytest.approx(
        _l2_sp(model, start, 0.5, 0.0, new=('2.weight', '2.bias')))


def test_state_round_trip_and_missing_parameters():
    model = _model()
    empty = L2SPRegularizer()
    other = L2SPRegularizer(alpha=2.0)
    other.load_state_dict(empty.state_dict())
    assert other.anchors is None
    reg = L2SPRegularizer(alpha=2.0)
    reg.consolidate(model)
    _shift(model, 5)
    other.load_state_dict(reg.state_dict())
    other.consolidate(model)  # restored: still the old starting point
    torch.testing.assert_close(other(model), reg(model))
    with pytest.raises(KeyError, match='starting point'):
        reg(nn.Sequential(nn.Linear(3, 4)))


def test_no_coordinate_changes():
    reg = L2SPRegularizer()
    with pytest.raises(NotImplementedError, match='L2SPRegularizer'):
        reg.scale_layer_outputs('0', torch.ones(4))
    with pytest.raises(NotImplementedError, match='batch-norm'):
        reg.transform_bn_unit('1', torch.eye(2).expand(4, 2, 2))
