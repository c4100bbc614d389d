# Copyright (c) mmdl contributors. All rights reserved.
"""ResCLWrapper on mmpretrain and mmdl backbones: exact merge into the
unwrapped classifier, the modes' trainable parameters and the loss."""
import math

import pytest
import torch
from mmpretrain.structures import DataSample
from torch.nn.modules.batchnorm import _BatchNorm

from mmdl.registry import MODELS

BACKBONES = {
    'ResNet_CIFAR':
    (dict(type='ResNet_CIFAR', depth=18), 512, (3, 16, 16)),
    'ResNet': (dict(type='ResNet', depth=18), 512, (3, 32, 32)),
    'PreActResNet': (dict(type='mmdl.PreActResNet', depth=20), 64,
                     (3, 16, 16)),
    'WideResNet': (dict(type='mmdl.WideResNet', depth=10,
                        widen_factor=1), 64, (3, 16, 16)),
    'MLP': (dict(type='mmdl.MLP', in_features=64,
                 hidden=(24, 16)), 16, (1, 8, 8)),
}


def _classifier(name, num_tasks=2):
    backbone, width, _ = BACKBONES[name]
    return dict(
        type='mmdl.ContinualImageClassifier',
        _scope_='mmpretrain',
        backbone=backbone,
        neck=None if name == 'MLP' else dict(type='GlobalAveragePooling'),
        head=dict(
            type='mmdl.MultiTaskLinearClsHead',
            num_tasks=num_tasks,
            num_classes=[3, 5, 4][:num_tasks],
            in_channels=width))


def _wrapper(name, **kwargs):
    kwargs.setdefault('input_shape', BACKBONES[name][2])
    return MODELS.build(
        dict(
            type='mmdl.ResCLWrapper',
            classifier=_classifier(name, kwargs.pop('num_tasks', 2)),
            **kwargs))


@torch.no_grad()
def _randomise(wrapper, generator):
    for unit in wrapper.units:
        for module in list(unit.source.modules()) + list(
                unit.target.modules()):
            if isinstance(module, _BatchNorm):
                c = module.num_features
                module.running_mean.copy_(torch.randn(c, generator=generator))
                module.running_var.copy_(
                    torch.rand(c, generator=generator) + 0.5)
                module.weight.copy_(torch.randn(c, generator=generator))
                module.bias.copy_(torch.randn(c, generator=generator) * 0.1)
            elif hasattr(module, 'weight') and module.weight is not None:
                module.weight.copy_(
                    torch.randn(module.weight.shape, generator=generator) /
                    math.sqrt(module.weight[0].numel()))
        unit.alpha_source.copy_(
            torch.rand(unit.alpha_source.shape, generator=generator) - 1)
        unit.alpha_target.copy_(
            torch.rand(unit.alpha_target.shape, generator=generator))


@pytest.mark.parametrize('name', sorted(BACKBONES))
def test_merged_classifier_equals_the_combination(name):
    generator = torch.Generator().manual_seed(0)
    wrapper = _wrapper(name).double()
    _randomise(wrapper, generator)
    wrapper.set_mode('combined')
    wrapper.current_task = 1
    wrapper.eval()
    plain = MODELS.build(_classifier(name)).double().eval()
    state = wrapper.plain_state_dict('combined')
    # the unwrapped model's names and parameter count
    assert {k: v.shape
            for k, v in state.items()
            } == {k: v.shape
                  for k, v in plain.state_dict().items()}
    plain.load_state_dict(state)
    plain.current_task = 1
    x = torch.randn(3, *BACKBONES[name][2], generator=generator).double()
    with torch.no_grad():
        combined, merged = wrapper(x), plain(x)
    assert (merged - combined).abs().max() <= 1e-10 * max(
        1.0, float(combined.abs().max()))
    # pre-activation nets hold standalone batch norms
    kinds = {spec.kind for _, spec in wrapper.unit_specs}
    assert ('norm' in kinds) == (name in ('PreActResNet', 'WideResNet'))


def _trainable(wrapper):
    return {n for n, p in wrapper.named_parameters() if p.requires_grad}


def test_modes_train_their_parameters():
    wrapper = _wrapper('MLP', num_tasks=3)
    names = {n for n, _ in wrapper.named_parameters()}
    source = {n for n in names if '.source.' in n or 'head.fcs' in n}
    assert _trainable(wrapper) == source  # task 0 trains the source
    wrapper.begin_task(2)
    head = {n for n in names if 'head.fcs.2.' in n}
    target = {n for n in names if '.target.' in n}
    alpha = {n for n in names if '.alpha_' in n}
    assert _trainable(wrapper) == target | head
    wrapper.begin_combination({j: torch.zeros(1, 4) for j in range(3)})
    assert _trainable(wrapper) == target | head | alpha
    assert all(not u.source.norm.training for u in wrapper.units)
    frozen = _wrapper('MLP', num_tasks=3, train_target=False)
    frozen.begin_task(1)
    frozen.begin_combination({j: torch.zeros(1, 4) for j in range(2)})
    assert _trainable(frozen) == {
        n.replace('fcs.2.', 'fcs.1.')
        for n in head
    } | alpha


def _kl(teacher, student, t):
    p = torch.softmax(teacher / t, 1)
    return t * t * (p * (torch.log(p) - torch.log_softmax(student / t, 1))
                    ).sum(1).mean()


