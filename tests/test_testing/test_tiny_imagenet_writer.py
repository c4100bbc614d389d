# Copyright (c) mmdl contributors. All rights reserved.
import csv
import os
import os.path as osp

from mmdl.testing import write_tiny_imagenet


def test_writer_layout(tmp_path):
    tiny = write_tiny_imagenet(str(tmp_path / 'tiny-imagenet-200'))
    root = tiny['data_root']
    with open(osp.join(root, 'wnids.txt')) as f:
        wnids = f.read().split()
    assert wnids == tiny['wnids'] and wnids != sorted(wnids)
    for wnid in wnids:
        assert osp.isfile(osp.join(root, 'train', wnid, f'{wnid}_boxes.txt'))
        assert len(os.listdir(osp.join(root, 'train', wnid, 'images'))) == 4
    with open(osp.join(root, 'val', 'val_annotations.txt')) as f:
        assert all(len(row) == 6 for row in csv.reader(f, delimiter='\t'))
    with open(osp.join(root, 'val', 'images', 'val_0.JPEG'), 'rb') as f:
        assert f.read(3) == b'\xff\xd8\xff'  # a real JPEG
