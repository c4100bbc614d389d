# Copyright (c) mmdl contributors. All rights reserved.
import gzip
import os.path as osp
import struct

import numpy as np
import pytest

from mmdl.datasets.continual import find_idx_file, read_idx


def write(path, raw, compress=False):
    with open(path, 'wb') as f:
        f.write(gzip.compress(raw) if compress else raw)
    return path


@pytest.mark.parametrize('compress', [False, True])
def test_uint8_images(tmp_path, compress):
    # 2 images of 2x3 pixels, header and data written by hand
    raw = struct.pack('>4I', 0x00000803, 2, 2, 3) + bytes(range(12))
    path = write(
        str(tmp_path / ('images.gz' if compress else 'images')), raw, compress)
    got = read_idx(path, magic=2051)
    assert got.dtype == np.uint8 and got.shape == (2, 2, 3)
    assert got[1, 0, 2] == 8  # image 1, row 0, column 2: byte 6 + 2
    assert got.tolist() == [[[0, 1, 2], [3, 4, 5]], [[6, 7, 8], [9, 10, 11]]]
    got[0, 0, 0] = 255  # a new, writable array


@pytest.mark.parametrize('type_code, fmt, values', [
    (0x09, 'b', [-128, -1, 0, 127]),
    (0x0B, 'h', [-32768, -2, 1, 32767]),
    (0x0C, 'i', [-2**31, -3, 5, 2**31 - 1]),
    (0x0D, 'f', [-1.5, 0.0, 0.25, 3.0e38]),
    (0x0E, 'd', [-1e300, -0.125, 2.0, 1e-300]),
])
def test_multi_byte_types_are_big_endian(tmp_path, type_code, fmt, values):
    raw = struct.pack('>3I', (type_code << 8) | 2, 2, 2)
    raw += struct.pack(f'>4{fmt}', *values)
    got = read_idx(write(str(tmp_path / 'data'), raw))
    assert got.shape == (2, 2) and got.dtype.isnative
    assert got.ravel().tolist() == pytest.approx(values, rel=1e-7)


def test_bad_files_name_the_file(tmp_path):
    labels = struct.pack('>2I', 0x00000801, 3) + bytes([1, 2, 3])
    path = write(str(tmp_path / 'labels'), labels)
    with pytest.raises(ValueError, match='labels: bad IDX magic number 2049'):
        read_idx(path, magic=2051)
    cases = {
        'not-idx': struct.pack('>2I', 0x12345678, 1) + b'\0',
        'truncated-data': struct.pack('>2I', 0x00000801, 5) + b'\0\0',
        'trailing-data': labels + b'\0',
        'truncated-header': struct.pack('>2I', 0x00000803, 5),
        'too-short': b'\0\0',
        'four-dims': struct.pack('>5I', 0x00000804, 1, 1, 1, 1) + b'\0',
    }
    for name, raw in cases.items():
        with pytest.raises(ValueError, match=name):
            read_idx(write(str(tmp_path / name), raw))
    with pytest.raises(ValueError, match='not a valid gzip file'):
        read_idx(write(str(tmp_path / 'plain.gz'), labels))


def test_find_idx_file(tmp_path):
    root = str(tmp_path)
    write(osp.join(root, 'a.gz'), b'')
    assert find_idx_file(root, 'a') == osp.join(root, 'a.gz')
    write(osp.join(root, 'a'), b'')
    assert find_idx_file(root, 'a') == osp.join(root, 'a')
    with pytest.raises(FileNotFoundError, match='b.gz'):
        find_idx_file(root, 'b')
