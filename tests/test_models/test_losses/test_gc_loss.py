# Copyright (c) mmdl contributors. All rights reserved.
"""GCLoss against brute force: explicit per-mini-batch autograd gradients
and pairwise similarities in a Python loop, written here."""
import itertools

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mmdl.models import GCLoss
from mmdl.registry import MODELS


class TinyNet(nn.Module):
    """backbone (two stages, batch norm, optional dropout) and a head, in
    float64."""

    def __init__(self, dropout=0.0):
        super().__init__()
        self.backbone = nn.Sequential(
            nn.Sequential(nn.Linear(5, 7), nn.BatchNorm1d(7), nn.Tanh()),
            nn.Sequential(nn.Linear(7, 6), nn.Dropout(dropout), nn.Tanh()))
        self.head = nn.Linear(6, 3)

    def forward(self, x):
        return self.head(self.backbone(x))


def _batches(k=3, n=8, seed=0):
    gen = torch.Generator().manual_seed(seed)
    xs = [torch.randn(n, 5, generator=gen, dtype=torch.float64)
          for _ in range(k)]
    ys = [torch.randint(0, 3, (n, ), generator=gen) for _ in range(k)]
    return xs, ys


def _net(seed=0, dropout=0.0):
    torch.manual_seed(seed)
    return TinyNet(dropout).double().train()


def _brute_force(net, xs, ys, params, similarity='cosine', max_norm=1.0):
    """Mean over ordered pairs i != j, with explicit gradients per
    mini-batch; differentiable (create_graph)."""
    grads = []
    for x, y in zip(xs, ys):
        g = torch.autograd.grad(
            F.cross_entropy(net(x), y), params, create_graph=True)
        grads.append(torch.cat([t.reshape(-1) for t in g]))
    total, pairs = 0.0, 0
    for i, j in itertools.permutations(range(len(grads)), 2):
        gi, gj = grads[i], grads[j]
        if similarity == 'cosine':
            sim = torch.dot(gi, gj) / (gi.norm() * gj.norm())
        else:
            ci = gi * torch.clamp(max_norm / gi.norm(), max=1.0)
            cj = gj * torch.clamp(max_norm / gj.norm(), max=1.0)
            sim = torch.dot(ci, cj)
        total = total + sim
        pairs += 1
    return total / pairs


def _flat_grads(net):
    return torch.cat([
        (p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1)
        for p in net.parameters()
    ])


def _gc_run(gc, net, xs, ys):
    net.zero_grad(set_to_none=True)
    out = gc(net, xs, ys)
    out['loss_gc'].backward()
    return out, _flat_grads(net)


def _reference(net, xs, ys, params, **kwargs):
    net.zero_grad(set_to_none=True)
    value = _brute_force(net, xs, ys, params, **kwargs)
    value.backward()
    return value.detach(), _flat_grads(net)


def _rel(a, b):
    return ((a - b).norm() / b.norm()).item()


@pytest.mark.parametrize('hvp', ['exact', 'finite_difference'])
def test_value_and_gradient_match_brute_force(hvp):
    net = _net()
    xs, ys = _batches()
    ref_value, ref_grad = _reference(net, xs, ys,
                                     list(net.backbone.parameters()))
    # exact double backward; forward differences with a small radius
    gc = GCLoss(hvp=hvp, fd_radius=1e-6)
    out, grad = _gc_run(gc, net, xs, ys)
    assert torch.allclose(out['loss_gc'].detach(), ref_value, atol=1e-12)
    assert out['gc_similarity'] == pytest.approx(ref_value.item(), abs=1e-12)
    # the gradient also reaches the head (mixed second derivatives)
    tolerance = 1e-10 if hvp == 'exact' else 1e-4
    assert _rel(grad, ref_grad) < tolerance


def test_exact_and_finite_difference_agree_float64():
    """Stated tolerances in float64: forward differences (radius 1e-6)
    within 1e-4 relative, central differences (radius 1e-4) within 1e-6."""
    net = _net(1)
    xs, ys = _batches(k=2, seed=1)
    _, exact = _gc_run(GCLoss(hvp='exact'), net, xs, ys)
    _, forward = _gc_run(
        GCLoss(hvp='finite_difference', fd_radius=1e-6), net, xs, ys)
    _, central = _gc_run(
        GCLoss(hvp='finite_difference', fd_scheme='central',
               fd_radius=1e-4), net, xs, ys)
    assert _rel(forward, exact) < 1e-4
    assert _rel(central, exact) < 1e-6
    # a crude radius is measurably worse: the tolerance means something
    _, crude = _gc_run(
        GCLoss(hvp='finite_difference', fd_radius=0.5), net, xs, ys)
    assert _rel(crude, exact) > 1e-4


@pytest.mark.parametrize('hvp', ['exact', 'finite_difference'])
def test_invariant_to_minibatch_order(hvp):
    net = _net(2)
    xs, ys = _batches(k=4, seed=2)
    gc = GCLoss(hvp=hvp, fd_scheme='central', fd_radius=1e-4)
    out, grad = _gc_run(gc, net, xs, ys)
    order = [2, 0, 3, 1]
    out2, grad2 = _gc_run(gc, net, [xs[i] for i in order],
                          [ys[i] for i in order])
    assert out['loss_gc'].item() == pytest.approx(
        out2['loss_gc'].item(), abs=1e-12)
    assert _rel(grad2, grad) < 1e-6


