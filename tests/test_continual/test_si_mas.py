# Copyright (c) mmdl contributors. All rights reserved.
"""SI and MAS regularisers: path integrals and importances against explicit
hand computations, the penalty, eval-mode importance without touching the
batch-norm statistics, checkpoint states, the per-step events driven by
RegularizerHook and short runs through tools/train.py."""
import copy
from types import SimpleNamespace

import pytest
import torch
from conftest import finish_train, start_train, toy_sequence_config
from mmengine.optim import OptimWrapper
from torch import nn

from mmdl.continual import ContinualObjective
from mmdl.continual.regularizers import (BaseRegularizer, MASRegularizer,
                                         SIRegularizer)
from mmdl.engine.hooks import RegularizerHook
from mmdl.engine.runner.checkpoint import load_checkpoint_file
from mmdl.registry import REGULARIZERS

XI = 0.1


def _data(seed, num=6, size=5):
    gen = torch.Generator().manual_seed(seed)
    return [(torch.randn(size, 3, generator=gen, dtype=torch.double),
             torch.randint(2, (size, ), generator=gen)) for _ in range(num)]


def _linear():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 2)).double()


def _task_loss(model, batch):
    x, y = batch
    return nn.functional.cross_entropy(model(x), y)


def _hand_task(model, opt, batches, si, c, gradient):
    """Train one task by hand; return omega = -sum g . dtheta with g the
    task loss's gradient (``'task'``) or the total loss's (``'total'``),
    computed here with separate autograd calls."""
    params = dict(model.named_parameters())
    omega = {n: torch.zeros_like(p) for n, p in params.items()}
    for batch in batches:
        task = _task_loss(model, batch)
        g_task = torch.autograd.grad(
            task, list(params.values()), retain_graph=True)
        total = task + c * si(model)
        opt.zero_grad()
        total.backward()
        g_total = [p.grad.clone() for p in params.values()]
        before = {n: p.detach().clone() for n, p in params.items()}
        si.before_step(model)
        opt.step()
        si.after_step(model)
        for (name, p), gt, gl in zip(params.items(), g_task, g_total):
            g = gt if gradient == 'task' else gl
            omega[name] -= g * (p.detach() - before[name])
    return omega


@pytest.mark.parametrize('gradient', ['task', 'total'])
def test_si_path_integral_importance_and_penalty(gradient):
    model = _linear()
    si = SIRegularizer(xi=XI, gradient=gradient)
    c = 0.7
    importance = {n: 0 for n, _ in model.named_parameters()}
    for task in range(2):
        # momentum: omega differs from lr * sum g^2
        opt = torch.optim.SGD(model.parameters(), lr=0.3, momentum=0.5)
        start = {n: p.detach().clone() for n, p in model.named_parameters()}
        omega = _hand_task(model, opt, _data(task), si, c, gradient)
        for name, value in omega.items():
            torch.testing.assert_close(si.path_integral[name], value)
        si.consolidate(model)
        assert si.path_integral == {} and si.task_start == {}
        for name, p in model.named_parameters():
            delta = p.detach() - start[name]
            importance[name] = importance[name] + omega[name] / (
                delta * delta + XI)
            torch.testing.assert_close(si.importance[name], importance[name])
            torch.testing.assert_close(si.anchors[name], p.detach())
        # zero value and zero gradient at the anchor
        value = si(model)
        assert value.item() == 0.0
        if value.requires_grad:
            grads = torch.autograd.grad(value, list(model.parameters()))
            assert all(torch.count_nonzero(g) == 0 for g in grads)
    assert si.num_tasks == 2
    # the penalty away from the anchor, and c * penalty through the objective
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.25)
    expected = sum((importance[n] * (p.detach() - si.anchors[n])**2).sum()
                   for n, p in model.named_parameters())
    assert si(model).item() == pytest.approx(expected.item())
    objective = ContinualObjective(penalty_weight=c, task_weighting=False)
    losses = objective(model, dict(loss=torch.zeros(())), si(model))
    assert losses['loss_penalty'].item() == pytest.approx(c * expected.item())


