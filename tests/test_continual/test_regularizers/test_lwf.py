# Copyright (c) mmdl contributors. All rights reserved.
"""LwFRegularizer and soft_target_kl against a hand-written KL with
temperature."""
import math

import torch
from mmpretrain.structures import DataSample

from mmdl.continual.distillation import soft_target_kl
from mmdl.registry import MODELS, REGULARIZERS


def _kl(teacher, student, t):
    """T^2 mean_n sum_c p_c (log p_c - log q_c), p = softmax(teacher / T)."""
    total = 0.0
    for z_old, z in zip(teacher.tolist(), student.tolist()):
        e_old = [math.exp(v / t) for v in z_old]
        e_new = [math.exp(v / t) for v in z]
        p = [v / sum(e_old) for v in e_old]
        q = [v / sum(e_new) for v in e_new]
        total += sum(pc * math.log(pc / qc) for pc, qc in zip(p, q))
    return t * t * total / len(teacher)


def test_soft_target_kl():
    generator = torch.Generator().manual_seed(0)
    student = torch.randn(5, 4, generator=generator, dtype=torch.float64)
    teacher = torch.randn(5, 4, generator=generator, dtype=torch.float64)
    for t in (1.0, 2.0, 4.0):
        assert abs(soft_target_kl(student, teacher, t).item() -
                   _kl(teacher, student, t)) < 1e-9
    assert soft_target_kl(student, student, 2.0).abs().item() < 1e-12


def _classifier():
    return MODELS.build(
        dict(
            type='mmdl.ContinualImageClassifier',
            _scope_='mmpretrain',
            backbone=dict(type='mmdl.MLP', in_features=6, hidden=(5, )),
            head=dict(
                type='mmdl.MultiTaskLinearClsHead',
                num_tasks=3,
                num_classes=[2, 3, 4],
                in_channels=5))).double()


def test_lwf_distils_every_old_head_of_the_snapshot():
    generator = torch.Generator().manual_seed(1)
    model = _classifier()
    lwf = REGULARIZERS.build(dict(type='LwFRegularizer', temperature=3.0))
    x = torch.randn(4, 6, generator=generator, dtype=torch.float64)
    assert lwf(model, inputs=x).item() == 0  # nothing consolidated yet
    model.eval()
    with torch.no_grad():
        old = [model.head.fcs[j](model.extract_feat(x)[-1]) for j in (0, 1)]
    lwf.consolidate(model)
    lwf.consolidate(model)  # after tasks 0 and 1: two old heads
    with torch.no_grad():  # the model moves on
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=generator) * 0.3)
    model.train()
    new = [model.head.fcs[j](model.extract_feat(x)[-1]) for j in (0, 1)]
    expected = _kl(old[0], new[0], 3.0) + _kl(old[1], new[1], 3.0)
    assert abs(lwf(model, inputs=x).item() - expected) < 1e-9
    # through the classifier's loss, with the batch's features
    model.set_regularizers([lwf])
    samples = [
        DataSample(task_id=2).set_gt_label(i % 4) for i in range(len(x))
    ]
    losses = model.loss(x, samples)
    assert abs(losses['loss_penalty'].item() - expected) < 1e-9
    # state for checkpoints, restored into a fresh regulariser
    restored = REGULARIZERS.build(
        dict(type='LwFRegularizer', temperature=3.0))
    restored.load_state_dict(lwf.state_dict())
    assert abs(restored(model, inputs=x).item() - expected) < 1e-9
