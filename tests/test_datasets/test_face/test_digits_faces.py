# Copyright (c) mmdl contributors. All rights reserved.
"""The miniature digits face set: written on first use by the datasets'
``prepare`` step, in the real formats, held-out pairs labelled by digit."""
import numpy as np
from mmengine.registry import DefaultScope

from mmdl.datasets.digits import NUM_TEST, _read_digits
from mmdl.registry import DATASETS


def test_written_on_first_use(tmp_path):
    root = tmp_path / 'cache' / 'digits_faces'
    with DefaultScope.overwrite_default_scope('mmdl'):
        train = DATASETS.build(
            dict(
                type='MXFaceDataset',
                data_root=str(root),
                prepare=dict(type='write_digits_face_set')))
        held = DATASETS.build(
            dict(
                type='BinVerificationDataset',
                data_root=str(root),
                ann_file='heldout.bin',
                prepare=dict(type='write_digits_face_set')))
    images, labels = _read_digits()
    train_labels = labels[:len(labels) - NUM_TEST]
    assert len(train) == len(train_labels) and train.num_classes == 10
    assert sorted(train.get_cat_ids(i)[0] for i in range(len(train))) == \
        sorted(train_labels.tolist())
    sample = train.get_data_info(0)
    assert sample['img'].shape == (112, 112, 3)
    assert len(held) == 600 and sum(held.issame) == 150
    # the pairs list names each image by its digit folder
    for line in (root / 'heldout_pairs.txt').read_text().splitlines():
        a, b, same = line.split()
        assert (a.split('/')[0] == b.split('/')[0]) == (same == '1')
    # record 1 is the first training image of digit 0, rendered to
    # 112x112: averaged back over 14x14 blocks it is that digit
    assert 'img_bytes' in held.get_data_info(0)
    first = images[np.flatnonzero(train_labels == 0)[0]]
    big = sample['img'][..., 0].astype(float)
    small = big.reshape(8, 14, 8, 14).mean((1, 3))
    assert sample['gt_label'] == 0
    assert np.corrcoef(small.ravel(), first.ravel())[0, 1] > 0.9
    before = (root / 'train.rec').stat().st_mtime
    with DefaultScope.overwrite_default_scope('mmdl'):
        DATASETS.build(
            dict(
                type='MXFaceDataset',
                data_root=str(root),
                prepare=dict(type='write_digits_face_set')))
    assert (root / 'train.rec').stat().st_mtime == before  # not rewritten