def test_si_task_gradient_differs_from_total():
    """With a penalty on, 'task' and 'total' integrate different paths'
    gradients (the check above would pass trivially otherwise)."""
    results = {}
    for gradient in ('task', 'total'):
        model = _linear()
        si = SIRegularizer(gradient=gradient)
        for task in range(2):
            opt = torch.optim.SGD(model.parameters(), lr=0.3)
            _hand_task(model, opt, _data(task), si, 5.0, gradient)
            if task == 0:
                si.consolidate(model)
        results[gradient] = si.path_integral['0.weight']
    assert not torch.allclose(results['task'], results['total'])


def test_si_driven_by_regularizer_hook_and_state_round_trip():
    """RegularizerHook registers step hooks on the current optimiser (again
    after it is rebuilt); mmengine's update_params zeroes .grad after the
    step, yet SI sees the gradient; resuming mid-task from the state
    continues the same path integral."""
    model = _linear()
    hook = RegularizerHook(regularizer=dict(type='SIRegularizer'))
    si = hook.regularizer
    reference = SIRegularizer()
    ref_model = copy.deepcopy(model)
    ref_opt = torch.optim.SGD(ref_model.parameters(), lr=0.2)
    runner = SimpleNamespace(
        model=model,
        optim_wrapper=OptimWrapper(
            torch.optim.SGD(model.parameters(), lr=0.2)))
    batches = _data(3)
    for index, batch in enumerate(batches):
        if index == 3:  # a task start rebuilds the optimiser
            old = runner.optim_wrapper.optimizer
            runner.optim_wrapper = OptimWrapper(
                torch.optim.SGD(model.parameters(), lr=0.2))
        hook.before_train_iter(runner, index)
        runner.optim_wrapper.update_params(_task_loss(model, batch))
        assert all(p.grad is None or not p.grad.any()
                   for p in model.parameters())
        _hand_task(ref_model, ref_opt, [batch], reference, 0.0, 'task')
    assert not old._optimizer_step_pre_hooks  # unhooked when replaced
    for name in reference.path_integral:
        torch.testing.assert_close(si.path_integral[name],
                                   reference.path_integral[name])
    # mid-task checkpoint: omega and theta(start) travel in the state
    state = copy.deepcopy(si.state_dict())
    assert set(state) == {
        'importance', 'anchors', 'num_tasks', 'path_integral', 'task_start'
    }
    resumed = SIRegularizer()
    resumed.load_state_dict(state)
    more = _data(4, num=2)
    models = [copy.deepcopy(model) for _ in range(2)]
    for reg, m in zip((si, resumed), models):
        opt = torch.optim.SGD(m.parameters(), lr=0.2)
        _hand_task(m, opt, more, reg, 0.0, 'task')
        reg.consolidate(m)
    for name in si.importance:
        torch.testing.assert_close(si.importance[name],
                                   resumed.importance[name])
    hook.after_train(runner)
    assert not runner.optim_wrapper.optimizer._optimizer_step_pre_hooks
    assert not runner.optim_wrapper.optimizer._optimizer_step_post_hooks
    with pytest.raises(KeyError, match='task_start'):
        SIRegularizer().load_state_dict({
            k: v
            for k, v in state.items() if k != 'task_start'
        })


def test_registry_and_arguments():
    si = REGULARIZERS.build(dict(type='SIRegularizer'))
    mas = REGULARIZERS.build(dict(type='MASRegularizer', per_sample=False))
    assert isinstance(si, SIRegularizer) and si.observes_steps
    assert (si.xi, si.gradient) == (0.1, 'task')
    assert isinstance(mas, MASRegularizer) and not mas.observes_steps
    assert not BaseRegularizer.observes_steps
    for bad in (dict(xi=0), dict(gradient='penalty')):
        with pytest.raises(ValueError, match=list(bad)[0]):
            SIRegularizer(**bad)
    for bad in (dict(accumulate='max'), dict(max_batches=0)):
        with pytest.raises(ValueError, match=list(bad)[0]):
            MASRegularizer(**bad)
    with pytest.raises(ValueError, match='batches'):
        MASRegularizer().consolidate(nn.Linear(2, 2))


