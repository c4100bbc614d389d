# Copyright (c) mmdl contributors. All rights reserved.
import numpy as np
import pytest
from scipy import ndimage

from mmdl.datasets import RotatedDigits, RotatedMNIST
from mmdl.datasets.continual import rotate_images
from mmdl.testing import write_mnist_idx


def images_of(dataset):
    return np.stack(
        [dataset.get_data_info(i)['img'] for i in range(len(dataset))])


@pytest.fixture(scope='module')
def mnist_root(tmp_path_factory):
    return write_mnist_idx(
        str(tmp_path_factory.mktemp('mnist')), num_train=9, num_test=6)


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
            # both round to the nearest integer; ours samples in float32
            assert np.abs(got - expected).max() <= 0.5 + 1e-3


def test_rotate_point():
    # a bright pixel right of the centre moves up-right by 45 degrees
    img = np.zeros((1, 9, 9), np.uint8)
    img[0, 4, 8] = 200
    got = rotate_images(img, 45)[0]
    row, col = np.unravel_index(np.argmax(got), got.shape)
    assert (row, col) == (1, 7)  # (4 - 4 sin 45, 4 + 4 cos 45), rounded


def test_rotated_mnist_tasks(mnist_root):
    plain = {
        split:
        images_of(
            RotatedMNIST(mnist_root, split, task_id=0, serialize_data=False))
        for split in ('train', 'test')
    }
    for split in ('train', 'test'):
        # default angle: 10 degrees per task; task 9 is a quarter turn
        dataset = RotatedMNIST(
            mnist_root, split, task_id=9, serialize_data=False)
        assert dataset.angle == 90.0
        np.testing.assert_array_equal(
            images_of(dataset), np.rot90(plain[split], 1, axes=(1, 2)))
        assert dataset.metainfo['task_id'] == 9
        assert {
            dataset.get_data_info(i)['task_id']
            for i in range(len(dataset))
        } == {9}
    dataset = RotatedMNIST(mnist_root, 'test', task_id=1, serialize_data=False)
    assert dataset.angle == 10.0
    np.testing.assert_array_equal(
        images_of(dataset), rotate_images(plain['test'], 10))
    assert not np.array_equal(images_of(dataset), plain['test'])
    dataset = RotatedMNIST(
        mnist_root,
        'test',
        task_id=2,
        angles=[0, 45, 180],
        serialize_data=False)
    assert dataset.angle == 180.0
    np.testing.assert_array_equal(
        images_of(dataset), plain['test'][:, ::-1, ::-1])
    with pytest.raises(ValueError, match='3 angles'):
        RotatedMNIST(mnist_root, 'test', task_id=3, angles=[0, 45, 180])


def test_rotated_digits():
    plain = images_of(
        RotatedDigits(split='test', task_id=0, serialize_data=False))
    dataset = RotatedDigits(
        split='test', task_id=1, angles=[0, 270], serialize_data=False)
    np.testing.assert_array_equal(
        images_of(dataset), np.rot90(plain, 3, axes=(1, 2)))
