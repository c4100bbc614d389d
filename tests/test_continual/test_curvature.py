# Copyright (c) mmdl contributors. All rights reserved.
"""Curvature factors and the EWC/K-FAC/XK-FAC penalties against
brute-force references."""
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mmdl.continual import (KroneckerQuadratic, LayerCurvature,
                            collect_curvature, flat_weight)
from mmdl.continual.regularizers import (EWCRegularizer, KFACRegularizer,
                                         XKFACRegularizer)


def _logits_fn(model, batch):
    x, y = batch
    return model(x), y


def _batches(num, size, dim, classes, seed=0, shift=0.0, image=False):
    gen = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(num):
        shape = (size, dim, 5, 5) if image else (size, dim)
        x = torch.randn(*shape, generator=gen, dtype=torch.double) + shift
        y = torch.randint(classes, (size, ), generator=gen)
        out.append((x, y))
    return out


def _vec(matrix):
    """Column-stacking vec (the convention of A kron G)."""
    return matrix.T.reshape(-1)


def test_kfac_factors_equal_per_example_expectations_linear():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3)).double()
    batches = _batches(3, 6, 4, 3, shift=1.0)
    stats = collect_curvature(
        model, batches, _logits_fn, curvature='xkfac', fisher='empirical')
    # brute force, one example at a time (no batch norm: examples are
    # independent, g_n of the batch loss = gradient of l_n)
    for index, name in ((0, '0'), (2, '2')):
        layer = model[index]
        a_sum, g_sum, mu_sum, gs_sum, count = 0, 0, 0, 0, 0
        for x, y in batches:
            batch_g = 0
            for n in range(x.shape[0]):
                acts = {}
                handle = layer.register_forward_hook(
                    lambda m, i, o: acts.update(a=i[0], s=o))
                loss = F.cross_entropy(model(x[n:n + 1]), y[n:n + 1])
                handle.remove()
                g = torch.autograd.grad(loss, acts['s'])[0][0]
                a = torch.cat([acts['a'][0], torch.ones(1, dtype=x.dtype)])
                a_sum = a_sum + torch.outer(a, a)
                mu_sum = mu_sum + a
                g_sum = g_sum + torch.outer(g, g)
                batch_g = batch_g + g
                count += 1
            gs_sum = gs_sum + torch.outer(batch_g, batch_g)
        s = stats[name]
        torch.testing.assert_close(s.a, a_sum / count)
        torch.testing.assert_close(s.mu, mu_sum / count)
        torch.testing.assert_close(s.g, g_sum / count)
        torch.testing.assert_close(s.g_sum, gs_sum / count)
        assert s.num_examples == 18 and s.num_batches == 3


def test_kfac_factors_equal_per_example_expectations_conv():
    torch.manual_seed(0)
    conv = nn.Conv2d(2, 3, 3, padding=1, stride=2)
    model = nn.Sequential(conv, nn.ReLU(), nn.Flatten(),
                          nn.Linear(27, 4)).double()
    batches = _batches(2, 4, 2, 4, image=True)
    stats = collect_curvature(
        model, batches, _logits_fn, curvature='xkfac', fisher='empirical')
    a_sum, g_sum, count, locations = 0, 0, 0, 9
    gs_sum, mu_sum = 0, 0
    for x, y in batches:
        batch_g = 0
        for n in range(x.shape[0]):
            acts = {}
            handle = conv.register_forward_hook(
                lambda m, i, o: acts.update(a=i[0], s=o))
            loss = F.cross_entropy(model(x[n:n + 1]), y[n:n + 1])
            handle.remove()
            g = torch.autograd.grad(loss, acts['s'])[0][0]  # (3, 3, 3)
            # patches by explicit slicing of the padded input
            padded = F.pad(acts['a'][0], (1, 1, 1, 1))
            for i in range(3):
                for j in range(3):
                    patch = padded[:, 2 * i:2 * i + 3, 2 * j:2 * j + 3]
                    a = torch.cat(
                        [patch.reshape(-1),
                         torch.ones(1, dtype=x.dtype)])
                    a_sum = a_sum + torch.outer(a, a)
                    mu_sum = mu_sum + a
                    g_sum = g_sum + torch.outer(g[:, i, j], g[:, i, j])
                    batch_g = batch_g + g[:, i, j]
            count += 1
        gs_sum = gs_sum + torch.outer(batch_g, batch_g)
    s = stats['0']
    torch.testing.assert_close(s.a, a_sum / count)  # sum over locations
    torch.testing.assert_close(s.g, g_sum / count / locations)
    torch.testing.assert_close(s.mu, mu_sum / count / locations**0.5)
    torch.testing.assert_close(s.g_sum, gs_sum / count / locations)


def test_ewc_diagonal_equals_per_example_squared_gradients():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(2, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(27,
                                                               4)).double()
    batches = _batches(2, 5, 2, 4, image=True)
    stats = collect_curvature(
        model, batches, _logits_fn, curvature='ewc', fisher='empirical')
    squares = {'0': 0, '3': 0}
    for x, y in batches:
        for n in range(x.shape[0]):
            loss = F.cross_entropy(model(x[n:n + 1]), y[n:n + 1])
            for name in squares:
                layer = dict(model.named_modules())[name]
                gw, gb = torch.autograd.grad(
                    loss, [layer.weight, layer.bias], retain_graph=True)
                flat = torch.cat([gw.flatten(1), gb[:, None]], 1)
                squares[name] = squares[name] + flat**2
    for name, value in squares.items():
        torch.testing.assert_close(stats[name].diag, value / 10)


