# Copyright (c) mmdl contributors. All rights reserved.
"""ArchSearchClassifier: the architecture and weight updates of a search
step against gradients computed here with autograd, the second-order
gradient against the exact unrolled derivative, warm-up, the derived
network and errors."""
import copy

import pytest
import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub
from mmengine.optim import OptimWrapper, OptimWrapperDict
from mmpretrain.structures import DataSample
from torch.func import functional_call

from mmdl.models.algorithms.nas import unrolled_arch_gradients
from mmdl.registry import MODELS


def _build(mode='single_edge', **kwargs):
    torch.manual_seed(0)
    model = MODELS.build(
        dict(
            type='mmdl.ArchSearchClassifier',
            classifier=dict(
                type='ImageClassifier',
                _scope_='mmpretrain',
                data_preprocessor=dict(
                    type='ClsDataPreprocessor', mean=[0.0], std=[1.0]),
                backbone=dict(
                    type='mmdl.SingleEdgeDARTS',
                    mode=mode,
                    num_layers=3,
                    base_channels=4,
                    in_channels=1),
                neck=dict(type='GlobalAveragePooling'),
                head=dict(type='LinearClsHead', num_classes=3,
                          in_channels=64)),
            **kwargs))
    for p in model.arch_parameters():  # distinct operations per edge
        torch.nn.init.normal_(p, std=0.5)
    return model


def _batch(n, seed):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 1, 8, 8, generator=gen)
    y = torch.randint(0, 3, (n, ), generator=gen)
    return dict(
        inputs=list(x),
        data_samples=[DataSample().set_gt_label(int(v)) for v in y]), x, y


def _optim(model, arch_lr=1.0, lr=0.1, momentum=0.0):
    arch = model.arch_parameters()
    ids = {id(p) for p in arch}
    weights = [p for p in model.parameters() if id(p) not in ids]
    return OptimWrapperDict(
        architecture=OptimWrapper(torch.optim.SGD(arch, lr=arch_lr)),
        network=OptimWrapper(
            torch.optim.SGD(weights, lr=lr, momentum=momentum)))


def _loss(model, x, y, plan):
    with model.search_space.using_plan(plan):
        feats = model.classifier.backbone(x)
    logits = model.classifier.head.fc(feats[-1].mean((2, 3)))
    return F.cross_entropy(logits, y)


def _step_plan(model, step, progress=0.0):
    """The draws of search step ``step``: the generator seeded by the
    model's seed and the step, the edge, then the plan."""
    gen = torch.Generator().manual_seed(model.seed * 1000003 + step)
    edge = model.search_space.sample_edge(step, gen)
    return gen, edge


@pytest.mark.parametrize('mode', ['single_edge', 'darts'])
def test_first_order_step(mode):
    model = _build(mode)
    ref = copy.deepcopy(model)
    (weight_batch, xw, yw), (arch_batch, xa, ya) = _batch(6, 1), _batch(6, 2)
    model.train_step(dict(weight_batch, arch=arch_batch), _optim(model))
    assert int(model.search_step) == 1

    # the architecture update: the gradient of the architecture batch's
    # loss at the weights before the step
    space = ref.search_space
    gen, edge = _step_plan(ref, 0)
    edge = edge if mode == 'single_edge' else None
    plan = space.build_plan(edge, gen, 0.0)
    arch = ref.arch_parameters()
    grads = torch.autograd.grad(
        _loss(ref, xa, ya, plan), arch, allow_unused=True)
    for p, q, g in zip(ref.arch_parameters(), model.arch_parameters(), grads):
        expected = p if g is None else p - g
        assert torch.allclose(q, expected, atol=1e-6)
    if mode == 'single_edge':
        moved = [
            i for i, (p, q) in enumerate(
                zip(ref.arch_parameters(), model.arch_parameters()))
            if not torch.equal(p, q)
        ]
        assert moved == [space.edge_types.index(edge)]

    # the weight update: plan rebuilt from the updated parameters, same
    # edge, gradient of the weight batch's loss (the architecture step ran
    # the architecture batch through batch norm in training mode first)
    with torch.no_grad():
        for p, q in zip(ref.arch_parameters(), model.arch_parameters()):
            p.copy_(q)
    with space.using_plan(plan):  # running statistics as in the step
        ref.classifier.backbone(xa)
    plan = space.build_plan(edge, gen, 0.0)
    names = [n for n, p in ref.named_parameters() if 'alphas' not in n]
    params = [p for n, p in ref.named_parameters() if 'alphas' not in n]
    grads = torch.autograd.grad(
        _loss(ref, xw, yw, plan), params, allow_unused=True)
    after = dict(model.named_parameters())
    for name, p, g in zip(names, params, grads):
        expected = p if g is None else p - 0.1 * g
        assert torch.allclose(after[name], expected, atol=1e-6), name
    assert any(g is None for g in grads) == (mode == 'single_edge')


def test_adam_moves_only_the_sampled_edge():
    model = _build()
    arch = model.arch_parameters()
    optim = OptimWrapperDict(
        architecture=OptimWrapper(
            torch.optim.Adam(arch, lr=0.01, weight_decay=1e-3)),
        network=_optim(model)['network'])
    data = dict(_batch(6, 1)[0], arch=_batch(6, 2)[0])
    moved = set()
    for step in range(4):
        before = [p.detach().clone() for p in arch]
        _, edge = _step_plan(model, step)
        model.train_step(data, optim)
        changed = {
            i
            for i, (p, q) in enumerate(zip(before, arch))
            if not torch.equal(p, q)
        }
        # neither stale moments nor weight decay move the other edges
        assert changed == {model.search_space.edge_types.index(edge)}
        moved |= changed
    assert len(moved) >= 2