# ----------------------------------------------------------------------
# MAS
# ----------------------------------------------------------------------
def _bn_model(conv):
    torch.manual_seed(0)
    if conv:
        model = nn.Sequential(
            nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.Tanh(),
            nn.Dropout(0.5), nn.Flatten(), nn.Linear(3 * 4 * 4, 3))
        shape = (2, 4, 4)
    else:
        model = nn.Sequential(
            nn.Linear(4, 5), nn.BatchNorm1d(5), nn.Tanh(), nn.Dropout(0.5),
            nn.Linear(5, 3))
        shape = (4, )
    model = model.double().train()
    with torch.no_grad():  # non-trivial running statistics and gamma/beta
        for _ in range(3):
            model(torch.randn(8, *shape, dtype=torch.double) * 2 + 1)
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
    gen = torch.Generator().manual_seed(1)
    batches = [(torch.randn(6, *shape, generator=gen, dtype=torch.double),
                torch.zeros(6, dtype=torch.long)) for _ in range(3)]
    return model, batches


def _logits_fn(model, batch):
    return model(batch[0]), batch[1]


def _hand_mas(model, batches, per_sample):
    """Mean over samples of |d ||f(x)||^2 / d theta| by an explicit loop
    (per sample), or the batch approximation, in eval mode."""
    model = copy.deepcopy(model).eval()
    params = dict(model.named_parameters())
    sums = {n: torch.zeros_like(p) for n, p in params.items()}
    count = 0
    for x, _ in batches:
        if per_sample:
            for xn in x:
                out = model(xn[None])
                grads = torch.autograd.grad((out**2).sum(),
                                            list(params.values()))
                for name, g in zip(params, grads):
                    sums[name] += g.abs()
        else:
            out = model(x)
            grads = torch.autograd.grad((out**2).sum(1).mean(),
                                        list(params.values()))
            for name, g in zip(params, grads):
                sums[name] += len(x) * g.abs()
        count += len(x)
    return {n: s / count for n, s in sums.items()}


@pytest.mark.parametrize('conv', [False, True])
@pytest.mark.parametrize('per_sample', [True, False])
def test_mas_importance_eval_mode_and_bn_statistics(conv, per_sample):
    model, batches = _bn_model(conv)
    model[0].eval()  # a mixed mode is restored module by module
    modes = {n: m.training for n, m in model.named_modules()}
    buffers = {n: b.clone() for n, b in model.named_buffers()}
    mas = MASRegularizer(per_sample=per_sample, include_bn=True)
    mas.consolidate(model, batches, _logits_fn)
    assert {n: m.training for n, m in model.named_modules()} == modes
    for name, value in model.named_buffers():  # running stats, counters
        assert torch.equal(value, buffers[name]), name
    expected = _hand_mas(model, batches, per_sample)
    assert set(mas.importance) == set(expected)  # incl. BN gamma/beta
    for name, value in expected.items():
        torch.testing.assert_close(mas.importance[name], value)
    # dropout off: a second consolidation adds exactly the same importance
    again = MASRegularizer(per_sample=per_sample, include_bn=True)
    again.consolidate(model, batches, _logits_fn)
    for name, value in mas.importance.items():
        assert torch.equal(again.importance[name], value)
    for p in model.parameters():
        assert p.grad is None


