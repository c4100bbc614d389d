# Copyright (c) mmdl contributors. All rights reserved.
import pytest
import torch

from mmdl.continual import ContinualObjective


def test_task_counting_weights():
    objective = ContinualObjective()
    losses = dict(loss=torch.tensor(2.0), accuracy=torch.tensor(0.5))
    objective.num_old_tasks = 0
    out = objective(None, losses, torch.tensor(0.0))
    assert out['loss'].item() == 2.0 and out['loss_penalty'].item() == 0.0
    assert out['accuracy'].item() == 0.5  # not a loss: not scaled
    objective.num_old_tasks = 3  # T = 3 old tasks: 3/4 and 1/4
    out = objective(None, losses, torch.tensor(8.0))
    assert out['loss'].item() == pytest.approx(2.0 / 4)
    assert out['loss_penalty'].item() == pytest.approx(8.0 * 3 / 4)
    plain = ContinualObjective(task_weighting=False, penalty_weight=10.0)
    plain.num_old_tasks = 3
    out = plain(None, losses, torch.tensor(8.0))
    assert out['loss'].item() == 2.0 and out['loss_penalty'].item() == 80.0


def test_adaptive_scaling_normalises_both_terms():
    objective = ContinualObjective(
        task_weighting=False, adaptive_scaling=True, momentum=0.5)
    objective.num_old_tasks = 1
    # the first task loss initialises its scale: the task term -> 1
    out = objective(None, dict(loss=torch.tensor(4.0)), torch.tensor(0.0))
    assert out['loss'].item() == pytest.approx(1.0)
    assert objective.ema_penalty is None
    # the first non-zero penalty starts from the task scale (4), then the
    # EMA follows it: (4 + 1e-6) / 2, not 1e-6 (which would scale by 1e6)
    out = objective(None, dict(loss=torch.tensor(4.0)), torch.tensor(1e-6))
    assert objective.ema_penalty == pytest.approx((4.0 + 1e-6) / 2)
    assert out['loss_penalty'].item() == pytest.approx(1e-6 / 2.0, rel=1e-5)
    # EMA with momentum 0.5: task scale (4 + 8) / 2 = 6
    out = objective(None, dict(loss=torch.tensor(8.0)), torch.tensor(2.0))
    assert out['loss'].item() == pytest.approx(8.0 / 6.0)
    assert out['loss_penalty'].item() == pytest.approx(2.0 / (1.0 + 1.0))
    # the scales are constants: no gradient flows through them
    x = torch.tensor(3.0, requires_grad=True)
    out = objective(None, dict(loss=x * 1.0), torch.tensor(20.0))
    out['loss'].backward()
    assert x.grad.item() == pytest.approx(1.0 / objective.ema_task)
    state = objective.state_dict()
    other = ContinualObjective()
    other.load_state_dict(state)
    assert other.state_dict() == state


def test_damping_term():
    calls = []
    objective = ContinualObjective(
        damping=0.1, damping_fn=lambda m: calls.append(m) or torch.tensor(5.))
    out = objective('model', dict(loss=torch.tensor(1.0)), torch.tensor(0.0))
    assert out['loss_damping'].item() == pytest.approx(0.5)
    assert calls == ['model']
