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
    # first non-zero values initialise the running scales: both terms -> 1
    out = objective(None, dict(loss=torch.tensor(4.0)), torch.tensor(0.0))
    assert out['loss'].item() == pytest.approx(1.0)
    out = objective(None, dict(loss=torch.tensor(4.0)), torch.tensor(20.0))
    assert out['loss_penalty'].item() == pytest.approx(1.0)
    # EMA with momentum 0.5: task scale (4 + 8) / 2 = 6
    out = objective(None, dict(loss=torch.tensor(8.0)), torch.tensor(20.0))
    assert out['loss'].item() == pytest.approx(8.0 / 6.0)
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