def _exact_unrolled(model, train, val, xi, mu, wd, buffers):
    """d/da L_val(w'(a), a) with w' = w - xi (mu b + grad_w L_train + wd w)
    differentiated through the virtual step (create_graph)."""
    names = [n for n, _ in model.named_parameters() if 'alphas' not in n]
    weights = [p for n, p in model.named_parameters() if 'alphas' not in n]
    arch = model.arch_parameters()

    def loss(values, batch):
        x, y = batch
        out = functional_call(
            model.classifier.backbone, {
                n[len('classifier.backbone.'):]: v
                for n, v in zip(names, values)
                if n.startswith('classifier.backbone.')
            }, (x, ))
        fc = {n: v for n, v in zip(names, values) if 'head' in n}
        logits = F.linear(out[-1].mean(
            (2, 3)), fc['classifier.head.fc.weight'],
                          fc['classifier.head.fc.bias'])
        return F.cross_entropy(logits, y)

    grads = torch.autograd.grad(
        loss(weights, train), weights, create_graph=True)
    unrolled = [
        w - xi * (mu * buffers[n] + g + wd * w)
        for n, w, g in zip(names, weights, grads)
    ]
    return torch.autograd.grad(loss(unrolled, val), arch)


def test_second_order_matches_the_exact_unrolled_gradient():
    model = _build('darts').double()
    (train, xt, yt), (val, xv, yv) = _batch(6, 3), _batch(6, 4)
    xt, xv = xt.double(), xv.double()
    weights = [p for n, p in model.named_parameters() if 'alphas' not in n]
    optimizer = torch.optim.SGD(
        weights, lr=0.05, momentum=0.9, weight_decay=3e-3)
    # a momentum buffer from a first step
    for p in weights:
        p.grad = torch.randn_like(p) * 0.1
    optimizer.step()
    buffers = {
        n: optimizer.state[p]['momentum_buffer']
        for n, p in model.named_parameters() if 'alphas' not in n
    }
    space = model.search_space
    plan = space.build_plan()

    def preprocess(batch):
        return model.data_preprocessor(
            dict(
                inputs=[x.double() for x in batch['inputs']],
                data_samples=batch['data_samples']), True)

    with space.using_plan(plan):
        grads, val_loss = unrolled_arch_gradients(
            model.classifier,
            lambda m, t, b: sum(v for k, v in functional_call(
                m,
                t, (b['inputs'], b['data_samples']),
                dict(mode='loss'),
                strict=False).items() if 'loss' in k),
            preprocess(train),
            preprocess(val),
            model.arch_parameters(),
            optimizer,
            radius=1e-6)
        exact = _exact_unrolled(model, (xt, yt), (xv, yv), 0.05, 0.9, 3e-3,
                                buffers)
    fd = torch.cat([g.reshape(-1) for g in grads])
    ref = torch.cat([g.reshape(-1) for g in exact])
    assert torch.allclose(fd, ref, rtol=1e-4, atol=1e-6 * ref.abs().max())
    # the second-order term is not negligible here: first order differs
    first = torch.autograd.grad(
        _loss(model, xv, yv, space.build_plan()), model.arch_parameters())
    first = torch.cat([g.reshape(-1) for g in first])
    assert not torch.allclose(first, ref, rtol=1e-3)
    assert val_loss.ndim == 0


def test_second_order_step_runs_and_leaves_statistics():
    model = _build(unrolled=True)
    optim = _optim(model, momentum=0.9)
    data = dict(_batch(6, 1)[0], arch=_batch(6, 2)[0])
    logs = model.train_step(data, optim)
    assert {'loss', 'arch_loss'} <= set(logs)
    logs = model.train_step(data, optim)  # now with momentum buffers
    assert torch.isfinite(logs['arch_loss'])


def test_warmup_freezes_the_architecture():
    model = _build(warmup_epochs=2)
    before = [p.detach().clone() for p in model.arch_parameters()]
    hub = MessageHub.get_instance('search_warmup_test')
    hub.update_info('epoch', 1)
    data = dict(_batch(6, 1)[0], arch=_batch(6, 2)[0])
    logs = model.train_step(data, _optim(model))
    assert 'arch_loss' not in logs
    assert all(
        torch.equal(p, q) for p, q in zip(before, model.arch_parameters()))
    hub.update_info('epoch', 2)
    logs = model.train_step(data, _optim(model))
    assert 'arch_loss' in logs


def test_derived_evaluation():
    model = _build('darts').eval()
    batch, x, _ = _batch(5, 7)
    data = model.data_preprocessor(batch, False)
    derived = model.derived_classifier().eval()
    expected = derived(data['inputs'], mode='tensor')
    one_shot = model(data['inputs'], mode='tensor')
    model.eval_network = 'derived'
    assert torch.equal(model(data['inputs'], mode='tensor'), expected)
    assert not torch.allclose(one_shot, expected)
    preds = model.val_step(batch)
    assert len(preds) == 5 and 'pred_label' in preds[0]


def test_errors():
    model = _build()
    data = dict(_batch(4, 1)[0], arch=_batch(4, 2)[0])
    with pytest.raises(TypeError, match="optimisers \\['architecture'"):
        model.train_step(
            data, OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1)))
    with pytest.raises(KeyError, match='PairedEpochBasedTrainLoop'):
        model.train_step(_batch(4, 1)[0], _optim(model))
    with pytest.raises(ValueError, match='eval_network'):
        _build(eval_network='best')
    with pytest.raises(TypeError, match='must be a search space'):
        MODELS.build(
            dict(
                type='mmdl.ArchSearchClassifier',
                classifier=dict(
                    type='ImageClassifier',
                    _scope_='mmpretrain',
                    backbone=dict(type='LeNet5', num_classes=3),
                    head=dict(type='ClsHead'))))
