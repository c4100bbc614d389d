# Copyright (c) mmdl contributors. All rights reserved.
import gzip
import os
import os.path as osp
import struct

import numpy as np
import pytest

from mmdl.datasets import PermutedFashionMNIST
from mmdl.datasets.continual import FASHION_MNIST_DEBIAN_ROOT
from mmdl.datasets.continual.mnist_files import MNISTFiles
from mmdl.testing import write_mnist_idx


def parse_idx(path):
    """Independent parse of a uint8 IDX file: (magic, dims, data)."""
    with open(path, 'rb') as f:
        raw = f.read()
    if path.endswith('.gz'):
        raw = gzip.decompress(raw)
    magic = struct.unpack('>I', raw[:4])[0]
    ndim = raw[3]
    dims = list(struct.unpack(f'>{ndim}I', raw[4:4 + 4 * ndim]))
    data = np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim)
    return magic, dims, data.reshape(dims)


def loaded(dataset):
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    return (np.stack([info['img'] for info in infos]),
            [info['gt_label'] for info in infos])


@pytest.mark.parametrize('gzip_files', [True, False])
def test_samples_follow_the_files(tmp_path, gzip_files):
    root = write_mnist_idx(
        str(tmp_path), num_train=13, num_test=10, gzip=gzip_files)
    suffix = '.gz' if gzip_files else ''
    for split, part in (('train', 'train'), ('test', 't10k')):
        _, _, images = parse_idx(
            osp.join(root, f'{part}-images-idx3-ubyte{suffix}'))
        _, _, labels = parse_idx(
            osp.join(root, f'{part}-labels-idx1-ubyte{suffix}'))
        dataset = MNISTFiles(root, split=split, serialize_data=False)
        got_images, got_labels = loaded(dataset)
        np.testing.assert_array_equal(got_images, images)
        assert got_labels == labels.tolist()
        assert all(type(label) is int for label in got_labels)


def test_prefix_and_uncompressed_preferred(tmp_path):
    root = str(tmp_path)
    write_mnist_idx(root, num_test=4, gzip=True, prefix='fashion-', seed=1)
    write_mnist_idx(root, num_test=4, gzip=False, prefix='fashion-', seed=2)
    _, _, plain = parse_idx(osp.join(root, 'fashion-t10k-images-idx3-ubyte'))
    dataset = MNISTFiles(
        root, split='test', file_prefix='fashion-', serialize_data=False)
    np.testing.assert_array_equal(loaded(dataset)[0], plain)


def test_missing_file_and_bad_arguments(tmp_path):
    root = write_mnist_idx(str(tmp_path))
    os.remove(osp.join(root, 't10k-labels-idx1-ubyte.gz'))
    MNISTFiles(root, split='train', serialize_data=False)
    with pytest.raises(FileNotFoundError, match='t10k-labels-idx1-ubyte'):
        MNISTFiles(root, split='test')
    with pytest.raises(ValueError, match='data_root'):
        MNISTFiles(split='test')
    with pytest.raises(ValueError, match='split'):
        MNISTFiles(root, split='val')


def test_swapped_files_are_named(tmp_path):
    root = write_mnist_idx(str(tmp_path))
    images = osp.join(root, 't10k-images-idx3-ubyte.gz')
    labels = osp.join(root, 't10k-labels-idx1-ubyte.gz')
    os.rename(images, images + '.tmp')
    os.rename(labels, images)
    os.rename(images + '.tmp', labels)
    with pytest.raises(ValueError) as info:
        MNISTFiles(root, split='test')
    assert images in str(info.value) and '2049' in str(info.value)


def test_image_and_label_counts_must_match(tmp_path):
    root = write_mnist_idx(str(tmp_path), num_test=4)
    write_mnist_idx(str(tmp_path / 'other'), num_test=5)
    os.replace(
        osp.join(root, 'other', 't10k-labels-idx1-ubyte.gz'),
        osp.join(root, 't10k-labels-idx1-ubyte.gz'))
    with pytest.raises(ValueError, match='4 images .* but 5 labels'):
        MNISTFiles(root, split='test')


@pytest.mark.skipif(
    not osp.isdir(FASHION_MNIST_DEBIAN_ROOT),
    reason='Debian package dataset-fashion-mnist is not installed')
def test_fashion_mnist_debian_package():
    # Debian recompressed the files: their md5 sums differ from the
    # originals' (mmpretrain's FashionMNIST lists those); check the headers
    headers = {
        'train-images-idx3-ubyte.gz': (2051, 60000, 28, 28),
        'train-labels-idx1-ubyte.gz': (2049, 60000),
        't10k-images-idx3-ubyte.gz': (2051, 10000, 28, 28),
        't10k-labels-idx1-ubyte.gz': (2049, 10000),
    }
    for name, header in headers.items():
        with gzip.open(osp.join(FASHION_MNIST_DEBIAN_ROOT, name)) as f:
            raw = f.read(4 * len(header))
        assert struct.unpack(f'>{len(header)}I', raw) == header
    dataset = PermutedFashionMNIST(split='test', serialize_data=False)
    assert len(dataset) == 10000
    assert dataset.metainfo['classes'][0] == 'T-shirt/top'
    images, labels = loaded(dataset)
    np.testing.assert_array_equal(np.bincount(labels), [1000] * 10)
    _, _, expected = parse_idx(
        osp.join(FASHION_MNIST_DEBIAN_ROOT, 't10k-images-idx3-ubyte.gz'))
    np.testing.assert_array_equal(images, expected)
