# Copyright (c) mmdl contributors. All rights reserved.
"""The simulated victim training of the trajectory mode against real
``torch.optim`` training, finite differences and a brute-force margin."""
import copy

import pytest
import torch
import torch.nn.functional as F
from test_continual_poisoner import poison_inputs, tiny_model

from mmdl.attacks import (BatchNormTracker, ContinualPoisoner,
                          FunctionalVictim, VictimOptimizer, epoch_batches,
                          simulate_training, target_term, trajectory_objective)
from mmdl.continual.regularizers import L2Regularizer

BN = dict(type='BN1d')


def reference_logits(model, x):
    """The classifier by hand: the preprocessor's normalisation, the
    backbone and the head's linear layer."""
    return model.head(model.extract_feat((x * 255.0 - 77.9) / 95.9))


@pytest.mark.parametrize('optimizer', [
    dict(type='Adam', lr=0.01, weight_decay=1e-3),
    dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-3),
    dict(type='mmpretrain.SGD', lr=0.1),
])
def test_simulation_matches_torch_training(optimizer):
    """Parameters, batch-norm running statistics and eval-mode logits after
    4 steps equal those of the model trained by torch.optim (float64)."""
    model = tiny_model(hidden=6, norm=BN).double()
    _, _, x, y, tx, _ = poison_inputs(num=12, target=8)
    x, tx = x.double(), tx.double()
    batches = epoch_batches(12, 5, 2, torch.Generator().manual_seed(0))
    assert [len(b) for b in batches] == [5, 5, 2, 5, 5, 2][:len(batches)]
    batches = batches[:4]

    reference = copy.deepcopy(model).train()
    kind = optimizer['type'].split('.')[-1]
    options = {k: v for k, v in optimizer.items() if k != 'type'}
    torch_opt = getattr(torch.optim, kind)(reference.parameters(), **options)
    for index in batches:
        torch_opt.zero_grad()
        F.cross_entropy(reference_logits(reference, x[index]),
                        y[index]).backward()
        torch_opt.step()

    before = {k: v.clone() for k, v in model.state_dict().items()}
    victim = FunctionalVictim(model)
    tracker = BatchNormTracker(model)
    theta = simulate_training(victim, victim.initial_params(), x,
                              y, 2, batches,
                              VictimOptimizer.from_config(optimizer), tracker)
    for name, p in reference.named_parameters():
        assert torch.allclose(theta[name], p, atol=1e-10), name
    for name, layer in reference.named_modules():
        if isinstance(layer, torch.nn.BatchNorm1d):
            mean, var = tracker.stats[name]
            assert torch.allclose(mean, layer.running_mean, atol=1e-12)
            assert torch.allclose(var, layer.running_var, atol=1e-12)
    reference.eval()
    with tracker.evaluating():
        logits = victim.logits(theta, tx, 0, train_mode=False)
    assert torch.allclose(logits, reference_logits(reference, tx), atol=1e-10)
    # the model itself is untouched: parameters and running statistics
    for name, value in model.state_dict().items():
        assert torch.equal(value, before[name]), name
        assert not torch.equal(value, reference.state_dict()[name]), name


def test_trajectory_gradient_matches_finite_differences():
    """d objective / d delta through 3 Adam steps with batch norm (its
    tracked statistics included) and a quadratic penalty, against central
    differences, float64."""
    torch.manual_seed(0)
    model = tiny_model(hidden=5, norm=BN).double()
    _, _, x, y, tx, ty = poison_inputs(num=8, target=6)
    x, tx = x.double(), tx.double()
    reg = L2Regularizer()
    reg.set_anchor(model)
    reg.anchors = {
        n: a + 0.1 * torch.randn_like(a)
        for n, a in reg.anchors.items()
    }
    victim = FunctionalVictim(model, [(reg, 2.0)])
    tracker = BatchNormTracker(model)
    params = victim.initial_params()
    batches = [torch.tensor([0, 3, 5, 6]), torch.tensor([1, 2, 4, 7])] * 2
    batches = batches[:3]
    optimizer = VictimOptimizer(type='adam', lr=0.05)
    clean = torch.tensor([1, 4, 6])

    def objective(delta):
        return trajectory_objective(
            victim,
            params,
            x,
            delta,
            y,
            2, (tx, ty, 0),
            batches,
            optimizer,
            tracker,
            clean_index=clean,
            w_cur=0.7,
            target_loss='ce')

    delta = (0.05 * torch.randn_like(x)).requires_grad_()
    grad, = torch.autograd.grad(objective(delta), delta)
    h = 1e-6
    for c in [(0, 0, 2, 3), (3, 0, 5, 5), (6, 0, 4, 1), (7, 0, 6, 2)]:
        plus, minus = delta.detach().clone(), delta.detach().clone()
        plus[c] += h
        minus[c] -= h
        fd = (objective(plus) - objective(minus)).detach() / (2 * h)
        assert float(grad[c]) == pytest.approx(
            float(fd), rel=1e-5, abs=1e-9), c
    assert grad.abs().sum() > 0


