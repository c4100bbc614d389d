# Copyright (c) mmdl contributors. All rights reserved.
"""ContinualPoisoner and FunctionalVictim on tiny permuted-digits models."""
import numpy as np
import pytest
import torch
from mmengine.registry import DefaultScope

from mmdl.attacks import (ContinualPoisoner, FunctionalVictim,
                          functional_logits, images_to_tensor, quantise_poison,
                          tensor_to_float_images)
from mmdl.continual.regularizers import EWCRegularizer, L2Regularizer
from mmdl.datasets import PermutedDigits
from mmdl.registry import ATTACKS, MODELS


def tiny_model(hidden=8, head=None, act='Tanh', norm=None):
    """A ContinualImageClassifier MLP 64-hidden-10 on digits."""
    head = head or dict(
        type='LinearClsHead', num_classes=10, in_channels=hidden)
    cfg = dict(
        type='mmdl.ContinualImageClassifier',
        _scope_='mmpretrain',
        data_preprocessor=dict(
            num_classes=10, mean=[77.9], std=[95.9], to_rgb=False),
        backbone=dict(
            type='mmdl.MLP',
            in_features=64,
            hidden=(hidden, ),
            norm_cfg=norm,
            act_cfg=dict(type=act)),
        head=head)
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmdl'):
        return MODELS.build(cfg)


def task_data(task, num):
    dataset = PermutedDigits(split='train', task_id=task, indices=num)
    images = np.stack([dataset.get_data_info(i)['img'] for i in range(num)])
    labels = np.array(
        [dataset.get_data_info(i)['gt_label'] for i in range(num)])
    return images, labels


def test_registered():
    poisoner = ATTACKS.build(dict(type='ContinualPoisoner', eps=0.1, steps=4))
    assert isinstance(poisoner, ContinualPoisoner)
    assert poisoner.step_size == pytest.approx(0.1)
    with pytest.raises(ValueError, match='mode'):
        ContinualPoisoner(mode='nope')
    with pytest.raises(ValueError, match='poison_ratio'):
        ContinualPoisoner(poison_ratio=0)


def test_penalty_inside_functional_call():
    """The regulariser at substituted parameters equals the regulariser of
    a model holding them; the model's own parameters are untouched."""
    model = tiny_model()
    reg = EWCRegularizer(fisher='empirical')
    images, labels = task_data(0, 32)
    x = images_to_tensor(images)
    batches = [(x, torch.from_numpy(labels))]
    victim = FunctionalVictim(model)

    def logits_fn(m, batch):
        return victim.logits(dict(m.named_parameters()), batch[0], 0), batch[1]

    reg.consolidate(model, batches, logits_fn)
    victim = FunctionalVictim(model, [(reg, 2.0)])
    params = victim.initial_params()
    assert float(victim.penalty(params)) == 0.0  # at the anchor
    moved = {n: p + 0.01 * torch.randn_like(p) for n, p in params.items()}
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    value = victim.penalty(moved)
    with torch.no_grad():
        for n, p in model.named_parameters():
            p.copy_(moved[n])
    assert float(value.detach()) == pytest.approx(
        2.0 * float(reg(model).detach()), rel=1e-5)
    assert float(value) > 0
    with torch.no_grad():
        for n, p in model.named_parameters():
            p.copy_(before[n])
    leaves = {n: p.requires_grad_() for n, p in moved.items()}
    grads = torch.autograd.grad(
        victim.penalty(leaves), list(leaves.values()), allow_unused=True)
    assert any(g is not None and g.abs().sum() > 0 for g in grads)


def test_logits_match_the_model_and_select_the_head():
    model = tiny_model(
        head=dict(
            type='mmdl.MultiTaskLinearClsHead',
            num_tasks=3,
            num_classes=10,
            in_channels=8))
    model.eval()
    images, _ = task_data(1, 5)
    x = images_to_tensor(images)
    params = dict(model.named_parameters())
    from mmpretrain.structures import DataSample
    batch = dict(
        inputs=list(torch.from_numpy(images).unsqueeze(1)),
        data_samples=[DataSample().set_field(2, 'task_id') for _ in x])
    data = model.data_preprocessor(batch, False)
    feats = model.extract_feat(data['inputs'])
    expected = model.head(feats, torch.full((5, ), 2))
    got = functional_logits(model, params, x, 2)
    assert torch.allclose(got, expected, atol=1e-5)
    assert not torch.allclose(functional_logits(model, params, x, 1), expected)


def poison_inputs(num=20, target=40):
    images, labels = task_data(2, num)
    t_images, t_labels = task_data(0, target)
    return (images, labels, images_to_tensor(images), torch.from_numpy(labels),
            images_to_tensor(t_images), torch.from_numpy(t_labels))


@pytest.mark.parametrize('mode',
                         ['trajectory', 'unrolled', 'gradient_matching'])
