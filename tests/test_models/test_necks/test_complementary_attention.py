# Copyright (c) mmdl contributors. All rights reserved.
"""ComplementaryAttention: shapes, partition maps, refinement, losses zero
at a perfect prediction (against targets and a BCE written here), and the
MaskedFaceRecognizer's training step."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.structures import DataSample

from mmdl.datasets.face import face_region
from mmdl.models import ComplementaryAttention, IResNet, binary_kl_divergence
from mmdl.registry import MODELS


def _randomise(neck, seed=0):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in neck.parameters():
            p.copy_(torch.randn(p.shape, generator=gen))
    return neck


def _seg(n=4, size=112, seed=0):
    """Random rectangles of "mask" in the lower half, the first sample
    unmasked."""
    rng = np.random.default_rng(seed)
    seg = np.zeros((n, size, size), np.float32)
    for i in range(1, n):
        top = int(rng.integers(size // 2, size * 3 // 4))
        left, right = sorted(rng.integers(0, size, 2))
        seg[i, top:, left:right + 1] = 1
    return torch.from_numpy(seg)


def _block_mean(x, size):
    """Area downsampling by reshaping (sizes divisible), in numpy."""
    n, h, w = x.shape
    return x.reshape(n, size, h // size, size, w // size).mean((2, 4))


def _targets_by_hand(seg, size):
    mask = _block_mean(seg.numpy(), size)
    face = _block_mean(face_region((112, 112))[None].astype(np.float64),
                       size)[0]
    return mask, (1 - face) * (1 - mask)


@pytest.mark.parametrize('stages', [(2, ), (1, 2)])
@pytest.mark.parametrize('mode', ['partition', 'independent'])
def test_shapes_and_partition_sum(stages, mode):
    neck = _randomise(ComplementaryAttention(stages=stages, mode=mode))
    net = IResNet(18, base_channels=8, embed_dims=32).eval()
    neck.eval()
    maps = {}

    def refine(i, f):
        f, m = neck(f, i)
        if m:
            maps[i] = m
        return f

    x = torch.randn(3, 3, 112, 112)
    (emb, ) = net.forward_refined(x, refine)
    assert emb.shape == (3, 32)
    assert sorted(maps) == list(stages)
    for i, m in maps.items():
        side = 112 // 2**(i + 1)
        assert m['logits'].shape == (3, 3, side, side)
        for name in ('face', 'mask', 'background'):
            assert m[name].shape == (3, 1, side, side)
            assert ((m[name] >= 0) & (m[name] <= 1)).all()
        total = m['face'] + m['mask'] + m['background']
        if mode == 'partition':
            assert torch.allclose(total, torch.ones_like(total), atol=1e-6)
        else:  # independent sigmoids: no constraint
            assert not torch.allclose(total, torch.ones_like(total))


def test_refinement_forms():
    x = torch.randn(2, 16, 14, 14)
    for refine, expect in (('multiply', lambda f, a: f * a),
                           ('residual', lambda f, a: f * (1 + a))):
        neck = _randomise(ComplementaryAttention(refine=refine)).eval()
        out, maps = neck(x, 2)
        assert torch.allclose(out, expect(x, maps['face']))
        same, none = neck(x, 1)  # not an attended stage
        assert same is x and none == {}
    # standard attention only: a sigmoid map, no focused maps, no losses
    neck = _randomise(ComplementaryAttention(focus=())).eval()
    out, maps = neck(x, 2)
    assert set(maps) == {'logits', 'face'}
    assert torch.allclose(maps['face'], torch.sigmoid(maps['logits']))
    assert neck.loss({2: maps}, _seg()) == {}


def test_forward_refined_identity_and_shape_check():
    net = IResNet(18, base_channels=8, embed_dims=16,
                  out_indices=(1, 4)).eval()
    x = torch.randn(2, 3, 112, 112)
    for a, b in zip(net(x), net.forward_refined(x, lambda i, f: f)):
        assert torch.equal(a, b)
    with pytest.raises(ValueError, match='refine'):
        net.forward_refined(x, lambda i, f: f[:, :1])


def test_binary_kl_is_bce_minus_entropy():
    p = torch.rand(50).clamp(0.01, 0.99)
    t = torch.rand(50)
    kl = binary_kl_divergence(p.log(), (1 - p).log(), t)
    entropy = -(t * t.log() + (1 - t) * (1 - t).log())
    bce = F.binary_cross_entropy(p, t, reduction='none')
    assert torch.allclose(kl, bce - entropy, atol=1e-6)
    assert torch.allclose(
        binary_kl_divergence(t.log(), (1 - t).log(), t), torch.zeros(50),
        atol=1e-6)


@pytest.mark.parametrize('stages', [(2, ), (1, 2)])
def test_partition_losses_zero_at_perfect_prediction(stages):
    seg = _seg()
    neck = ComplementaryAttention(stages=stages)
    stage_maps, wrong_maps = {}, {}
    for s in stages:
        side = 112 // 2**(s + 1)
        mask, background = _targets_by_hand(seg, side)
        face = 1 - mask - background
        assert face.min() >= -1e-9
        probs = np.stack([face, mask, background], 1)
        logits = torch.from_numpy(np.log(np.maximum(probs, 1e-30)))
        stage_maps[s] = dict(logits=logits.float())
        wrong_maps[s] = dict(logits=torch.zeros_like(logits).float())
    losses = neck.loss(stage_maps, seg)
    assert set(losses) == {'loss_mask', 'loss_background'}
    for value in losses.values():
        assert abs(value.item()) < 1e-5
    for value in neck.loss(wrong_maps, seg).values():
        assert value.item() > 0.05
    # the loss weights scale the terms, 0 removes one
    neck = ComplementaryAttention(
        stages=stages, loss_mask=2.0, loss_background=0.0)
    assert set(neck.loss(wrong_maps, seg)) == {'loss_mask'}


def test_independent_losses_zero_at_perfect_prediction():
    seg = _seg()
    neck = ComplementaryAttention(mode='independent')
    mask, background = _targets_by_hand(seg, 14)
    mask = np.clip(mask, 1e-7, 1 - 1e-7)
    background = np.clip(background, 1e-7, 1 - 1e-7)
    face = (1 - mask) * (1 - background)

    def logit(p):
        return np.log(p) - np.log1p(-p)

    logits = torch.from_numpy(
        np.stack([logit(face), logit(mask), logit(background)],
                 1)).float()
    losses = neck.loss({2: dict(logits=logits)}, seg)
    assert set(losses) == {
        'loss_mask', 'loss_background', 'loss_complementarity'
    }
    for value in losses.values():
        assert value.item() < 1e-5
    # a face map that is not the complement costs (A - (1-M)(1-B))^2
    shifted = logits.clone()
    shifted[:, 0] = 0.0
    comp = neck.loss({2: dict(logits=shifted)}, seg)['loss_complementarity']
    expect = ((0.5 - face)**2).mean()
    assert comp.item() == pytest.approx(expect, rel=1e-4)


def test_masked_face_recognizer_trains_the_attention():
    torch.manual_seed(0)
    model = MODELS.build(
        dict(
            type='mmdl.MaskedFaceRecognizer',
            _scope_='mmpretrain',
            backbone=dict(
                type='mmdl.IResNet', depth=18, base_channels=4,
                embed_dims=16),
            neck=dict(type='mmdl.ComplementaryAttention', stages=(1, 2)),
            head=dict(
                type='mmdl.CombinedMarginHead', num_classes=5,
                in_channels=16)))
    seg = _seg()
    samples = []
    for i in range(4):
        sample = DataSample().set_gt_label(i % 5)
        sample.set_field(seg[i].numpy().astype(np.uint8), 'gt_seg_map')
        samples.append(sample)
    losses = model.loss(torch.randn(4, 3, 112, 112), samples)
    assert {'loss', 'loss_mask', 'loss_background'} <= set(losses)
    total = sum(v for k, v in losses.items() if k.startswith('loss'))
    total.backward()
    grad = model.neck.attentions['2'].logits.weight.grad
    assert grad is not None and grad.abs().sum() > 0
    maps = model.attention_maps(torch.randn(2, 3, 112, 112))
    assert sorted(maps) == [1, 2]
    with pytest.raises(KeyError, match='gt_seg_map'):
        model.loss(
            torch.randn(2, 3, 112, 112),
            [DataSample().set_gt_label(0),
             DataSample().set_gt_label(1)])


def test_bad_arguments():
    for kwargs, match in ((dict(mode='joint'), 'mode'),
                          (dict(focus=('background', 'mask')), 'focus'),
                          (dict(focus=('eyes', )), 'focus'),
                          (dict(refine='add'), 'refine'),
                          (dict(stages=(2, 2)), 'stages'),
                          (dict(kernel_size=4), 'kernel_size'),
                          (dict(loss_mask=-1), 'loss_mask')):
        with pytest.raises(ValueError, match=match):
            ComplementaryAttention(**kwargs)
    with pytest.raises(TypeError, match='forward_refined'):
        MODELS.build(
            dict(
                type='mmdl.MaskedFaceRecognizer',
                _scope_='mmpretrain',
                backbone=dict(type='mmdl.MLP', in_features=4, hidden=(3, )),
                neck=dict(type='mmdl.ComplementaryAttention'),
                head=dict(type='ClsHead')))
