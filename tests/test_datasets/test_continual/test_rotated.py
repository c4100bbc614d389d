# Copyright (c) mmdl contributors. All rights reserved.
import numpy as np
import pytest

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