def test_identity_of_the_sum_of_unit_gradients():
    """sum_{i != j} cos = ||sum_k u_k||^2 - K for non-degenerate rows."""
    gc = GCLoss()
    grads = torch.randn(5, 40, dtype=torch.float64)
    units = grads / grads.norm(dim=1, keepdim=True)
    expected = (units.sum(0).norm()**2 - 5) / (5 * 4)
    assert gc.collision(grads).item() == pytest.approx(
        expected.item(), abs=1e-12)
    # K = 2 opposite gradients: the minimum -1
    g = torch.randn(1, 40, dtype=torch.float64)
    assert gc.collision(torch.cat([g, -3 * g])).item() == pytest.approx(-1)


def test_inner_product_with_clipping_matches_brute_force():
    net = _net(3)
    xs, ys = _batches(k=3, seed=3)
    params = list(net.backbone.parameters())
    ref_value, ref_grad = _reference(
        net, xs, ys, params, similarity='inner_product', max_norm=0.05)
    gc = GCLoss(similarity='inner_product', max_norm=0.05, hvp='exact')
    out, grad = _gc_run(gc, net, xs, ys)
    assert out['loss_gc'].item() == pytest.approx(ref_value.item(), abs=1e-12)
    assert _rel(grad, ref_grad) < 1e-10


def test_parameter_patterns_select_the_last_stage():
    net = _net(4)
    xs, ys = _batches(seed=4)
    ref_value, ref_grad = _reference(net, xs, ys,
                                     list(net.backbone[1].parameters()))
    gc = GCLoss(params=('backbone.1.*', ), hvp='exact')
    assert [n for n, _ in gc.named_gradient_parameters(net)] == [
        'backbone.1.0.weight', 'backbone.1.0.bias'
    ]
    out, grad = _gc_run(gc, net, xs, ys)
    assert out['loss_gc'].item() == pytest.approx(ref_value.item(), abs=1e-12)
    assert _rel(grad, ref_grad) < 1e-10
    with pytest.raises(ValueError, match='matches no trainable parameter'):
        GCLoss(params=('neck.*', ))(net, xs, ys)


@pytest.mark.parametrize('hvp', ['exact', 'finite_difference'])
def test_running_statistics_untouched_and_frozen_norm(hvp):
    net = _net(5)
    xs, ys = _batches(seed=5)
    bn = net.backbone[0][1]
    before = (bn.running_mean.clone(), bn.running_var.clone(),
              bn.num_batches_tracked.clone())
    _gc_run(GCLoss(hvp=hvp), net, xs, ys)
    assert torch.equal(bn.running_mean, before[0])
    assert torch.equal(bn.running_var, before[1])
    assert torch.equal(bn.num_batches_tracked, before[2])
    assert bn.training
    # frozen: the same as the brute force on an eval-mode batch norm
    bn.running_mean.normal_()
    bn.running_var.uniform_(0.5, 2.0)
    net.zero_grad(set_to_none=True)
    out = GCLoss(hvp=hvp, fd_scheme='central', fd_radius=1e-4)(
        net, xs, ys, norm='frozen')
    out['loss_gc'].backward()
    grad = _flat_grads(net)
    bn.eval()
    ref_value, ref_grad = _reference(net, xs, ys,
                                     list(net.backbone.parameters()))
    assert out['loss_gc'].item() == pytest.approx(ref_value.item(), abs=1e-12)
    assert _rel(grad, ref_grad) < 1e-6


def test_finite_differences_replay_dropout_masks():
    net = _net(6, dropout=0.3)
    xs, ys = _batches(seed=6)
    torch.manual_seed(123)
    _, exact = _gc_run(GCLoss(hvp='exact'), net, xs, ys)
    torch.manual_seed(123)
    _, fd = _gc_run(
        GCLoss(fd_scheme='central', fd_radius=1e-4), net, xs, ys)
    assert _rel(fd, exact) < 1e-6


@pytest.mark.parametrize('hvp', ['exact', 'finite_difference'])
def test_near_zero_gradients_stay_finite(hvp):
    """A head of zeros gives exactly zero backbone gradients: the value and
    its gradient stay finite (no 0/0)."""
    net = _net(7)
    nn.init.zeros_(net.head.weight)
    xs, ys = _batches(seed=7)
    out, grad = _gc_run(GCLoss(hvp=hvp), net, xs, ys)
    assert torch.isfinite(out['loss_gc']) and torch.isfinite(grad).all()
    assert out['loss_gc'].item() == pytest.approx(0.0, abs=1e-12)


def test_bad_arguments():
    with pytest.raises(ValueError, match='hvp'):
        GCLoss(hvp='double')
    with pytest.raises(ValueError, match='similarity'):
        GCLoss(similarity='l2')
    with pytest.raises(ValueError, match='fd_radius'):
        GCLoss(fd_radius=0)
    net = _net()
    xs, ys = _batches(k=1)
    with pytest.raises(ValueError, match='at least 2'):
        GCLoss()(net, xs, ys)
    with pytest.raises(ValueError, match='norm must be one of'):
        GCLoss()(net, *_batches(), norm='eval')
    assert isinstance(MODELS.build(dict(type='GCLoss')), GCLoss)