def test_combination_loss_against_a_hand_written_objective():
    generator = torch.Generator().manual_seed(1)
    wrapper = _wrapper('MLP', num_tasks=3, l1_weight=0.3,
                       weight_decay=0.01, temperature=3.0).double()
    wrapper.begin_task(2)
    table = {
        j: torch.randn(10, c, generator=generator).double()
        for j, c in enumerate([3, 5, 4])
    }
    wrapper.begin_combination(table)
    x = torch.randn(4, 1, 8, 8, generator=generator).double()
    samples = [DataSample(sample_idx=i) for i in (7, 2, 9, 0)]
    losses = wrapper.loss(x, samples)
    feats = wrapper.classifier.extract_feat(x)[-1]
    fcs = wrapper.classifier.head.fcs
    index = torch.tensor([7, 2, 9, 0])
    expected_target = _kl(table[2][index], fcs[2](feats), 3.0)
    expected_source = sum(
        _kl(table[j][index], fcs[j](feats), 3.0) for j in (0, 1))
    l1 = sum(u.alpha_source.abs().sum() + u.alpha_target.abs().sum()
             for u in wrapper.units)
    decay = sum((p**2).sum() for u in wrapper.units
                for p in u.target.parameters()) + sum(
                    (p**2).sum() for p in fcs[2].parameters())
    torch.testing.assert_close(losses['loss_distill_target'],
                               expected_target)
    torch.testing.assert_close(losses['loss_distill_source'],
                               expected_source)
    torch.testing.assert_close(losses['loss_alpha_l1'], 0.3 * l1)
    torch.testing.assert_close(losses['loss_weight_decay'],
                               0.5 * 0.01 * decay)


def test_recorded_soft_targets_are_the_networks_outputs():
    generator = torch.Generator().manual_seed(2)
    wrapper = _wrapper('MLP')
    _randomise(wrapper, generator)
    wrapper.begin_task(1)
    x = torch.randn(6, 1, 8, 8, generator=generator)
    batches = [
        dict(inputs=list(x[i:i + 3]),
             data_samples=[DataSample(sample_idx=j) for j in idx])
        for i, idx in ((0, (5, 1, 3)), (3, (0, 2, 4)))
    ]
    table = wrapper.record_soft_targets(batches, 6)
    plain = MODELS.build(_classifier('MLP')).eval()
    order = torch.tensor([5, 1, 3, 0, 2, 4])
    for j, mode in ((0, 'source'), (1, 'target')):
        plain.load_state_dict(wrapper.plain_state_dict(mode))
        with torch.no_grad():  # the same batches (same float rounding)
            expected = torch.cat([
                plain.head.task_logits(plain.extract_feat(x[i:i + 3]), j)
                for i in (0, 3)
            ])
        torch.testing.assert_close(table[j][order], expected)
    with pytest.raises(ValueError, match='2 of 8 samples were not seen'):
        wrapper.record_soft_targets(batches, 8)


def test_bad_configurations_are_named():
    with pytest.raises(TypeError, match='multi-head classifier'):
        MODELS.build(
            dict(
                type='mmdl.ResCLWrapper',
                classifier=dict(
                    _classifier('MLP'),
                    head=dict(
                        type='LinearClsHead', num_classes=3,
                        in_channels=16)),
                input_shape=(1, 8, 8)))
    with pytest.raises(ValueError, match=r'input of shape \(2, 3, 8, 8\)'):
        _wrapper('MLP', input_shape=(3, 8, 8))
    with pytest.raises(ValueError, match='soft_targets'):
        _wrapper('MLP', soft_targets='later')
    with pytest.raises(ValueError, match='task 2: the head has 2'):
        _wrapper('MLP').begin_task(2)


def test_source_checkpoint_of_the_unwrapped_classifier(tmp_path):
    generator = torch.Generator().manual_seed(3)
    plain = MODELS.build(_classifier('PreActResNet'))
    with torch.no_grad():
        for p in plain.parameters():
            p.copy_(torch.randn(p.shape, generator=generator))
    path = tmp_path / 'plain.pth'
    torch.save(dict(state_dict=plain.state_dict()), path)
    wrapper = _wrapper('PreActResNet', source_checkpoint=str(path))
    wrapper.init_weights()
    for mode in ('source', 'target'):
        state = wrapper.plain_state_dict(mode)
        for key, value in plain.state_dict().items():
            assert torch.equal(state[key], value), (mode, key)
    # wrapped_state_dict is the inverse of plain_state_dict
    assert set(wrapper.wrapped_state_dict(plain.state_dict())) < set(
        wrapper.state_dict())


def test_lwf_style_fine_tuning_distils_the_source_heads():
    generator = torch.Generator().manual_seed(4)
    wrapper = _wrapper('MLP', num_tasks=3, finetune_distill_weight=0.5,
                       temperature=2.0).double()
    _randomise(wrapper, generator)
    wrapper.begin_task(2)
    with torch.no_grad():  # the target copy moves away from the source
        for unit in wrapper.units:
            for p in unit.target.parameters():
                p.add_(torch.randn(p.shape, generator=generator) * 0.2)
    x = torch.randn(5, 1, 8, 8, generator=generator).double()
    samples = [DataSample(task_id=2).set_gt_label(i % 4) for i in range(5)]
    loss = wrapper.loss(x, samples)['loss_distill_finetune']
    plain = MODELS.build(_classifier('MLP', 3)).double().eval()
    logits = {}
    for mode in ('source', 'target'):
        plain.load_state_dict(wrapper.plain_state_dict(mode))
        plain.train(mode == 'target')  # the student trains: batch statistics
        with torch.no_grad():
            feats = plain.extract_feat(x)
            logits[mode] = [plain.head.task_logits(feats, j) for j in (0, 1)]
    expected = 0.5 * sum(
        _kl(logits['source'][j], logits['target'][j], 2.0) for j in (0, 1))
    torch.testing.assert_close(loss.detach(), expected)
