# Copyright (c) mmdl contributors. All rights reserved.
"""The NegGrad and random-label baselines move the source loss in their
documented directions."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mmdl.models import NegGradLoss, RandomLabelLoss


def _setup(seed=0):
    """A small BN network trained briefly on a separable source task."""
    torch.manual_seed(seed)
    net = nn.Sequential(
        nn.Linear(6, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 4))
    centres = torch.randn(4, 6) * 3
    ys = [torch.randint(0, 4, (32, )) for _ in range(2)]
    xs = [centres[y] + 0.3 * torch.randn(32, 6) for y in ys]
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    for _ in range(50):
        for x, y in zip(xs, ys):
            opt.zero_grad()
            F.cross_entropy(net(x), y).backward()
            opt.step()
    return net, xs, ys


def _true_ce(net, xs, ys):
    """Source cross-entropy as the losses see it (batch statistics)."""
    with torch.no_grad():
        value = sum(F.cross_entropy(net(x), y) for x, y in zip(xs, ys))
    return value.item() / len(xs)


def _descend(loss_fn, net, xs, ys, steps=30, lr=0.5):
    opt = torch.optim.SGD(net.parameters(), lr=lr)
    for _ in range(steps):
        opt.zero_grad()
        terms = loss_fn(net, xs, ys)
        sum(v for k, v in terms.items() if k.startswith('loss')).backward()
        opt.step()
    return terms


def test_neg_grad_raises_the_source_loss():
    net, xs, ys = _setup()
    before = _true_ce(net, xs, ys)
    terms = NegGradLoss()(net, xs, ys)
    # the loss is minus the mean source cross-entropy
    expected = sum(F.cross_entropy(net(x), y) for x, y in zip(xs, ys)) / 2
    assert terms['loss_neg_grad'].item() == pytest.approx(
        -expected.item(), rel=1e-6)
    _descend(NegGradLoss(), net, xs, ys)
    assert _true_ce(net, xs, ys) > before + 1.0


def test_neg_grad_bound_stops_the_ascent():
    net, xs, ys = _setup(1)
    net.zero_grad(set_to_none=True)
    loss = NegGradLoss(bound=1e-6)(net, xs, ys)['loss_neg_grad']
    loss.backward()
    # every mini-batch is above the bound: no gradient at all
    assert all(p.grad is None or p.grad.abs().max() == 0
               for p in net.parameters())
    with pytest.raises(ValueError, match='bound'):
        NegGradLoss(bound=0)


def test_random_labels_lower_the_wrong_label_loss_raise_the_true_one():
    net, xs, ys = _setup(2)
    before = _true_ce(net, xs, ys)
    torch.manual_seed(0)
    terms = RandomLabelLoss()(net, xs, ys)
    assert terms['source_ce'].item() == pytest.approx(
        sum(F.cross_entropy(net(x), y).item()
            for x, y in zip(xs, ys)) / 2, rel=1e-5)
    # every drawn label is wrong
    torch.manual_seed(0)
    wrong = [(y + torch.randint_like(y, 1, 4)) % 4 for y in ys]
    assert all((w != y).all() for w, y in zip(wrong, ys))
    first = terms['loss_random_label'].item()
    last = _descend(RandomLabelLoss(), net, xs, ys, steps=60)
    assert last['loss_random_label'].item() < first
    assert _true_ce(net, xs, ys) > before + 1.0


def test_running_statistics_untouched():
    net, xs, ys = _setup(3)
    bn = net[1]
    before = bn.running_mean.clone()
    for loss in (NegGradLoss(), RandomLabelLoss()):
        loss(net, xs, ys)
    assert torch.equal(bn.running_mean, before)
