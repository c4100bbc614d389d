# Copyright (c) mmdl contributors. All rights reserved.
import gzip
import os
import os.path as osp
import struct

import numpy as np
import pytest

from mmdl.testing import idx_bytes, write_mnist_idx

FILES = [
    'train-images-idx3-ubyte', 'train-labels-idx1-ubyte',
    't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'
]


def test_idx_bytes():
    assert idx_bytes(np.array([[1, 2, 3]], np.uint8)) == bytes(
        [0, 0, 8, 2, 0, 0, 0, 1, 0, 0, 0, 3, 1, 2, 3])
    assert idx_bytes(np.array([-2, 258], np.int16)) == bytes(
        [0, 0, 11, 1, 0, 0, 0, 2, 0xFF, 0xFE, 0x01, 0x02])
    assert idx_bytes(np.array([1.5], np.float64))[8:] == struct.pack('>d', 1.5)
    for bad in (np.zeros(2, np.uint16), np.uint8(1)):
        with pytest.raises(ValueError, match='no IDX type'):
            idx_bytes(bad)


@pytest.mark.filterwarnings('ignore:The given NumPy array is not writable')
@pytest.mark.parametrize('compress', [True, False])
def test_write_mnist_idx(tmp_path, compress):
    root = write_mnist_idx(
        str(tmp_path), num_train=13, num_test=10, gzip=compress)
    suffix = '.gz' if compress else ''
    assert sorted(os.listdir(root)) == sorted(f + suffix for f in FILES)
    for part, num in (('train', 13), ('t10k', 10)):
        for kind, header in (('images-idx3', (2051, num, 28, 28)),
                             ('labels-idx1', (2049, num))):
            with open(osp.join(root, f'{part}-{kind}-ubyte{suffix}'),
                      'rb') as f:
                raw = f.read()
            if compress:
                raw = gzip.decompress(raw)
            size = 4 * len(header)
            assert struct.unpack(f'>{len(header)}I', raw[:size]) == header
            assert len(raw) == size + int(np.prod(header[1:]))
        labels = np.frombuffer(raw, np.uint8, offset=8)
        assert sorted(labels.tolist()) == sorted(i % 10 for i in range(num))
    if not compress:
        # the uncompressed copy loads with mmpretrain's reader
        from mmpretrain.datasets import MNIST
        dataset = MNIST(
            data_root=root, split='test', test_mode=True, download=False)
        assert len(dataset) == 10
        assert [int(dataset.get_data_info(i)['gt_label'])
                for i in range(10)] == labels.tolist()
