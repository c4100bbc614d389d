# Copyright (c) mmdl contributors. All rights reserved.
import numpy as np
import pytest

from mmdl.datasets import (CIFAR10, CIFAR100, DigitsDataset, SplitCIFAR10,
                           SplitCIFAR100, SplitDigits, SplitFashionMNIST,
                           SplitMNIST)
from mmdl.datasets.continual.mnist_files import MNISTFiles
from mmdl.testing import write_cifar, write_mnist_idx

FAST = dict(serialize_data=False)


def samples(dataset):
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    images = [info['img'] for info in infos]
    labels = [info['gt_label'] for info in infos]
    return images, labels, [info['task_id'] for info in infos]


def samples_of_base(base):
    """Images and labels of a dataset without task_id."""
    infos = [base.get_data_info(i) for i in range(len(base))]
    images = [info['img'] for info in infos]
    return images, [info['gt_label'] for info in infos]


def expected_task(base, classes, relabel):
    """Independent filter of the base dataset: (images, labels)."""
    images, labels = [], []
    for img, label in zip(*samples_of_base(base)):
        if label in classes:
            images.append(img)
            labels.append(classes.index(label) if relabel else label)
    return images, labels


def check_task(dataset, base, task_id, classes, relabel):
    images, labels, task_ids = samples(dataset)
    want_images, want_labels = expected_task(base, classes, relabel)
    assert len(images) == len(want_images) > 0
    np.testing.assert_array_equal(np.stack(images), np.stack(want_images))
    assert labels == want_labels
    assert all(isinstance(label, int) for label in labels)
    assert set(task_ids) == {task_id}
    assert dataset.metainfo['task_id'] == task_id
    assert dataset.metainfo['task_classes'] == tuple(classes)


@pytest.fixture(scope='module')
def digits_test():
    return DigitsDataset(split='test', **FAST)


@pytest.mark.parametrize('relabel', [False, True])
def test_split_digits(digits_test, relabel):
    total = 0
    for t in range(5):
        dataset = SplitDigits(split='test', task_id=t, relabel=relabel, **FAST)
        classes = [2 * t, 2 * t + 1]
        check_task(dataset, digits_test, t, classes, relabel)
        assert dataset.num_tasks == dataset.metainfo['num_tasks'] == 5
        if relabel:
            assert set(samples(dataset)[1]) == {0, 1}
            assert dataset.metainfo['classes'] == (str(2 * t), str(2 * t + 1))
        else:
            assert set(samples(dataset)[1]) == set(classes)
            assert dataset.metainfo['classes'] == tuple('0123456789')
        total += len(dataset)
    assert total == len(digits_test)
    with pytest.raises(
            ValueError, match='task_id must be an int >= 0 and < 5'):
        SplitDigits(split='test', task_id=5)


def test_split_digits_class_order(digits_test):
    order = [9, 3, 7, 0, 1, 2, 4, 5, 6, 8]
    dataset = SplitDigits(
        split='test',
        task_id=0,
        classes_per_task=3,
        class_order=order,
        relabel=True,
        **FAST)
    check_task(dataset, digits_test, 0, [9, 3, 7], relabel=True)
    assert dataset.metainfo['classes'] == ('9', '3', '7')
    # 10 classes, 3 per task: 4 tasks, the last with one class
    last = SplitDigits(
        split='test', task_id=3, classes_per_task=3, class_order=order, **FAST)
    check_task(last, digits_test, 3, [8], relabel=False)
    with pytest.raises(ValueError, match='class_order'):
        SplitDigits(split='test', class_order=[0, 0, 1])
    with pytest.raises(ValueError, match='class_order'):
        SplitDigits(split='test', class_order=[0, 10])


def test_split_cifar10(tmp_path):
    data_root = write_cifar(str(tmp_path), num_train=50, num_test=20)
    for split in ('train', 'test'):
        base = CIFAR10(data_root, split=split, verify_md5=False, **FAST)
        for t in (0, 4):
            for relabel in (False, True):
                dataset = SplitCIFAR10(
                    data_root,
                    split=split,
                    task_id=t,
                    relabel=relabel,
                    verify_md5=False,
                    **FAST)
                check_task(dataset, base, t, [2 * t, 2 * t + 1], relabel)
                assert dataset.num_tasks == 5


def test_split_cifar100(tmp_path):
    data_root = write_cifar(
        str(tmp_path), cifar100=True, num_train=200, num_test=100)
    base = CIFAR100(data_root, split='test', verify_md5=False, **FAST)
    order = np.random.default_rng(1993).permutation(100).tolist()
    for t in (0, 9):
        dataset = SplitCIFAR100(
            data_root, split='test', task_id=t, verify_md5=False, **FAST)
        check_task(dataset, base, t, list(range(10 * t, 10 * t + 10)), False)
        assert dataset.num_tasks == 10
        dataset = SplitCIFAR100(
            data_root,
            split='test',
            task_id=t,
            class_order=order,
            relabel=True,
            verify_md5=False,
            **FAST)
        check_task(dataset, base, t, order[10 * t:10 * t + 10], True)
        assert sorted(set(samples(dataset)[1])) == list(range(10))
        assert len(dataset.metainfo['classes']) == 10


@pytest.mark.parametrize('cls,first', [(SplitMNIST, ('0 - zero', '1 - one')),
                                       (SplitFashionMNIST,
                                        ('T-shirt/top', 'Trouser'))])
def test_split_mnist_files(tmp_path, cls, first):
    data_root = write_mnist_idx(str(tmp_path), num_train=40, num_test=30)
    base = MNISTFiles(data_root, split='test', **FAST)
    for t in (0, 3):
        dataset = cls(
            data_root=data_root, split='test', task_id=t, relabel=True,
            **FAST)
        check_task(dataset, base, t, [2 * t, 2 * t + 1], True)
        assert dataset.num_tasks == 5
        if t == 0:
            assert tuple(dataset.metainfo['classes']) == first