def _bn_model():
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6,
                                                                 3)).double()


def test_xkfac_is_closer_to_the_exact_batch_fisher_with_train_mode_bn():
    model = _bn_model().train()
    batches = _batches(300, 8, 4, 3, seed=1, shift=2.0)
    stats = collect_curvature(
        model, batches, _logits_fn, curvature='xkfac', fisher='empirical')
    layer = model[0]
    # exact Fisher of the batch gradient, averaged over batches, per example
    exact = 0
    for x, y in batches:
        loss = F.cross_entropy(model(x), y, reduction='sum')
        gw, gb = torch.autograd.grad(loss, [layer.weight, layer.bias])
        v = _vec(torch.cat([gw, gb[:, None]], 1))
        exact = exact + torch.outer(v, v)
    exact = exact / (300 * 8)
    s = stats['0']
    # batch norm right after the layer: sum_n g_n = 0 exactly
    assert s.g_sum.abs().max() < 1e-10 * s.g.abs().max()
    kfac = torch.kron(s.a, s.g)
    centred = s.a - torch.outer(s.mu, s.mu)
    xkfac = torch.kron(centred, s.g) + torch.kron(
        torch.outer(s.mu, s.mu), s.g_sum)
    gen = torch.Generator().manual_seed(0)
    directions = torch.randn(
        200, exact.shape[0], generator=gen, dtype=torch.double)

    def rel_error(approx):
        q_exact = torch.einsum('ki,ij,kj->k', directions, exact, directions)
        q = torch.einsum('ki,ij,kj->k', directions, approx, directions)
        return ((q - q_exact).abs() / q_exact).mean().item()

    err_kfac, err_xkfac = rel_error(kfac), rel_error(xkfac)
    assert err_xkfac < err_kfac
    assert err_xkfac < 0.5 * err_kfac  # the shift makes mu large


def test_penalty_trace_identity_equals_explicit_kronecker_form():
    gen = torch.Generator().manual_seed(0)

    def psd(n):
        m = torch.randn(n, n, generator=gen, dtype=torch.double)
        return m @ m.T

    factors = [
        LayerCurvature(
            a=psd(5),
            mu=torch.randn(5, generator=gen, dtype=torch.double) * 0.3,
            g=psd(3),
            g_sum=psd(3)) for _ in range(2)
    ]
    delta = torch.randn(
        3, 5, generator=gen, dtype=torch.double, requires_grad=True)
    for xkfac in (False, True):
        value = KroneckerQuadratic.apply(delta, factors, xkfac)
        explicit = 0
        for f in factors:
            if xkfac:
                mm = torch.outer(f.mu, f.mu)
                matrix = torch.kron(f.a - mm, f.g) + torch.kron(mm, f.g_sum)
            else:
                matrix = torch.kron(f.a, f.g)
            explicit = explicit + 0.5 * _vec(delta) @ matrix @ _vec(delta)
        torch.testing.assert_close(value, explicit)
        grad, = torch.autograd.grad(value, delta)
        grad_ref, = torch.autograd.grad(explicit, delta)
        torch.testing.assert_close(grad, grad_ref)
    assert torch.autograd.gradcheck(
        lambda d: KroneckerQuadratic.apply(d, factors, True), (delta, ))


@pytest.mark.parametrize('penalty_cls,curvature', [(KFACRegularizer, 'kfac'),
                                                   (XKFACRegularizer, 'xkfac'),
                                                   (EWCRegularizer, 'ewc')])
def test_penalty_zero_at_anchor_positive_elsewhere(penalty_cls, curvature):
    model = _bn_model().train()
    batches = _batches(5, 8, 4, 3, shift=1.0)
    penalty = penalty_cls()
    penalty.set_anchor(model)
    penalty.add_task(
        collect_curvature(model, batches, _logits_fn, curvature=curvature))
    assert penalty(model).item() == 0.0
    gen = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1 * torch.randn(p.shape, generator=gen, dtype=p.dtype))
    value = penalty(model)
    assert value.item() > 0
    value.backward()
    assert model[0].weight.grad.abs().sum() > 0
    # state round trip
    other = penalty_cls()
    other.load_state_dict(penalty.state_dict())
    torch.testing.assert_close(other(model), value.detach())


def test_collection_leaves_model_state_alone():
    model = _bn_model().train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    collect_curvature(model, _batches(3, 8, 4, 3), _logits_fn)
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert all(p.grad is None for p in model.parameters())


def test_true_fisher_is_reproducible_with_a_generator():
    model = _bn_model().train()
    batches = _batches(3, 8, 4, 3)
    first = collect_curvature(
        model, batches, _logits_fn,
        generator=torch.Generator().manual_seed(5))['3']
    second = collect_curvature(
        model, batches, _logits_fn,
        generator=torch.Generator().manual_seed(5))['3']
    torch.testing.assert_close(first.g, second.g)


def test_flat_weight_and_errors():
    layer = nn.Conv2d(2, 3, 3)
    assert flat_weight(layer).shape == (3, 19)
    with pytest.raises(ValueError, match='curvature'):
        collect_curvature(layer, [], _logits_fn, curvature='diag')
    with pytest.raises(ValueError, match='fisher'):
        collect_curvature(layer, [], _logits_fn, fisher='mc')
