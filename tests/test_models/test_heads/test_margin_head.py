# Copyright (c) mmdl contributors. All rights reserved.
"""CombinedMarginHead: the loss against an independent computation
(ArcFace, CosFace, SphereFace-style, combined, ArcFace's fallback region),
against mmpretrain's ArcFaceClsHead, finite gradients at cos = +-1, Partial
FC sampling, arguments; the sharded head in 2 gloo processes
(margin_head_worker.py)."""
import math
import os.path as osp
import sys

import pytest
import torch
from conftest import run_tool
from margin_head_worker import (ARCFACE, COMBINED, COSFACE, SPHEREFACE,
                                make_data, reference_loss)
from mmengine.registry import DefaultScope
from mmpretrain.models.heads import ArcFaceClsHead
from mmpretrain.structures import DataSample

from mmdl.models.heads import (CombinedMarginHead, combined_margin_target,
                               ignore_sharded_centres_in_ddp, shard_range,
                               sharded_centre_names)
from mmdl.registry import MODELS

WORKER = osp.join(osp.dirname(__file__), 'margin_head_worker.py')
LABELS = torch.tensor([0, 3, 1, 4, 4, 2, 5, 0])


def _samples(labels):
    return [DataSample().set_gt_label(int(label)) for label in labels]


def _head_and_data(margins, scale=64.0, fallback=(1, 5), **kwargs):
    torch.manual_seed(0)
    head = CombinedMarginHead(
        6, 8, margins=margins, scale=scale, shard=False, **kwargs).double()
    emb = make_data(
        len(LABELS), 8, LABELS, head.weight.detach(), 1, fallback=fallback)
    return head, emb


