# Copyright (c) mmdl contributors. All rights reserved.
"""ClippedCutout: the square of DARTS' Cutout, clipped at the border,
against a mask computed here from the same random draws."""
import numpy as np
import pytest

from mmdl.datasets import ClippedCutout


def _expected(img, y, x, length, value):
    out = img.copy()
    for i in range(img.shape[0]):
        for j in range(img.shape[1]):
            if y - length // 2 <= i < y + length // 2 and \
                    x - length // 2 <= j < x + length // 2:
                out[i, j] = value
    return out


@pytest.mark.parametrize('seed', range(6))
def test_square_clipped_at_the_border(seed):
    img = np.random.RandomState(100 + seed).randint(
        0, 255, (32, 32, 3)).astype(np.uint8)
    np.random.seed(seed)
    out = ClippedCutout(16, pad_val=(125, 123, 114))(dict(img=img))['img']
    np.random.seed(seed)
    y, x = np.random.randint(32), np.random.randint(32)
    assert np.array_equal(out, _expected(img, y, x, 16, (125, 123, 114)))


def test_mean_area_is_darts():
    """Centres uniform over the image and clipping: a 16-pixel square on
    32x32 covers 14 x 14 = 196 pixels on average (the mean clipped side is
    14 in each direction)."""
    np.random.seed(0)
    cut = ClippedCutout(16, pad_val=0)
    ones = np.ones((32, 32), dtype=np.uint8)
    areas = [(cut(dict(img=ones))['img'] == 0).sum() for _ in range(4000)]
    assert abs(np.mean(areas) - 196) < 3


def test_probability_and_errors():
    img = np.ones((8, 8), dtype=np.uint8)
    assert np.array_equal(
        ClippedCutout(4, prob=0.0)(dict(img=img))['img'], img)
    with pytest.raises(ValueError, match='length'):
        ClippedCutout(0)
