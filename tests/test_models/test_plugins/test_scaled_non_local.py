# Copyright (c) mmdl contributors. All rights reserved.
import math

import pytest
import torch
from mmcv.cnn import NonLocal2d, build_plugin_layer
from mmengine.registry import MODELS as ROOT_MODELS
from mmengine.registry import DefaultScope

from mmdl.models import (ScaledNonLocal2d, non_local_aggregate,
                         sinusoid_position_encoding_2d)


def _active(block, seed=0):
    """A block whose output path is not zero (random output conv and a
    unit-gain norm), in eval mode so the norm is a fixed affine map."""
    torch.manual_seed(seed)
    for conv in (block.theta, block.phi, block.g, block.conv_out):
        torch.nn.init.normal_(conv.weight, std=0.3)
    if block.norm is not None:
        torch.nn.init.ones_(block.norm.weight)
    return block.eval()


def _brute_force(block, x):
    """The paper's formula with explicit loops over query positions:
    y_i = sum_j s(theta_i, phi_j) g_j, z = x' + BN(W_z y)."""
    if block.pos_enc:
        x = x + sinusoid_position_encoding_2d(*x.shape[1:], dtype=x.dtype)
    batch, _, height, width = x.shape
    num = height * width
    heads, width_c = block.num_heads, block.embed_channels
    theta = block.theta(x).reshape(batch, heads, width_c, num)
    phi = block.phi(x).reshape(batch, heads, width_c, num)
    g = block.g(x).reshape(batch, heads, width_c, num)
    y = torch.zeros_like(g)
    for b in range(batch):
        for h in range(heads):
            for i in range(num):
                t, p = theta[b, h, :, i], phi[b, h]
                if block.similarity == 'both':
                    sim = t @ p
                elif block.similarity == 'mag':
                    sim = t.norm() * p.norm(dim=0)
                else:
                    sim = (t / t.norm()) @ (p / p.norm(dim=0))
                if block.normalizer == 'softmax':
                    weights = sim.softmax(0)
                elif block.normalizer == 'scaled':
                    weights = sim / math.sqrt(num)
                else:
                    weights = sim / num
                if block.channel_scale:
                    weights = weights / math.sqrt(width_c)
                y[b, h, :, i] = (g[b, h] * weights).sum(1)
    out = block.conv_out(y.reshape(batch, heads * width_c, height, width))
    return x + (block.norm(out) if block.norm is not None else out)