@pytest.mark.parametrize('margins', [ARCFACE, COSFACE, SPHEREFACE, COMBINED])
def test_loss_and_gradients_match_reference(margins):
    scale = 64.0 if margins == ARCFACE else 30.0
    head, emb = _head_and_data(margins, scale)
    cosine = torch.nn.functional.normalize(emb) @ torch.nn.functional.\
        normalize(head.weight.detach()).t()
    target = cosine[torch.arange(len(LABELS)), LABELS]
    if margins[1]:  # the samples pointing away are in the fallback region
        assert (target[[1, 5]] < math.cos(math.pi - margins[1])).all()
    if margins == SPHEREFACE:  # 2 theta beyond pi for some samples
        assert (target < 0).any() and (target > 0).any()
    x = emb.clone().requires_grad_()
    loss = head.loss((x, ), _samples(LABELS))['loss']
    loss.backward()
    centres = head.weight.detach().clone().requires_grad_()
    x_ref = emb.clone().requires_grad_()
    ref = reference_loss(x_ref, centres, LABELS, margins, scale)
    ref.backward()
    torch.testing.assert_close(loss, ref, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(x.grad, x_ref.grad, rtol=1e-8, atol=1e-10)
    torch.testing.assert_close(
        head.weight.grad, centres.grad, rtol=1e-8, atol=1e-10)


def test_margin_function_is_continuous_and_decreasing():
    theta = torch.linspace(0, math.pi, 20001, dtype=torch.float64)
    for margins in (ARCFACE, COSFACE, SPHEREFACE, COMBINED, (4.0, 0.0, 0.0),
                    (1.35, 0.25, 0.1)):
        phi = combined_margin_target(torch.cos(theta), margins)
        steps = phi[1:] - phi[:-1]
        assert (steps <= 1e-12).all(), margins
        if margins[0] != 1:  # SphereFace's psi is continuous
            assert steps.abs().max() < 1e-3, margins
    # ArcFace: cos(theta + m) before pi - m, insightface's jump after
    m = 0.5
    cos = torch.tensor([math.cos(1.0), -0.95], dtype=torch.float64)
    torch.testing.assert_close(
        combined_margin_target(cos, ARCFACE),
        torch.tensor([math.cos(1.5), -0.95 - m * math.sin(math.pi - m)],
                     dtype=torch.float64))


def _mmpretrain_arcface(*args, **kwargs) -> ArcFaceClsHead:
    """mmpretrain's head, its loss module built in mmpretrain's scope
    (whatever default scope an earlier test of the worker left)."""
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return ArcFaceClsHead(*args, **kwargs)


def test_arcface_equals_mmpretrain_arcface_head():
    """Same definition as ArcFaceClsHead (easy_margin=False, the same
    threshold cos(pi - m) and fallback cos - m sin(pi - m)) wherever
    |cos| < 1; float32."""
    torch.manual_seed(0)
    ours = CombinedMarginHead(6, 8, shard=False)
    theirs = _mmpretrain_arcface(6, 8, scale=64.0, margins=0.5)
    with torch.no_grad():
        theirs.norm_product.weight.copy_(ours.weight)
    emb = make_data(
        len(LABELS), 8, LABELS,
        ours.weight.detach().double(), 1, (1, 5)).float()
    xs = [emb.clone().requires_grad_() for _ in range(2)]
    samples = _samples(LABELS)
    loss = ours.loss((xs[0], ), samples)['loss']
    expected = theirs.loss((xs[1], ), samples)['loss']
    torch.testing.assert_close(loss, expected)
    loss.backward()
    expected.backward()
    torch.testing.assert_close(xs[0].grad, xs[1].grad)
    torch.testing.assert_close(ours.weight.grad,
                               theirs.norm_product.weight.grad)
    # evaluation scores: scale * cosine, no margin
    torch.testing.assert_close(ours((emb, )), theirs((emb, )))
    scores = [s.pred_score for s in ours.predict((emb, ))]
    torch.testing.assert_close(
        torch.stack(scores),
        torch.stack([s.pred_score for s in theirs.predict((emb, ))]))


@pytest.mark.parametrize('margins', [ARCFACE, COSFACE, SPHEREFACE, COMBINED])
def test_finite_gradient_at_cosine_one(margins):
    """Embeddings exactly on their centre (cos = 1) and opposite another
    class's centre (cos = -1)."""
    head = CombinedMarginHead(4, 6, margins=margins, shard=False)
    with torch.no_grad():
        head.weight.copy_(torch.eye(4, 6))
    emb = torch.zeros(3, 6)
    emb[0, 0] = 3.0  # cos 1 with class 0 (target)
    emb[1, 1] = -2.0  # cos -1 with class 1 (target)
    emb[2, 2] = -1.0  # cos -1 with class 2, target class 3
    labels = torch.tensor([0, 1, 3])
    x = emb.clone().requires_grad_()
    loss = head.margin_loss(x, labels)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(x.grad).all()
    assert torch.isfinite(head.weight.grad).all()
    # the margin function itself, at exactly +-1 (no clamp before it)
    cos = torch.tensor([1.0, -1.0, 1.0, -1.0],
                       dtype=torch.float64).requires_grad_()
    combined_margin_target(cos, margins).sum().backward()
    assert torch.isfinite(cos.grad).all()
    if margins == ARCFACE:
        # mmpretrain's unclamped arccos: NaN gradients there
        theirs = _mmpretrain_arcface(4, 6)
        with torch.no_grad():
            theirs.norm_product.weight.copy_(head.weight)
        x = emb.clone().requires_grad_()
        theirs.loss((x, ), _samples(labels))['loss'].backward()
        assert not torch.isfinite(x.grad).all()


def test_forward_applies_margin_on_targets():
    head, emb = _head_and_data(ARCFACE, fallback=())
    plain = head((emb, ))
    marked = head((emb, ), LABELS)
    rows = torch.arange(len(LABELS))
    cos = plain[rows, LABELS] / 64
    torch.testing.assert_close(marked[rows, LABELS],
                               64 * torch.cos(torch.acos(cos) + 0.5))
    mask = torch.ones_like(plain, dtype=torch.bool)
    mask[rows, LABELS] = False
    torch.testing.assert_close(marked[mask], plain[mask])
    preds = head.predict((emb, ))
    assert preds[0].pred_score.shape == (6, )


def test_partial_fc_sampling():
    torch.manual_seed(0)
    head = CombinedMarginHead(
        20, 8, sample_rate=0.3, shard=False, sample_seed=11).double()
    assert head.num_sample == 6
    labels = torch.tensor([3, 17, 3, 9])
    emb = make_data(4, 8, labels, head.weight.detach(), 2)
    x = emb.clone().requires_grad_()
    loss = head.margin_loss(x, labels)
    loss.backward()
    used = head.last_sampled
    assert len(used) == 6 and {3, 9, 17} <= set(used.tolist())
    assert torch.equal(used, used.sort().values)
    centres = head.weight.detach().clone().requires_grad_()
    x_ref = emb.clone().requires_grad_()
    ref = reference_loss(x_ref, centres, labels, ARCFACE, 64.0, used.tolist())
    ref.backward()
    torch.testing.assert_close(loss, ref, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(x.grad, x_ref.grad)
    torch.testing.assert_close(head.weight.grad, centres.grad)
    unused = [c for c in range(20) if c not in used]
    assert (head.weight.grad[unused] == 0).all()
    # the negatives change from call to call, a seed repeats them
    draws = [head.sample_centres(labels).tolist() for _ in range(5)]
    assert len({tuple(d) for d in draws}) > 1
    again = CombinedMarginHead(20, 8, sample_rate=0.3, sample_seed=11)
    again.sample_centres(labels)
    assert [again.sample_centres(labels).tolist() for _ in range(5)] == draws
    # more positives than num_sample: exactly the positives
    labels = torch.tensor([0, 2, 4, 6, 8, 10, 12, 2])
    head.margin_loss(torch.randn(8, 8, dtype=torch.float64), labels)
    assert head.last_sampled.tolist() == [0, 2, 4, 6, 8, 10, 12]
    # tiny shards still use one centre
    assert CombinedMarginHead(3, 4, sample_rate=0.1).num_sample == 1


def test_loss_weight_registry_and_init():
    head = MODELS.build(
        dict(
            type='CombinedMarginHead',
            num_classes=50,
            in_channels=16,
            margins=COSFACE,
            loss_weight=0.25))
    assert not head.sharded and head.world_size == 1
    assert (head.class_start, head.class_end) == (0, 50)
    assert head.weight.shape == (50, 16)
    assert 0.008 < head.weight.std().item() < 0.012
    emb = torch.randn(4, 16)
    labels = torch.tensor([1, 2, 3, 4])
    full = CombinedMarginHead(50, 16, margins=COSFACE)
    with torch.no_grad():
        full.weight.copy_(head.weight)
    torch.testing.assert_close(
        head.margin_loss(emb, labels), 0.25 * full.margin_loss(emb, labels))
    torch.manual_seed(3)
    first = CombinedMarginHead(5, 4).weight
    torch.manual_seed(3)
    assert torch.equal(CombinedMarginHead(5, 4).weight, first)
    assert sharded_centre_names(torch.nn.Sequential(head)) == []
    assert ignore_sharded_centres_in_ddp(torch.nn.Sequential(head)) == []


def test_with_iresnet_in_image_classifier():
    cfg = dict(
        _scope_='mmpretrain',
        type='ImageClassifier',
        backbone=dict(
            type='mmdl.IResNet', depth=18, base_channels=8, embed_dims=32),
        head=dict(
            type='mmdl.CombinedMarginHead', num_classes=10, in_channels=32))
    from mmengine.registry import MODELS as ROOT_MODELS
    with DefaultScope.overwrite_default_scope('mmdl'):
        model = ROOT_MODELS.build(cfg)
    model.init_weights()
    losses = model(torch.rand(2, 3, 112, 112), _samples([3, 7]), mode='loss')
    losses['loss'].backward()
    assert torch.isfinite(losses['loss'])
    assert model.head.weight.grad is not None
    assert model.backbone.fc.weight.grad is not None


def test_shard_range():
    assert [shard_range(10, 4, r) for r in range(4)] == [(0, 3), (3, 6),
                                                         (6, 8), (8, 10)]
    assert [shard_range(7, 2, r) for r in range(2)] == [(0, 4), (4, 7)]
    for num, world in ((1, 1), (5, 5), (1000, 7)):
        ranges = [shard_range(num, world, r) for r in range(world)]
        assert ranges[0][0] == 0 and ranges[-1][1] == num
        assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:]))
        sizes = [e - s for s, e in ranges]
        assert max(sizes) - min(sizes) <= 1