def test_margin_target_term_brute_force():
    torch.manual_seed(1)
    logits = torch.randn(7, 4) * 3
    labels = torch.tensor([0, 1, 2, 3, 0, 1, 2])
    total = 0.0
    for row, label in zip(logits.tolist(), labels.tolist()):
        best_other = max(v for j, v in enumerate(row) if j != label)
        total += max(row[label] - best_other, -1.5)
    assert float(target_term(logits, labels, 'margin', 1.5)) == pytest.approx(
        total / 7, rel=1e-6)
    assert float(target_term(
        logits, labels,
        'ce')) == pytest.approx(-float(F.cross_entropy(logits, labels)))
    with pytest.raises(ValueError, match='target_loss'):
        target_term(logits, labels, 'nope')


def test_bad_inputs_refused():
    with pytest.raises(ValueError, match='Adam and SGD'):
        VictimOptimizer.from_config(dict(type='RMSprop', lr=0.1))
    with pytest.raises(ValueError, match='lr'):
        VictimOptimizer(lr=0)
    model = tiny_model(hidden=4, norm=BN)
    bn = next(m for m in model.modules()
              if isinstance(m, torch.nn.BatchNorm1d))
    bn.momentum = None  # cumulative average
    with pytest.raises(ValueError, match='momentum=None'):
        BatchNormTracker(model)
    with pytest.raises(ValueError, match='target_loss'):
        ContinualPoisoner(target_loss='hinge')
    with pytest.raises(ValueError, match='init'):
        ContinualPoisoner(init='gauss')
    with pytest.raises(TypeError, match='victim_optimizer'):
        ContinualPoisoner(victim_optimizer='adam')


def test_trajectory_attack_lowers_the_target_accuracy():
    """A tiny BN MLP that has learned task 0, then trained by Adam on
    task 2: the poison found through the simulated training makes it lose
    task 0 (accuracy by argmax, on a data order the attack never drew),
    where the clean task-2 data do not."""
    model = tiny_model(hidden=16, norm=BN)
    _, _, x, y, tx, ty = poison_inputs(num=48, target=48)
    trained = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(40):  # learn task 0 first (full batch)
        trained.zero_grad()
        F.cross_entropy(reference_logits(model, tx), ty).backward()
        trained.step()
    reg = L2Regularizer()
    reg.set_anchor(model)
    victim = FunctionalVictim(model, [(reg, 0.1)])
    optimizer = dict(type='Adam', lr=0.03)
    poisoner = ContinualPoisoner(
        eps=0.3,
        mode='trajectory',
        steps=10,
        batch_size=16,
        target_batch_size=48,
        victim_optimizer=optimizer,
        victim_epochs=2,
        objective='reckless',
        progress=False)
    result = poisoner.poison(victim, x, y, 2, tx, ty, 0)
    assert result.gradient_evaluations == 10 and len(result.history) == 10
    assert float((result.images - x).abs().max()) <= 0.3 + 1e-6

    def target_accuracy(images):
        tracker = BatchNormTracker(model)
        batches = epoch_batches(48, 16, 2, torch.Generator().manual_seed(5))
        theta = simulate_training(
            victim,
            victim.initial_params(),
            images,
            y,
            2,
            batches,
            VictimOptimizer.from_config(optimizer),
            tracker,
            create_graph=False)
        with torch.no_grad(), tracker.evaluating():
            logits = victim.logits(theta, tx, 0, train_mode=False)
        return float((logits.argmax(1) == ty).float().mean())

    assert target_accuracy(x) > 0.6
    assert target_accuracy(result.images) < target_accuracy(x) - 0.3


def test_keep_term_adds_the_other_tasks_loss():
    """With samples of another task to keep, the objective grows by w_keep
    times their cross-entropy on the trained victim (the same data order),
    and the per-batch modes refuse them."""
    model = tiny_model(hidden=6, norm=BN)
    _, _, x, y, tx, ty = poison_inputs(num=12, target=8)
    victim = FunctionalVictim(model)
    tracker = BatchNormTracker(model)
    batches = epoch_batches(12, 6, 1, torch.Generator().manual_seed(0))
    optimizer = VictimOptimizer(type='sgd', lr=0.1)
    delta = torch.zeros_like(x)
    kx, ky = tx[:5], ty[:5]

    def objective(keep):
        return float(
            trajectory_objective(
                victim,
                victim.initial_params(),
                x,
                delta,
                y,
                2, (tx, ty, 0),
                batches,
                optimizer,
                tracker,
                keep=keep,
                w_keep=0.5).detach())

    without = objective(())
    tracker.reset()
    theta = simulate_training(
        victim,
        victim.initial_params(),
        x,
        y,
        2,
        batches,
        optimizer,
        tracker,
        create_graph=False)
    with torch.no_grad(), tracker.evaluating():
        ce = F.cross_entropy(victim.logits(theta, kx, 1, train_mode=False), ky)
    assert objective([(kx, ky, 1)]) == pytest.approx(
        without + 0.5 * float(ce), rel=1e-5)
    with pytest.raises(ValueError, match='trajectory'):
        ContinualPoisoner(
            mode='unrolled', progress=False).poison(
                victim, x, y, 2, tx, ty, 0, keep=[(kx, ky, 1)])
    # the generator passes them on: the same seed, a different poison
    poisoner = ContinualPoisoner(
        eps=0.1,
        steps=2,
        batch_size=6,
        victim_optimizer=dict(type='SGD', lr=0.1),
        w_keep=50.0,
        progress=False)
    plain = poisoner.poison(victim, x, y, 2, tx, ty, 0)
    kept = poisoner.poison(victim, x, y, 2, tx, ty, 0, keep=[(kx, ky, 1)])
    assert not torch.equal(plain.images, kept.images)
