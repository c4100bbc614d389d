# Copyright (c) mmdl contributors. All rights reserved.
import numpy as np
import pytest
from scipy import ndimage

from mmdl.datasets.continual import (check_task_id, permute_pixels,
                                     rotate_images, task_permutation)


def test_check_task_id():
    assert check_task_id('X', np.int64(3)) == 3
    assert type(check_task_id('X', np.int64(3))) is int
    assert check_task_id('X', 4, num_tasks=5) == 4
    for bad in (-1, 1.5, True, '1'):
        with pytest.raises(ValueError, match='X: task_id must be an int'):
            check_task_id('X', bad)
    with pytest.raises(ValueError, match='>= 0 and < 5, got 5'):
        check_task_id('X', 5, num_tasks=5)
    with pytest.raises(ValueError, match='task_id'):
        task_permutation(-1, 64)


def test_permute_pixels_with_channels():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (3, 4, 5, 2), dtype=np.uint8)
    perm = rng.permutation(20)
    out = permute_pixels(images, perm)
    for n in range(3):
        for i in range(20):
            r, c = divmod(perm[i], 5)
            np.testing.assert_array_equal(out[n, i // 5, i % 5], images[n, r,
                                                                        c])
    with pytest.raises(ValueError, match='4x5'):
        permute_pixels(images, np.arange(21))


def test_rotate_images_quarter_turns():
    rng = np.random.default_rng(0)
    for shape in ((4, 28, 28), (3, 7, 7), (2, 6, 6, 3)):
        images = rng.integers(0, 256, shape, dtype=np.uint8)
        np.testing.assert_array_equal(rotate_images(images, 0), images)
        np.testing.assert_array_equal(rotate_images(images, 360), images)
        # counter-clockwise as displayed, like np.rot90
        for angle, k in ((90, 1), (180, 2), (270, 3), (-90, 3)):
            got = rotate_images(images, angle)
            assert got.dtype == np.uint8 and got.shape == images.shape
            np.testing.assert_array_equal(got,
                                          np.rot90(images, k, axes=(1, 2)))


def test_rotate_images_matches_scipy():
    # an independent implementation: scipy's spline interpolation of order
    # 1 (bilinear) about the centre, zero outside ('grid-constant')
    rng = np.random.default_rng(1)
    for shape in ((3, 28, 28), (2, 12, 9)):
        images = rng.integers(0, 256, shape, dtype=np.uint8)
        for angle in (10, 45, -30, 200):
            got = rotate_images(images, angle)
            expected = np.stack([
                ndimage.rotate(
                    img.astype(np.float64),
                    angle,
                    reshape=False,
                    order=1,
                    mode='grid-constant',
                    cval=0.0) for img in images
            ])
            # ours is rounded to integers and samples in float32
            assert np.abs(got - expected).max() <= 0.5 + 1e-3


def test_rotate_point():
    # a bright pixel right of the centre moves up-right by 45 degrees
    img = np.zeros((1, 9, 9), np.uint8)
    img[0, 4, 8] = 200
    got = rotate_images(img, 45)[0]
    row, col = np.unravel_index(np.argmax(got), got.shape)
    assert (row, col) == (1, 7)  # (4 - 4 sin 45, 4 + 4 cos 45), rounded
