# Copyright (c) mmdl contributors. All rights reserved.
"""Batch-norm merging and reparameterisation: the eval-mode network is
unchanged, and re-expressed curvature equals curvature collected afresh in
the new coordinates."""
import pytest
import torch
from torch import nn

from mmdl.continual import (bn_input_moments, collect_curvature, find_bn_pairs,
                            fold_bn, fold_bn_into_affine, moments_to_mean_var,
                            reparameterise_bn)


def _fold(into, producer, bn):
    """``(r, jac)`` of either merge (r None: the producer is untouched)."""
    if into == 'producer':
        return fold_bn(producer, bn)
    return None, fold_bn_into_affine(bn)


def _logits_fn(model, batch):
    x, y = batch
    return model(x), y


def _model(conv, bias=True):
    torch.manual_seed(0)
    if conv:
        layers = [
            nn.Conv2d(2, 3, 3, padding=1, bias=bias),
            nn.BatchNorm2d(3),
            nn.ReLU(),
            nn.Conv2d(3, 4, 3, padding=1, bias=False),
            nn.BatchNorm2d(4),
            nn.ReLU(),
            nn.Flatten(),
            nn.Linear(4 * 16, 3)
        ]
    else:
        layers = [
            nn.Linear(4, 6, bias=bias),
            nn.BatchNorm1d(6),
            nn.ReLU(),
            nn.Linear(6, 5),
            nn.BatchNorm1d(5),
            nn.ReLU(),
            nn.Linear(5, 3)
        ]
    model = nn.Sequential(*layers).double()
    gen = torch.Generator().manual_seed(3)
    for _ in range(5):  # running statistics away from (0, 1)
        shape = (16, 2, 4, 4) if conv else (16, 4)
        model(torch.randn(*shape, generator=gen, dtype=torch.double) * 2 + 1)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.weight.uniform_(-1.5, 1.5)  # also negative scales
                module.bias.normal_()
    return model.eval()


def _batches(conv, num=3, size=8, seed=1):
    gen = torch.Generator().manual_seed(seed)
    shape = (size, 2, 4, 4) if conv else (size, 4)
    return [(torch.randn(*shape, generator=gen, dtype=torch.double) + 0.5,
             torch.randint(3, (size, ), generator=gen)) for _ in range(num)]


def _pairs(model, batches):
    return find_bn_pairs(model, lambda: model(batches[0][0]))


@pytest.mark.parametrize('into', ['producer', 'affine'])
@pytest.mark.parametrize('conv', [False, True])
@pytest.mark.parametrize('bias', [False, True])
def test_fold_and_reparameterise_keep_the_eval_network(conv, bias, into):
    model = _model(conv, bias)
    batches = _batches(conv)
    x = torch.cat([b[0] for b in batches])
    ref = model(x).detach()
    pairs = _pairs(model, batches)
    assert pairs == ({'1': '0', '4': '3'})
    modules = dict(model.named_modules())
    for bn, producer in pairs.items():
        gamma = modules[bn].weight.clone()
        weight = modules[producer].weight.clone()
        _fold(into, modules[producer], modules[bn])
        assert torch.all(modules[bn].running_mean == 0)
        if into == 'producer':
            assert torch.equal(modules[bn].weight, gamma)
        else:
            assert torch.equal(modules[producer].weight, weight)
    torch.testing.assert_close(model(x), ref)
    # reparameterise with the statistics of the inputs over the data: in
    # train mode, on that data as one batch, the network is the merged one
    bns = {name: modules[name] for name in pairs}
    moments = bn_input_moments(model, bns, [(x, None)], lambda m, b: m(b[0]))
    for name, (values, count) in moments.items():
        mean, var = moments_to_mean_var(values, count)
        reparameterise_bn(bns[name], mean, var)
        torch.testing.assert_close(bns[name].running_mean, mean)
    torch.testing.assert_close(model(x), ref)
    model.train()
    torch.testing.assert_close(model(x), ref)


def test_bn_input_moments_are_the_input_statistics():
    model = _model(True)
    batches = _batches(True)
    bns = {'4': model[4]}
    running = model[4].running_mean.clone()
    moments = bn_input_moments(model, bns, batches, _logits_fn)
    values, count = moments['4']
    inputs = torch.cat([model[:4](b[0]) for b in batches]).detach()
    flat = inputs.transpose(0, 1).flatten(1)
    mean, var = moments_to_mean_var(values, count)
    assert count == flat.shape[1]
    torch.testing.assert_close(mean, flat.mean(1))
    torch.testing.assert_close(var, flat.var(1, unbiased=False))
    assert torch.equal(model[4].running_mean, running)