@pytest.mark.parametrize('heads', [1, 4])
@pytest.mark.parametrize('similarity', ['both', 'mag', 'angle'])
@pytest.mark.parametrize('normalizer', ['scaled', 'mean', 'softmax'])
def test_matches_brute_force(heads, similarity, normalizer):
    block = _active(
        ScaledNonLocal2d(
            8, num_heads=heads, similarity=similarity, normalizer=normalizer))
    x = torch.randn(2, 8, 3, 4)
    with torch.no_grad():
        expected = _brute_force(block, x)
        for order in (['map'] if normalizer == 'softmax' else
                      ['map', 'channel', 'auto']):
            block.order = order
            torch.testing.assert_close(
                block(x), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize('channel_scale', [False, True])
def test_orders_agree_on_larger_maps(channel_scale):
    block = _active(
        ScaledNonLocal2d(32, num_heads=2, channel_scale=channel_scale))
    for dtype, tol in ((torch.float64, 1e-10), (torch.float32, 1e-4)):
        x = torch.randn(2, 32, 12, 12, dtype=dtype)
        block.to(dtype)
        with torch.no_grad():
            block.order = 'map'
            by_map = block(x)
            block.order = 'channel'
            by_channel = block(x)
        # float tolerance relative to the size of the values
        scale = by_map.abs().max().item()
        torch.testing.assert_close(
            by_map, by_channel, rtol=0, atol=tol * scale)
    assert not torch.allclose(by_map, x + block.position_encoding(x))


def test_channel_scale_is_official_reordered_head():
    """Official 'T' head: K = g phi^T / sqrt(N), Y = K theta / sqrt(C')."""
    plain = _active(ScaledNonLocal2d(16, pos_enc=False, norm_cfg=None))
    official = _active(
        ScaledNonLocal2d(16, pos_enc=False, norm_cfg=None, channel_scale=True))
    x = torch.randn(1, 16, 5, 5)
    with torch.no_grad():
        # same weights: the path differs by exactly 1/sqrt(C') = 1/sqrt(8)
        torch.testing.assert_close((official(x) - x) * math.sqrt(8),
                                   plain(x) - x)


def test_softmax_mode_equals_mmcv_embedded_gaussian():
    """The softmax baseline equals mmcv's NonLocal2d (embedded Gaussian,
    no temperature) with the same weights."""
    torch.manual_seed(0)
    reference = NonLocal2d(
        16, reduction=2, use_scale=False, mode='embedded_gaussian').eval()
    ours = ScaledNonLocal2d(
        16, normalizer='softmax', pos_enc=False, norm_cfg=None).eval()
    with torch.no_grad():
        for name in ('theta', 'phi', 'g'):
            conv = getattr(reference, name).conv
            torch.nn.init.normal_(conv.weight, std=0.3)
            conv.bias.zero_()
            getattr(ours, name).weight.copy_(conv.weight)
        torch.nn.init.normal_(reference.conv_out.conv.weight, std=0.3)
        reference.conv_out.conv.bias.zero_()
        ours.conv_out.weight.copy_(reference.conv_out.conv.weight)
        x = torch.randn(2, 16, 6, 5)
        torch.testing.assert_close(ours(x), reference(x))


def test_identity_at_initialisation():
    x = torch.randn(2, 16, 7, 7)
    block = ScaledNonLocal2d(16, num_heads=4)
    assert torch.equal(block(x), x + block.position_encoding(x))
    block = ScaledNonLocal2d(16, pos_enc=False)
    assert torch.equal(block(x), x)
    block.init_weights()  # mmengine's init keeps the zero-init output norm
    assert torch.equal(block(x), x)


@pytest.mark.parametrize('init_std,expected', [(0.01, 0.01), (0, 0.0)])
def test_embedding_init(init_std, expected):
    block = ScaledNonLocal2d(64, init_std=init_std)
    assert block.theta.weight.std().item() == pytest.approx(
        expected, rel=0.2, abs=1e-12)
    kaiming = ScaledNonLocal2d(64, init_std=None)
    # Kaiming normal, fan_out = 32 -> std sqrt(2 / 32)
    assert kaiming.theta.weight.std().item() == pytest.approx(
        math.sqrt(2 / 32), rel=0.2)


@pytest.mark.parametrize('similarity', ['both', 'mag', 'angle'])
@pytest.mark.parametrize('order', ['map', 'channel'])
def test_gradcheck(similarity, order):
    torch.manual_seed(0)
    block = _active(
        ScaledNonLocal2d(
            4, num_heads=2, similarity=similarity, order=order,
            norm_cfg=None)).double()
    x = torch.randn(1, 4, 2, 3, dtype=torch.double, requires_grad=True)
    assert torch.autograd.gradcheck(block, (x, ))


def test_gradcheck_softmax():
    block = _active(ScaledNonLocal2d(4, normalizer='softmax',
                                     norm_cfg=None)).double()
    x = torch.randn(1, 4, 3, 2, dtype=torch.double, requires_grad=True)
    assert torch.autograd.gradcheck(block, (x, ))


@pytest.mark.parametrize('heads,embed,expected', [(1, None, 32), (4, None, 16),
                                                  (8, None, 8), (8, 2, 2)])
def test_multi_head_widths_and_shapes(heads, embed, expected):
    block = ScaledNonLocal2d(64, num_heads=heads, embed_channels=embed)
    assert block.embed_channels == expected
    assert block.theta.out_channels == heads * expected
    x = torch.randn(2, 64, 6, 6)
    assert block(x).shape == x.shape
    maps = block.attention_maps(x, torch.tensor([0, 7, 35]))
    assert maps.shape == (2, heads, 3, 36)


def test_attention_maps_match_definition():
    block = _active(ScaledNonLocal2d(8, num_heads=2, pos_enc=False))
    x = torch.randn(1, 8, 4, 4)
    with torch.no_grad():
        maps = block.attention_maps(x, torch.arange(16))
        theta = block.theta(x).reshape(1, 2, 4, 16)
        phi = block.phi(x).reshape(1, 2, 4, 16)
        expected = theta.transpose(2, 3) @ phi / 4.0  # 1 / sqrt(16)
    torch.testing.assert_close(maps, expected)


def test_similarity_ablation_invariants():
    x = torch.randn(1, 8, 5, 5)
    queries = torch.arange(25)
    with torch.no_grad():
        mag = _active(ScaledNonLocal2d(8, similarity='mag'))
        maps = mag.attention_maps(x, queries)[0, 0]
        assert torch.linalg.matrix_rank(maps).item() == 1
        angle = _active(ScaledNonLocal2d(8, similarity='angle'))
        cosines = angle.attention_maps(x, queries) / angle.scale(25)
        assert cosines.abs().max() <= 1 + 1e-5


def test_auto_order_prefers_channel_order_for_large_maps(monkeypatch):
    calls = []
    original = torch.einsum

    def spy(equation, *operands):
        calls.append(equation)
        return original(equation, *operands)

    monkeypatch.setattr(torch, 'einsum', spy)
    q = torch.randn(1, 1, 8, 64 * 64)
    non_local_aggregate(q, q, q, order='auto')
    assert calls == ['bhvj,bhqj->bhvq', 'bhvq,bhqi->bhvi']
    calls.clear()
    q = torch.randn(1, 1, 64, 4)  # tiny map, wide embeddings
    non_local_aggregate(q, q, q, order='auto')
    assert calls == ['bhci,bhcj->bhij', 'bhij,bhcj->bhci']


def test_position_encoding_formula():
    table = sinusoid_position_encoding_2d(8, 3, 5)
    assert table.shape == (8, 3, 5)
    d = 4
    for row in range(3):
        for col in range(5):
            for j in range(4):
                freq = 10000**(2 * (j // 2) / d)
                fn = math.sin if j % 2 == 0 else math.cos
                assert table[j, row, col].item() == pytest.approx(
                    fn(col / freq), abs=1e-6)
                assert table[4 + j, row, col].item() == pytest.approx(
                    fn(row / freq), abs=1e-6)


def test_registry_and_mmcv_plugin():
    with DefaultScope.overwrite_default_scope('mmdl'):
        block = ROOT_MODELS.build(
            dict(type='ScaledNonLocal2d', in_channels=16, num_heads=4))
        name, layer = build_plugin_layer(
            dict(type='ScaledNonLocal2d', num_heads=2),
            postfix='_1',
            in_channels=32)
    assert isinstance(block, ScaledNonLocal2d) and block.num_heads == 4
    assert name == 'scaled_nl_1' and layer.in_channels == 32
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        _, layer = build_plugin_layer(
            dict(type='mmdl.ScaledNonLocal2d'), in_channels=8)
    assert isinstance(layer, ScaledNonLocal2d)


@pytest.mark.parametrize('kwargs,match', [
    (dict(normalizer='relu'), 'normalizer'),
    (dict(similarity='cos'), 'similarity'),
    (dict(order='fast'), 'order'),
    (dict(normalizer='softmax', order='channel'), 'softmax'),
    (dict(num_heads=3), 'divisible'),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ScaledNonLocal2d(16, **kwargs)


def test_bad_input_shape():
    with pytest.raises(ValueError, match=r'\(B, 16, H, W\)'):
        ScaledNonLocal2d(16)(torch.randn(2, 8, 4, 4))
