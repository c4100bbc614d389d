# Copyright (c) mmdl contributors. All rights reserved.
"""Batch-norm gamma/beta curvature against autograd references."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mmdl.continual import collect_curvature, flat_weight
from mmdl.continual.regularizers import (EWCRegularizer, KFACRegularizer,
                                         XKFACRegularizer)


def _logits_fn(model, batch):
    x, y = batch
    return model(x), y


def _model(conv):
    torch.manual_seed(0)
    if conv:
        layers = [
            nn.Conv2d(2, 3, 3, padding=1),
            nn.BatchNorm2d(3),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(3 * 16, 3)
        ]
    else:
        layers = [
            nn.Linear(4, 5),
            nn.BatchNorm1d(5),
            nn.ReLU(),
            nn.Linear(5, 3)
        ]
    model = nn.Sequential(*layers).double()
    with torch.no_grad():
        model[1].weight.uniform_(0.5, 1.5)
        model[1].bias.normal_()
    return model


def _batches(conv, num=4, size=6, seed=1):
    gen = torch.Generator().manual_seed(seed)
    shape = (size, 2, 4, 4) if conv else (size, 4)
    return [(torch.randn(*shape, generator=gen, dtype=torch.double) + 1.0,
             torch.randint(3, (size, ), generator=gen)) for _ in range(num)]


def _per_example_bn_grads(model, x, y):
    """(N, C, 2): d L_B / d (gamma_n, beta_n) with one copy of gamma/beta
    per example, by autograd (independent of mmdl's g * xhat sums)."""
    bn = model[1]
    num = x.shape[0]
    shape = (num, -1) + (1, ) * (x.dim() - 2)
    gammas = bn.weight.detach().expand(num, -1).clone().requires_grad_()
    betas = bn.bias.detach().expand(num, -1).clone().requires_grad_()

    def replace(module, args, output):
        xhat = F.batch_norm(args[0], None, None, training=True, eps=bn.eps)
        return gammas.view(shape) * xhat + betas.view(shape)

    handle = bn.register_forward_hook(replace)
    try:
        loss = F.cross_entropy(model(x), y, reduction='sum')
        gg, gb = torch.autograd.grad(loss, [gammas, betas])
    finally:
        handle.remove()
    return torch.stack([gg, gb], dim=-1)


@pytest.mark.parametrize('conv', [False, True])
def test_xkfac_bn_blocks_equal_the_exact_batch_fisher(conv):
    model = _model(conv).train()
    batches = _batches(conv)
    stats = collect_curvature(
        model,
        batches,
        _logits_fn,
        curvature='xkfac',
        fisher='empirical',
        bn_curvature='unitwise')
    exact = 0
    for x, y in batches:
        loss = F.cross_entropy(model(x), y, reduction='sum')
        gg, gb = torch.autograd.grad(loss, [model[1].weight, model[1].bias])
        v = torch.stack([gg, gb], dim=1)
        exact = exact + v[:, :, None] * v[:, None, :]
    exact = exact / (len(batches) * batches[0][0].shape[0])
    torch.testing.assert_close(stats['1'].unit, exact)


@pytest.mark.parametrize('conv', [False, True])
def test_kfac_and_ewc_bn_terms_equal_per_example_sums(conv):
    model = _model(conv).train()
    batches = _batches(conv)
    total = sum(
        torch.einsum('nci,ncj->cij', u, u)
        for u in (_per_example_bn_grads(model, x, y) for x, y in batches))
    total = total / (len(batches) * batches[0][0].shape[0])
    unit = collect_curvature(
        model,
        batches,
        _logits_fn,
        curvature='kfac',
        fisher='empirical',
        bn_curvature='unitwise')['1'].unit
    torch.testing.assert_close(unit, total)
    for curvature, bn_curvature in (('kfac', 'diag'), ('ewc', 'unitwise')):
        diag = collect_curvature(
            model,
            batches,
            _logits_fn,
            curvature=curvature,
            fisher='empirical',
            bn_curvature=bn_curvature)['1'].diag
        torch.testing.assert_close(diag, torch.diagonal(total, 0, 1, 2))


def test_eval_mode_bn_uses_running_statistics():
    model = _model(False)
    for x, _ in _batches(False, num=3):
        model(x)  # running statistics away from (0, 1)
    model.eval()
    batches = _batches(False, num=2, seed=5)
    unit = collect_curvature(
        model,
        batches,
        _logits_fn,
        curvature='kfac',
        fisher='empirical',
        bn_curvature='unitwise')['1'].unit
    bn = model[1]
    ref = 0
    for x, y in batches:
        for n in range(x.shape[0]):  # eval mode: examples are independent
            loss = F.cross_entropy(model(x[n:n + 1]), y[n:n + 1])
            gg, gb = torch.autograd.grad(loss, [bn.weight, bn.bias])
            v = torch.stack([gg, gb], 1)
            ref = ref + v[:, :, None] * v[:, None, :]
    torch.testing.assert_close(unit, ref / 12)


@pytest.mark.parametrize('penalty_cls', [KFACRegularizer, XKFACRegularizer])
@pytest.mark.parametrize('bn_curvature', ['unitwise', 'diag'])
def test_bn_penalty_is_the_block_quadratic_form(penalty_cls, bn_curvature):
    model = _model(False).train()
    batches = _batches(False)
    curvature = 'xkfac' if penalty_cls is XKFACRegularizer else 'kfac'
    stats = collect_curvature(
        model,
        batches,
        _logits_fn,
        curvature=curvature,
        bn_curvature=bn_curvature,
        generator=torch.Generator().manual_seed(0))
    penalty = penalty_cls(bn_curvature=bn_curvature)
    penalty.set_anchor(model)
    penalty.add_task(stats)
    penalty.add_task(stats)  # two tasks: the blocks add up
    assert penalty(model).item() == 0.0
    bn_only = penalty_cls(layers=['1'], bn_curvature=bn_curvature)
    bn_only.set_anchor(model)
    bn_only.add_task(stats)
    with torch.no_grad():
        model[1].weight.add_(0.3)
        model[1].bias.sub_(0.2)
    d = torch.tensor([0.3, -0.2], dtype=torch.double).expand(5, 2)
    assert torch.allclose(flat_weight(model[1]) - bn_only.anchors['1'], d)
    s = stats['1']
    blocks = s.unit if s.unit is not None else torch.diag_embed(s.diag)
    dense = torch.block_diag(*blocks)
    expected = 0.5 * d.reshape(-1) @ dense @ d.reshape(-1)
    value = bn_only(model)
    torch.testing.assert_close(value, expected)
    assert value.item() > 0 and penalty(model).item() > 2 * value.item() - 1e-9


def test_ewc_penalty_covers_bn():
    model = _model(False).train()
    stats = collect_curvature(
        model,
        _batches(False),
        _logits_fn,
        curvature='ewc',
        fisher='empirical',
        bn_curvature='diag')
    penalty = EWCRegularizer(bn_curvature='diag')
    penalty.set_anchor(model)
    penalty.add_task(stats)
    assert '1' in penalty.anchors and penalty(model).item() == 0.0
    with torch.no_grad():
        model[1].bias.add_(1.0)
    expected = 0.5 * stats['1'].diag[:, 1].sum()
    torch.testing.assert_close(penalty(model), expected)


def test_bad_bn_curvature():
    with pytest.raises(ValueError, match='bn_curvature'):
        collect_curvature(
            _model(False), _batches(False), _logits_fn, bn_curvature='full')