def test_mas_accumulation_penalty_and_state():
    model, batches = _bn_model(False)
    first = _hand_mas(model, batches, True)
    first_two = _hand_mas(model, batches[:2], True)
    summed = MASRegularizer()  # Linear layers only by default
    averaged = MASRegularizer(accumulate='mean', max_batches=2)
    summed.consolidate(model, batches, _logits_fn)
    averaged.consolidate(model, batches, _logits_fn)
    assert set(
        summed.importance) == {'0.weight', '0.bias', '4.weight', '4.bias'}
    assert summed(model).item() == 0.0
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1)
    second = _hand_mas(model, batches, True)
    second_two = _hand_mas(model, batches[:2], True)
    summed.consolidate(model, batches, _logits_fn)
    averaged.consolidate(model, batches, _logits_fn)
    for name in summed.importance:
        torch.testing.assert_close(summed.importance[name],
                                   first[name] + second[name])
    assert summed.num_tasks == averaged.num_tasks == 2
    # 'mean': (task 0 + task 1) / 2, each over the first 2 batches
    for name in averaged.importance:
        torch.testing.assert_close(averaged.importance[name],
                                   (first_two[name] + second_two[name]) / 2)
    # penalty by hand, and a state round trip
    with torch.no_grad():
        model[4].weight.add_(0.3)
    params = dict(model.named_parameters())
    expected = sum((summed.importance[n] *
                    (params[n].detach() - summed.anchors[n])**2).sum()
                   for n in summed.importance)
    assert summed(model).item() == pytest.approx(expected.item())
    restored = MASRegularizer()
    restored.load_state_dict(copy.deepcopy(summed.state_dict()))
    assert restored(model).item() == pytest.approx(expected.item())
    assert restored.num_tasks == 2
    with pytest.raises(KeyError, match='num_tasks'):
        MASRegularizer().load_state_dict(dict(importance={}, anchors={}))


# ----------------------------------------------------------------------
# end to end through tools/train.py
# ----------------------------------------------------------------------
def _config_text(regularizer):
    hooks = [
        'dict(type=\'RegularizerHook\', regularizer=dict(type='
        f'{regularizer!r}, include_bn=True), penalty_weight=1.0, '
        'task_weighting=False)'
    ]
    return toy_sequence_config(
        hooks,
        'num_tasks=2, max_epochs=[2, 1]',
        num_train=64,
        logger_interval=1,
        param_scheduler=False)


@pytest.mark.slow
def test_si_and_mas_runs_and_si_resumes_mid_task(tmp_path):
    """2 tasks (2 and 1 epochs): the penalty appears in task 1; SI resumed from
    the checkpoint in the middle of task 0 (its running omega in the
    checkpoint) ends with the uninterrupted run's weights and state."""
    runs = {
        name: start_train(tmp_path, name, _config_text(reg))
        for name, reg in (('si', 'SIRegularizer'), ('mas', 'MASRegularizer'))
    }
    logs = {name: finish_train(p) for name, p in runs.items()}
    for name, log in logs.items():
        assert 'loss_penalty' in log, name
        assert 'penalty installed for 1 old task(s)' in log, name
    mid = load_checkpoint_file(str(tmp_path / 'si' / 'epoch_1.pth'))
    state = mid['regularizer_hook']['regularizer']
    assert state['num_tasks'] == 0 and state['path_integral']
    assert state['task_start']
    # the last checkpoint comes before task 1's 'after_task'
    final = load_checkpoint_file(str(tmp_path / 'si' / 'epoch_3.pth'))
    assert final['regularizer_hook']['regularizer']['num_tasks'] == 1
    mas_final = load_checkpoint_file(str(tmp_path / 'mas' / 'epoch_3.pth'))
    assert mas_final['regularizer_hook']['regularizer']['num_tasks'] == 1
    finish_train(
        start_train(
            tmp_path,
            'si_resumed',
            _config_text('SIRegularizer'),
            resume=tmp_path / 'si' / 'epoch_1.pth'))
    resumed = load_checkpoint_file(
        str(tmp_path / 'si_resumed' / 'epoch_3.pth'))
    for key, value in final['state_dict'].items():
        assert torch.equal(value, resumed['state_dict'][key]), key
    ours = resumed['regularizer_hook']['regularizer']
    theirs = final['regularizer_hook']['regularizer']
    for part in ('importance', 'anchors', 'path_integral', 'task_start'):
        assert set(ours[part]) == set(theirs[part]) != set(), part
        for key, value in theirs[part].items():
            assert torch.equal(value, ours[part][key]), (part, key)
