# Copyright (c) mmdl contributors. All rights reserved.
import gzip
import os
import os.path as osp
import struct

import numpy as np
import pytest

from mmdl.datasets import PermutedFashionMNIST, PermutedMNIST
from mmdl.datasets.continual import FASHION_MNIST_DEBIAN_ROOT, read_idx
from mmdl.testing import write_mnist_idx

FILES = [
    'train-images-idx3-ubyte', 'train-labels-idx1-ubyte',
    't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'
]


def parse_idx(path):
    """Independent parse: (magic, dims, flat uint8 data)."""
    with open(path, 'rb') as f:
        raw = f.read()
    if path.endswith('.gz'):
        raw = gzip.decompress(raw)
    magic = struct.unpack('>I', raw[:4])[0]
    ndim = raw[3]
    dims = [
        struct.unpack('>I', raw[4 + 4 * k:8 + 4 * k])[0] for k in range(ndim)
    ]
    data = np.array(list(raw[4 + 4 * ndim:]), dtype=np.uint8)
    return magic, dims, data


def loaded(dataset):
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    return (np.stack([info['img'] for info in infos]),
            [info['gt_label'] for info in infos])


@pytest.mark.filterwarnings('ignore:The given NumPy array is not writable')
@pytest.mark.parametrize('gzip_files', [True, False])
def test_write_and_read_idx(tmp_path, gzip_files):
    data_root = write_mnist_idx(
        str(tmp_path), num_train=13, num_test=10, gzip=gzip_files)
    suffix = '.gz' if gzip_files else ''
    assert sorted(os.listdir(data_root)) == sorted(f + suffix for f in FILES)
    for split, part, num in (('train', 'train', 13), ('test', 't10k', 10)):
        images_path = osp.join(data_root, f'{part}-images-idx3-ubyte{suffix}')
        labels_path = osp.join(data_root, f'{part}-labels-idx1-ubyte{suffix}')
        magic, dims, data = parse_idx(images_path)
        assert (magic, dims) == (2051, [num, 28, 28])
        images = data.reshape(num, 28, 28)
        magic, dims, labels = parse_idx(labels_path)
        assert (magic, dims) == (2049, [num])
        assert labels.max() <= 9
        np.testing.assert_array_equal(read_idx(images_path, 2051), images)
        np.testing.assert_array_equal(read_idx(labels_path), labels)
        dataset = PermutedMNIST(
            data_root, split=split, task_id=0, serialize_data=False)
        got_images, got_labels = loaded(dataset)
        np.testing.assert_array_equal(got_images, images)
        assert got_labels == labels.tolist()
        assert all(isinstance(label, int) for label in got_labels)
    if not gzip_files:
        # the uncompressed copy also loads with mmpretrain's reader
        from mmpretrain.datasets import MNIST
        dataset = MNIST(
            data_root=data_root, split='test', test_mode=True, download=False)
        mm_images, mm_labels = loaded(dataset)
        np.testing.assert_array_equal(mm_images, images)
        assert [int(label) for label in mm_labels] == labels.tolist()


def test_prefix_and_uncompressed_preferred(tmp_path):
    root = str(tmp_path)
    write_mnist_idx(root, num_test=4, gzip=True, prefix='fashion-', seed=1)
    write_mnist_idx(root, num_test=4, gzip=False, prefix='fashion-', seed=2)
    raw = read_idx(osp.join(root, 'fashion-t10k-images-idx3-ubyte'))
    dataset = PermutedMNIST(
        root, split='test', file_prefix='fashion-', serialize_data=False)
    np.testing.assert_array_equal(loaded(dataset)[0], raw)


def test_missing_file_is_named(tmp_path):
    data_root = write_mnist_idx(str(tmp_path))
    os.remove(osp.join(data_root, 't10k-labels-idx1-ubyte.gz'))
    PermutedMNIST(data_root, split='train', serialize_data=False)
    with pytest.raises(FileNotFoundError, match='t10k-labels-idx1-ubyte'):
        PermutedMNIST(data_root, split='test')
    with pytest.raises(ValueError, match='data_root'):
        PermutedMNIST(split='test')
    with pytest.raises(ValueError, match='split'):
        PermutedMNIST(data_root, split='val')


@pytest.mark.parametrize('gzip_files', [True, False])
def test_bad_magic_names_the_file(tmp_path, gzip_files):
    data_root = write_mnist_idx(str(tmp_path), gzip=gzip_files)
    suffix = '.gz' if gzip_files else ''
    # swap the test images and labels: each has the other's magic number
    images = osp.join(data_root, 't10k-images-idx3-ubyte' + suffix)
    labels = osp.join(data_root, 't10k-labels-idx1-ubyte' + suffix)
    os.rename(images, images + '.tmp')
    os.rename(labels, images)
    os.rename(images + '.tmp', labels)
    with pytest.raises(ValueError) as info:
        PermutedMNIST(data_root, split='test')
    assert images in str(info.value) and '2049' in str(info.value)
    with pytest.raises(ValueError, match='2051'):
        read_idx(labels, 2049)
    # a wrong header (not an IDX file at all)
    bad = osp.join(str(tmp_path), 'bad-idx')
    with open(bad, 'wb') as f:
        f.write(struct.pack('>II', 0x12345678, 1) + b'\0')
    with pytest.raises(ValueError, match='bad-idx'):
        read_idx(bad)
    # a truncated data part
    with open(bad, 'wb') as f:
        f.write(struct.pack('>II', 2049, 5) + b'\0\0')
    with pytest.raises(ValueError, match='bad-idx'):
        read_idx(bad, 2049)


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
    dataset = PermutedFashionMNIST(
        split='test', task_id=1, serialize_data=False)
    assert len(dataset) == 10000
    assert dataset.metainfo['classes'][0] == 'T-shirt/top'
    labels = np.array(loaded(dataset)[1])
    np.testing.assert_array_equal(np.bincount(labels), [1000] * 10)
    assert dataset.get_data_info(0)['img'].shape == (28, 28)