def test_errors():
    with pytest.raises(ValueError, match='num_classes must be'):
        CombinedMarginHead(0, 8)
    with pytest.raises(ValueError, match='margins must be'):
        CombinedMarginHead(4, 8, margins=(1.0, 0.5))
    with pytest.raises(ValueError, match='m1 must be positive'):
        CombinedMarginHead(4, 8, margins=(0.0, 0.5, 0.0))
    with pytest.raises(ValueError, match=r'm2 must be in \[0, pi\)'):
        CombinedMarginHead(4, 8, margins=(1.0, 3.2, 0.0))
    with pytest.raises(ValueError, match='m3 must be'):
        CombinedMarginHead(4, 8, margins=(1.0, 0.0, -0.1))
    with pytest.raises(ValueError, match='scale must be'):
        CombinedMarginHead(4, 8, scale=0)
    with pytest.raises(ValueError, match=r'sample_rate must be in \(0, 1\]'):
        CombinedMarginHead(4, 8, sample_rate=0)
    with pytest.raises(ValueError, match='shard must be'):
        CombinedMarginHead(4, 8, shard='yes')
    with pytest.raises(ValueError, match='initialised default process'):
        CombinedMarginHead(4, 8, shard=True)
    with pytest.raises(ValueError, match='loss_weight'):
        CombinedMarginHead(4, 8, loss_weight=-1)
    head = CombinedMarginHead(4, 8)
    with pytest.raises(ValueError, match=r'labels must be in \[0, 4\)'):
        head.margin_loss(torch.randn(2, 8), torch.tensor([0, 4]))
    with pytest.raises(ValueError, match='2 labels for 3 embeddings'):
        head.margin_loss(torch.randn(3, 8), torch.tensor([0, 1]))
    samples = [DataSample().set_gt_score(torch.ones(4) / 4)]
    samples[0].set_gt_label(0)
    with pytest.raises(ValueError, match='soft labels'):
        head.loss((torch.randn(1, 8), ), samples)


@pytest.mark.dist
def test_sharded_head_two_cpu_processes(tmp_path):
    """2 gloo processes: sharded loss and gradients equal the unsharded
    head's on the full batch (4 margins, with and without the DDP
    compensation), Partial FC against the restricted full softmax, DDP with
    the centres ignored."""
    result = run_tool([
        sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
        '--master_port=29641', WORKER,
        str(tmp_path)
    ],
                      env=dict(OMP_NUM_THREADS='1'))
    assert result.returncode == 0, result.stderr[-4000:]
    for rank in range(2):
        assert (tmp_path / f'rank{rank}').read_text() == 'ok'
