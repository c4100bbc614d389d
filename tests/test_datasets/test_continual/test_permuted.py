# Copyright (c) mmdl contributors. All rights reserved.
import numpy as np
import pytest

from mmdl.datasets import DigitsDataset, PermutedDigits, PermutedMNIST
from mmdl.testing import write_mnist_idx

# serialize_data=False: mmengine's serialisation runs gc.collect, which is
# slow once torch is imported


def images_of(dataset):
    return np.stack(
        [dataset.get_data_info(i)['img'] for i in range(len(dataset))])


def labels_of(dataset):
    return [dataset.get_data_info(i)['gt_label'] for i in range(len(dataset))]


@pytest.fixture(scope='module')
def digits_test():
    dataset = DigitsDataset(split='test', serialize_data=False)
    return images_of(dataset), labels_of(dataset)


def test_permuted_digits_task0_is_identity(digits_test):
    images, labels = digits_test
    dataset = PermutedDigits(split='test', task_id=0, serialize_data=False)
    np.testing.assert_array_equal(images_of(dataset), images)
    assert labels_of(dataset) == labels
    np.testing.assert_array_equal(dataset.permutation, np.arange(64))


@pytest.mark.parametrize('task_id', [1, 3])
def test_permuted_digits_matches_independent_permutation(digits_test, task_id):
    images, labels = digits_test
    dataset = PermutedDigits(
        split='test', task_id=task_id, serialize_data=False)
    got = images_of(dataset)
    perm = np.random.default_rng(task_id).permutation(64)
    # brute force on a few pixels: output pixel i is original pixel perm[i]
    for n, i in [(0, 0), (0, 63), (17, 5), (359, 40), (100, 27)]:
        row, col = divmod(int(perm[i]), 8)
        assert got[n, i // 8, i % 8] == images[n, row, col]
    # full array
    expected = np.empty_like(images)
    flat_in = images.reshape(len(images), 64)
    flat_out = expected.reshape(len(images), 64)
    for i in range(64):
        flat_out[:, i] = flat_in[:, perm[i]]
    np.testing.assert_array_equal(got, expected)
    assert labels_of(dataset) == labels
    assert got.dtype == np.uint8 and got.shape == (360, 8, 8)
    assert not np.array_equal(got, images)


def test_tasks_differ_and_splits_share_permutation():
    perms = {}
    for t in range(4):
        train = PermutedDigits(split='train', task_id=t, serialize_data=False)
        test = PermutedDigits(split='test', task_id=t, serialize_data=False)
        np.testing.assert_array_equal(train.permutation, test.permutation)
        perms[t] = train.permutation
        for dataset in (train, test):
            assert dataset.metainfo['task_id'] == t
            assert {
                info['task_id']
                for info in map(dataset.get_data_info, range(len(dataset)))
            } == {t}
    for a in range(4):
        for b in range(a + 1, 4):
            assert not np.array_equal(perms[a], perms[b])
    # the same permutation maps the plain train and test images
    plain = images_of(DigitsDataset(split='train', serialize_data=False))
    np.testing.assert_array_equal(
        images_of(
            PermutedDigits(split='train', task_id=2, serialize_data=False)),
        plain.reshape(-1, 64)[:, perms[2]].reshape(plain.shape))
    one = images_of(
        PermutedDigits(split='test', task_id=1, serialize_data=False))
    two = images_of(
        PermutedDigits(split='test', task_id=2, serialize_data=False))
    assert not np.array_equal(one, two)


def test_seed_base():
    dataset = PermutedDigits(
        split='test', task_id=2, seed_base=100, serialize_data=False)
    np.testing.assert_array_equal(dataset.permutation,
                                  np.random.default_rng(102).permutation(64))


@pytest.mark.parametrize('task_id', [-1, 1.5, True])
def test_bad_task_id(task_id):
    with pytest.raises(ValueError, match='task_id'):
        PermutedDigits(split='test', task_id=task_id, serialize_data=False)


@pytest.mark.parametrize('gzip', [True, False])
def test_permuted_mnist(tmp_path, gzip):
    data_root = write_mnist_idx(
        str(tmp_path), num_train=12, num_test=7, gzip=gzip)
    plain = PermutedMNIST(
        data_root, split='test', task_id=0, serialize_data=False)
    images = images_of(plain)
    assert images.shape == (7, 28, 28) and images.dtype == np.uint8
    for split, num in (('train', 12), ('test', 7)):
        dataset = PermutedMNIST(
            data_root, split=split, task_id=4, serialize_data=False)
        assert len(dataset) == num
        perm = np.random.default_rng(4).permutation(784)
        np.testing.assert_array_equal(dataset.permutation, perm)
        base = images_of(
            PermutedMNIST(
                data_root, split=split, task_id=0, serialize_data=False))
        np.testing.assert_array_equal(
            images_of(dataset),
            base.reshape(num, 784)[:, perm].reshape(num, 28, 28))
        assert all(
            dataset.get_data_info(i)['task_id'] == 4 for i in range(num))