@pytest.mark.parametrize('into', ['producer', 'affine'])
@pytest.mark.parametrize('conv', [False, True])
@pytest.mark.parametrize('curvature', ['kfac', 'xkfac', 'ewc'])
def test_curvature_follows_the_change_of_coordinates(conv, curvature, into):
    """Eval mode (examples independent): the factors re-expressed after
    folding and reparameterising equal the factors collected afresh on the
    merged network (same activations, gradients w.r.t. the new
    parameters)."""
    model = _model(conv)
    batches = _batches(conv)
    kwargs = dict(
        curvature=curvature, fisher='empirical', bn_curvature='unitwise')
    stats = collect_curvature(model, batches, _logits_fn, **kwargs)
    pairs = _pairs(model, batches)
    modules = dict(model.named_modules())
    for bn, producer in pairs.items():
        scale, jac = _fold(into, modules[producer], modules[bn])
        if scale is not None:
            stats[producer].scale_outputs(scale)
        stats[bn].transform_unit(jac)
    _assert_same(stats, collect_curvature(model, batches, _logits_fn,
                                          **kwargs), pairs)
    gen = torch.Generator().manual_seed(0)
    for bn in pairs:
        c = modules[bn].num_features
        mean = torch.randn(c, generator=gen, dtype=torch.double)
        var = torch.rand(c, generator=gen, dtype=torch.double) + 0.1
        stats[bn].transform_unit(reparameterise_bn(modules[bn], mean, var))
    _assert_same(stats, collect_curvature(model, batches, _logits_fn,
                                          **kwargs), pairs)


def _assert_same(transformed, fresh, pairs):
    assert set(transformed) == set(fresh)
    for name, stats in transformed.items():
        for field in ('a', 'mu', 'g', 'g_sum', 'diag', 'unit'):
            value = getattr(stats, field)
            if value is None:
                assert getattr(fresh[name], field) is None
                continue
            if field == 'diag' and name in pairs:
                continue  # a diagonal keeps only part of the 2x2 transform
            torch.testing.assert_close(
                value, getattr(fresh[name], field), msg=f'{name}.{field}')


def test_find_bn_pairs_rejects_shared_producers():

    class Shared(nn.Module):

        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 3)
            self.bn1 = nn.BatchNorm1d(3)
            self.bn2 = nn.BatchNorm1d(3)

        def forward(self, x):
            z = self.fc(x)
            return self.bn1(z) + self.bn2(z)

    model = Shared()
    with pytest.raises(ValueError, match='feed several batch norms'):
        find_bn_pairs(model, lambda: model(torch.randn(4, 3)))


def test_fold_requires_running_statistics():
    with pytest.raises(ValueError, match='track_running_stats'):
        fold_bn(nn.Linear(2, 2), nn.BatchNorm1d(2, track_running_stats=False))
    with pytest.raises(ValueError, match='affine=True'):
        fold_bn_into_affine(nn.BatchNorm1d(2, affine=False))


def test_fold_normalises_the_layer_and_keeps_gamma_out_of_it():
    """After folding statistics measured on some data, the merged layer's
    outputs on that data have unit variance whatever gamma is (the mean
    goes to beta; a near-zero gamma must not shrink the weights, or
    re-expressed curvature would blow up over repeated merges)."""
    torch.manual_seed(0)
    fc, bn = nn.Linear(4, 3).double(), nn.BatchNorm1d(3, momentum=None)
    bn = bn.double()
    x = torch.randn(64, 4, dtype=torch.double) * 3 + 2
    bn(fc(x))  # cumulative average over one batch: the data's statistics
    with torch.no_grad():
        bn.weight.copy_(torch.tensor([1e-4, 1.0, -2.0]))
    # the running variance is unbiased; the batch normalisation is not
    bn.running_var.mul_(63 / 64)
    scale, _ = fold_bn(fc, bn)
    z = fc(x).detach()
    torch.testing.assert_close(
        z.var(0, unbiased=False),
        torch.ones(3, dtype=z.dtype),
        rtol=1e-4,
        atol=1e-4)
    assert scale.max() <= 1 / bn.eps**0.5
