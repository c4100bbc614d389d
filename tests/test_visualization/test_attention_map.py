# Copyright (c) mmdl contributors. All rights reserved.
"""Attention maps over an image: bilinear upsampling against hand-computed
values, the drawn pixel data, one colour bar per block on a shared 0..max
scale, and the written PNG."""
import numpy as np
import pytest
import torch
from matplotlib.image import imread

from mmdl.visualization import (draw_attention_maps, save_attention_maps,
                                upsample_maps)
from mmdl.visualization.attention_map import ATTENTION_LABEL

IMAGE = np.arange(16, dtype=np.uint8).reshape(4, 4) * 16
QUERIES = [(0.0, 0.0), (0.5, 0.5)]
# 2x2 -> 4x4 with align_corners=False: the sample positions of output
# pixels 0..3 along an axis are 0 (clamped), 0.25, 0.75, 1 (clamped)
POSITIONS = np.array([0.0, 0.25, 0.75, 1.0])


def _maps():
    # map of query 0: 2 * row + col; of query 1: a constant 0.25
    first = torch.tensor([[0.0, 1.0], [2.0, 3.0]]) / 6
    return {
        'block_a': torch.stack([first, torch.full((2, 2), 0.25)]),
        'block_b': torch.full((2, 2, 2), 0.2),
    }


def test_upsample_maps_by_hand():
    expected = (2 * POSITIONS[:, None] + POSITIONS[None, :]) / 6
    upsampled = upsample_maps(_maps()['block_a'], (4, 4))
    assert upsampled.shape == (2, 4, 4)
    np.testing.assert_allclose(upsampled[0], expected, atol=1e-6)
    np.testing.assert_allclose(upsampled[1], 0.25, atol=1e-6)


def test_drawn_images_and_colour_bars():
    fig = draw_attention_maps(IMAGE, _maps(), QUERIES)
    panels = [ax for ax in fig.axes if ax.get_images()]
    bars = [ax for ax in fig.axes if ax.get_ylabel() == ATTENTION_LABEL]
    # 2 blocks x 2 queries of image panels, one colour bar per block
    assert len(fig.axes) == 2 * 2 + 2
    assert len(panels) == 4 and len(bars) == 2
    expected = (2 * POSITIONS[:, None] + POSITIONS[None, :]) / 6
    for ax, overlay, clim in zip(panels, [expected, 0.25, 0.2, 0.2],
                                 [0.5, 0.5, 0.2, 0.2]):
        background, attention = ax.get_images()
        np.testing.assert_array_equal(background.get_array(), IMAGE)
        np.testing.assert_allclose(
            np.broadcast_to(overlay, (4, 4)), attention.get_array(), atol=1e-6)
        assert attention.get_alpha() == 0.5
        # a block's maps share 0..(its largest weight)
        assert attention.get_clim() == pytest.approx((0.0, clim))
    assert bars[0].get_ylim() == pytest.approx((0.0, 0.5))
    assert bars[1].get_ylim() == pytest.approx((0.0, 0.2))
    assert panels[0].get_title() == 'block_a\nquery (0.00, 0.00)'
    assert panels[3].get_title() == 'block_b\nquery (0.50, 0.50)'


def test_written_png(tmp_path):
    path = str(tmp_path / 'attention.png')
    save_attention_maps(path, IMAGE, _maps(), QUERIES)
    # (2.6 * 2 + 1) x (2.6 * 2) inches at 100 dpi, RGBA
    assert imread(path).shape == (520, 620, 4)