def test_budget_labels_and_ratio(mode):
    model = tiny_model()
    images, labels, x, y, tx, ty = poison_inputs()
    reg = L2Regularizer()
    reg.set_anchor(model)
    victim = FunctionalVictim(model, [(reg, 1.0)])
    state = {k: v.clone() for k, v in model.state_dict().items()}
    poisoner = ContinualPoisoner(
        eps=0.1,
        mode=mode,
        steps=3,
        unroll_steps=2,
        batch_size=8,
        target_batch_size=16,
        poison_ratio=0.5,
        progress=False)
    result = poisoner.poison(victim, x, y, 2, tx, ty, 0)
    assert len(result.indices) == 10
    mask = torch.zeros(20, dtype=torch.bool)
    mask[result.indices] = True
    change = (result.images - x).abs()
    assert float(change.max()) <= 0.1 + 1e-6
    assert result.images.min() >= 0 and result.images.max() <= 1
    assert torch.equal(result.images[~mask], x[~mask])  # bit-identical
    assert float(change[mask].max()) > 0.05
    # 3 batches of 8 (all hold poisoned samples here) x 3 steps; the
    # trajectory mode optimises all of them at once
    batches = {int(i) // 8 for i in result.indices}
    assert result.gradient_evaluations == 3 * (mode == 'trajectory'
                                               or len(batches))
    assert result.seconds > 0 and len(result.history) == 3
    for k, v in model.state_dict().items():  # the victim is untouched
        assert torch.equal(v, state[k]), k
    # quantised: within floor(255 eps) levels, clean samples bit-identical
    q = quantise_poison(images, tensor_to_float_images(result.images, (8, 8)),
                        0.1, mask.numpy())
    diff = np.abs(q.astype(int) - images.astype(int))
    assert diff.max() <= 25 and diff.max() > 0
    assert np.array_equal(q[~mask.numpy()], images[~mask.numpy()])
    # same seed, same poison
    again = poisoner.poison(victim, x, y, 2, tx, ty, 0)
    assert torch.equal(again.images, result.images)
    assert y.tolist() == labels.tolist()


def test_unrolled_gradient_matches_finite_differences():
    """d objective / d delta of the unrolled mode (3 SGD steps through an
    EWC-like quadratic penalty) against central differences, float64."""
    torch.manual_seed(0)
    model = tiny_model(hidden=6).double()
    images, labels, x, y, tx, ty = poison_inputs(num=4, target=6)
    x, tx = x.double()[:4], tx.double()
    reg = L2Regularizer()
    reg.set_anchor(model)
    # move the anchor so that the quadratic pulls from the first step on
    reg.anchors = {
        n: a + 0.1 * torch.randn_like(a)
        for n, a in reg.anchors.items()
    }
    victim = FunctionalVictim(model, [(reg, 3.0)], task_weight=0.5)
    poisoner = ContinualPoisoner(
        eps=0.1, unroll_steps=3, inner_lr=0.5, objective='cautious')
    params = victim.initial_params()
    target = (tx, ty, 0)
    delta = (0.05 * torch.randn_like(x)).requires_grad_()
    loss = poisoner.attack_loss(victim, params, x, delta, y, 2, target)
    grad, = torch.autograd.grad(loss, delta)
    h = 1e-6
    coords = [(0, 0, 0, 0), (1, 0, 3, 5), (2, 0, 7, 7), (3, 0, 4, 2)]
    for c in coords:
        plus, minus = delta.detach().clone(), delta.detach().clone()
        plus[c] += h
        minus[c] -= h
        up = poisoner.attack_loss(victim, params, x, plus, y, 2, target)
        down = poisoner.attack_loss(victim, params, x, minus, y, 2, target)
        fd = (up - down).detach() / (2 * h)
        assert float(grad[c]) == pytest.approx(
            float(fd), rel=1e-5, abs=1e-9), c
    assert grad.abs().sum() > 0


def test_gradient_matching_objective_decreases():
    model = tiny_model(hidden=16)
    _, _, x, y, tx, ty = poison_inputs(num=16, target=32)
    reg = L2Regularizer()
    reg.set_anchor(model)
    victim = FunctionalVictim(model, [(reg, 1.0)])
    poisoner = ContinualPoisoner(
        eps=0.3,
        mode='gradient_matching',
        steps=25,
        batch_size=16,
        target_batch_size=32,
        progress=False)
    result = poisoner.poison(victim, x, y, 2, tx, ty, 0)
    history = result.history
    assert history[-1] < history[0] - 0.05, history
    assert min(history[-5:]) < min(history[:5])


def test_needs_batch_regularizer_refused():

    class Distill:
        needs_batch = True

        def __call__(self, model, **batch):
            return 0

    with pytest.raises(ValueError, match='need the current batch'):
        FunctionalVictim(tiny_model(), [(Distill(), 1.0)])
