# Copyright (c) mmdl contributors. All rights reserved.
import os
import os.path as osp
import pickle

import numpy as np
import pytest
from mmpretrain.datasets import CIFAR10 as MMPretrainCIFAR10

from mmdl.datasets import CIFAR10, CIFAR100
from mmdl.testing import write_cifar

CIFAR10_FILES = [
    'data_batch_1', 'data_batch_2', 'data_batch_3', 'data_batch_4',
    'data_batch_5', 'test_batch', 'batches.meta'
]
CIFAR100_FILES = ['train', 'test', 'meta']


def read_batches(folder, names, label_key):
    """Independent read of the pickled batches: (images HWC, labels)."""
    data, labels = [], []
    for name in names:
        with open(osp.join(folder, name), 'rb') as f:
            entry = pickle.load(f, encoding='latin1')
        assert entry['data'].dtype == np.uint8
        assert entry['data'].shape[1:] == (3072, )
        data.append(entry['data'])
        labels.extend(entry[label_key])
    images = np.concatenate(data).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return images, labels


def loaded(dataset):
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    return (np.stack([info['img'] for info in infos]),
            [info['gt_label'] for info in infos])


def test_cifar10_loads_with_mmpretrain(tmp_path):
    data_root = write_cifar(str(tmp_path), num_train=23, num_test=10)
    folder = osp.join(data_root, 'cifar-10-batches-py')
    assert sorted(os.listdir(folder)) == sorted(CIFAR10_FILES)
    train = CIFAR10(data_root=data_root, split='train', verify_md5=False)
    test = CIFAR10(data_root=data_root, split='test', verify_md5=False)
    assert (len(train), len(test)) == (23, 10)
    for dataset, names in ((train, CIFAR10_FILES[:5]), (test, ['test_batch'])):
        images, labels = read_batches(folder, names, 'labels')
        got_images, got_labels = loaded(dataset)
        np.testing.assert_array_equal(got_images, images)
        assert got_labels == labels
    assert sorted(loaded(test)[1]) == list(range(10))
    with open(osp.join(folder, 'batches.meta'), 'rb') as f:
        meta = pickle.load(f, encoding='latin1')
    assert tuple(meta['label_names']) == train.metainfo['classes']


def test_cifar100_loads_with_mmpretrain(tmp_path):
    data_root = write_cifar(
        str(tmp_path), cifar100=True, num_train=20, num_test=10)
    folder = osp.join(data_root, 'cifar-100-python')
    assert sorted(os.listdir(folder)) == sorted(CIFAR100_FILES)
    train = CIFAR100(data_root=data_root, split='train', verify_md5=False)
    test = CIFAR100(data_root=data_root, split='test', verify_md5=False)
    assert (len(train), len(test)) == (20, 10)
    for dataset, name in ((train, 'train'), (test, 'test')):
        images, labels = read_batches(folder, [name], 'fine_labels')
        got_images, got_labels = loaded(dataset)
        np.testing.assert_array_equal(got_images, images)
        assert got_labels == labels
    assert len(train.metainfo['classes']) == 100


def test_md5_check_is_on_by_default(tmp_path):
    data_root = write_cifar(str(tmp_path))
    # the copy's files differ from the original archive's md5 sums
    with pytest.raises(RuntimeError, match='Cannot find CIFAR10'):
        MMPretrainCIFAR10(data_root=data_root, download=False)
    with pytest.raises(RuntimeError, match='Cannot find CIFAR10'):
        CIFAR10(data_root=data_root)


def test_missing_file_is_named(tmp_path):
    data_root = write_cifar(str(tmp_path))
    os.remove(osp.join(data_root, 'cifar-10-batches-py', 'data_batch_3'))
    with pytest.raises(FileNotFoundError, match='data_batch_3'):
        CIFAR10(data_root=data_root, verify_md5=False)
    with pytest.raises(FileNotFoundError, match='cifar-100-python'):
        CIFAR100(data_root=str(tmp_path / 'empty'), verify_md5=False)


def test_download_is_refused(tmp_path):
    with pytest.raises(ValueError, match='never downloads'):
        CIFAR10(data_root=str(tmp_path), download=True)
