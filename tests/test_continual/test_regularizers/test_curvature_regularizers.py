# Copyright (c) mmdl contributors. All rights reserved.
"""EWC/K-FAC/XK-FAC regularisers: consolidation, the penalty as a dense
quadratic form, and the changes of coordinates of batch-norm merging."""
import copy

import pytest
import torch
from torch import nn

from mmdl.continual import fold_bn, fold_bn_into_affine, flat_weight
from mmdl.continual.regularizers import (EWCRegularizer, KFACRegularizer,
                                         XKFACRegularizer)

CLASSES = {
    'ewc': EWCRegularizer,
    'kfac': KFACRegularizer,
    'xkfac': XKFACRegularizer
}


def _logits_fn(model, batch):
    x, y = batch
    return model(x), y


def _model():
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Linear(4, 5), nn.BatchNorm1d(5), nn.Tanh(),
        nn.Linear(5, 3)).double().train()


def _batches(seed, num=3, size=8):
    gen = torch.Generator().manual_seed(seed)
    return [(torch.randn(size, 4, generator=gen, dtype=torch.double) + 1.0,
             torch.randint(3, (size, ), generator=gen)) for _ in range(num)]


def _perturb(model, seed, scale=0.1):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(scale * torch.randn(p.shape, generator=gen, dtype=p.dtype))


def _vec(matrix):
    """Column-stacking vec (the convention of A kron G)."""
    return matrix.T.reshape(-1)


def _dense(stats, xkfac):
    """The layer's curvature as a dense matrix over vec(dW)."""
    if stats.unit is not None:  # batch norm, (C, 2) rows: vec is row-major
        return torch.block_diag(*stats.unit)
    if stats.g is None:
        return torch.diag(_vec(stats.diag))
    if xkfac:
        mm = torch.outer(stats.mu, stats.mu)
        return torch.kron(stats.a - mm, stats.g) + torch.kron(mm, stats.g_sum)
    return torch.kron(stats.a, stats.g)


def _explicit(reg, model, xkfac):
    """1/2 sum_t sum_l vec(dW)^T F vec(dW) with dense matrices."""
    total = 0.0
    modules = dict(model.named_modules())
    for name, anchor in reg.anchors.items():
        delta = flat_weight(modules[name]).detach() - anchor
        for task in reg.tasks:
            if name not in task:
                continue
            vec = delta.reshape(-1) if task[name].unit is not None else \
                _vec(delta)
            total += 0.5 * float(vec @ _dense(task[name], xkfac) @ vec)
    return total


@pytest.mark.parametrize('curvature', sorted(CLASSES))
def test_consolidate_and_penalty(curvature):
    model = _model()
    bn_curvature = 'diag' if curvature == 'ewc' else 'unitwise'
    reg = CLASSES[curvature](fisher='empirical', bn_curvature=bn_curvature)
    assert reg(model).item() == 0.0  # nothing consolidated yet
    reg.consolidate(model, _batches(0), _logits_fn)
    assert len(reg.tasks) == 1 and set(reg.tasks[0]) == {'0', '1', '3'}
    assert reg(model).item() == 0.0  # anchored at the task's weights
    _perturb(model, 1)
    first_anchor = dict(reg.anchors)
    reg.consolidate(model, _batches(2), _logits_fn)  # second task
    assert len(reg.tasks) == 2
    assert not torch.equal(reg.anchors['0'], first_anchor['0'])
    _perturb(model, 3)
    value = reg(model)
    assert value.item() == pytest.approx(
        _explicit(reg, model, curvature == 'xkfac'), rel=1e-9)
    # state round trip
    other = CLASSES[curvature](fisher='empirical', bn_curvature=bn_curvature)
    other.load_state_dict(reg.state_dict())
    torch.testing.assert_close(other(model), value.detach())


def test_layers_and_read_only_tasks():
    model = _model()
    reg = KFACRegularizer(layers=['3'])
    reg.consolidate(model, _batches(0), _logits_fn,
                    torch.Generator().manual_seed(0))
    assert list(reg.anchors) == ['3'] and list(reg.tasks[0]) == ['3']
    assert isinstance(reg.tasks, tuple)
    with pytest.raises(KeyError, match='not Linear/Conv2d'):
        KFACRegularizer(layers=['2']).consolidate(model, _batches(0),
                                                  _logits_fn)
    with pytest.raises(ValueError, match='batches'):
        reg.consolidate(model)
    with pytest.raises(ValueError, match='fisher'):
        XKFACRegularizer(fisher='mc')
    with pytest.raises(ValueError, match='bn_curvature'):
        EWCRegularizer(bn_curvature='full')


def _old_point(old_model, new_model, r, jac):
    """The pre-merge parameters of the same function as ``new_model``'s:
    ``W_old = diag(1/r) W_new`` for the producer and ``d_old = J d_new``
    for the batch norm's (gamma, beta) displacement from the anchor."""
    point = copy.deepcopy(old_model)
    with torch.no_grad():
        if r is not None:
            point[0].weight.copy_(new_model[0].weight / r[:, None])
            point[0].bias.copy_(new_model[0].bias / r)
        else:
            point[0].weight.copy_(new_model[0].weight)
            point[0].bias.copy_(new_model[0].bias)
        point[3].load_state_dict(new_model[3].state_dict())
        return point


@pytest.mark.parametrize('curvature', ['kfac', 'xkfac', 'ewc'])
@pytest.mark.parametrize('into', ['producer', 'affine'])
def test_coordinate_change_keeps_the_penalty(curvature, into):
    """After a merge and the regulariser's re-expression, the penalty of
    any point equals the old penalty of the same point in the old
    coordinates (exact for the unit-wise and Kronecker forms)."""
    model = _model()
    _perturb(model, 5)
    with torch.no_grad():  # non-trivial running statistics
        model(_batches(6, num=1, size=32)[0][0])
    # EWC's diagonal batch-norm curvature is not closed under the affine
    # change: penalise the Linear layers only
    bn_curvature = None if curvature == 'ewc' else 'unitwise'
    reg = CLASSES[curvature](bn_curvature=bn_curvature)
    reg.consolidate(model, _batches(0), _logits_fn,
                    torch.Generator().manual_seed(0))
    old_reg = copy.deepcopy(reg)
    old_model = copy.deepcopy(model)
    if into == 'producer':
        r, jac = fold_bn(model[0], model[1])
    else:
        r, jac = None, fold_bn_into_affine(model[1])
    if r is not None:
        reg.scale_layer_outputs('0', r)
    reg.transform_bn_unit('1', jac)
    reg.set_anchor(model)
    assert reg(model).item() == pytest.approx(0.0, abs=1e-12)
    _perturb(model, 7)
    point = _old_point(old_model, model, r, jac)
    if bn_curvature is not None:
        d_new = flat_weight(model[1]).detach() - reg.anchors['1']
        d_old = torch.einsum('cij,cj->ci', jac, d_new)
        with torch.no_grad():
            point[1].weight.copy_(old_reg.anchors['1'][:, 0] + d_old[:, 0])
            point[1].bias.copy_(old_reg.anchors['1'][:, 1] + d_old[:, 1])
    torch.testing.assert_close(reg(model), old_reg(point))
