# Copyright (c) mmdl contributors. All rights reserved.
import csv
import os
import os.path as osp
import re

import pytest
from mmengine.registry import DefaultScope

from mmdl.datasets import TinyImageNet
from mmdl.registry import DATASETS
from mmdl.testing import write_tiny_imagenet

PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='mmpretrain.PackInputs')
]


@pytest.fixture
def tiny(tmp_path):
    return write_tiny_imagenet(str(tmp_path / 'tiny-imagenet-200'))


def samples(dataset):
    return [dataset.get_data_info(i) for i in range(len(dataset))]


def test_train_labels_follow_wnids_order(tiny):
    dataset = TinyImageNet(data_root=tiny['data_root'], split='train')
    assert len(dataset) == 3 * 4
    assert dataset.metainfo['wnids'] == tuple(tiny['wnids'])
    assert dataset.metainfo['classes'] == tuple(tiny['classes'])
    for info in samples(dataset):
        # train/<wnid>/images/<wnid>_<k>.JPEG
        wnid = osp.basename(osp.dirname(osp.dirname(info['img_path'])))
        assert info['gt_label'] == tiny['wnids'].index(wnid)
    assert [(osp.relpath(s['img_path'], tiny['data_root']), s['gt_label'])
            for s in samples(dataset)] == tiny['train']


def test_val_labels_match_annotations(tiny):
    root = tiny['data_root']
    with open(osp.join(root, 'wnids.txt')) as f:
        index = {wnid: i for i, wnid in enumerate(f.read().split())}
    with open(osp.join(root, 'val', 'val_annotations.txt'), newline='') as f:
        expected = [(osp.join(root, 'val', 'images', row[0]), index[row[1]])
                    for row in csv.reader(f, delimiter='\t')]
    dataset = TinyImageNet(data_root=root, split='val')
    assert len(dataset) == 3 * 2
    assert [(s['img_path'], s['gt_label'])
            for s in samples(dataset)] == expected
    assert sorted(label for _, label in expected) == [0, 0, 1, 1, 2, 2]


def test_test_split_has_no_labels(tiny):
    dataset = TinyImageNet(data_root=tiny['data_root'], split='test')
    assert len(dataset) == 2
    assert all('gt_label' not in s for s in samples(dataset))
    assert [
        osp.relpath(s['img_path'], tiny['data_root']) for s in samples(dataset)
    ] == tiny['test']


def test_build_from_registry_and_pipeline(tiny):
    with DefaultScope.overwrite_default_scope('mmdl'):
        dataset = DATASETS.build(
            dict(
                type='TinyImageNet',
                data_root=tiny['data_root'],
                split='val',
                pipeline=PIPELINE))
    assert isinstance(dataset, TinyImageNet)
    sample = dataset[0]
    assert tuple(sample['inputs'].shape) == (3, 64, 64)
    assert sample['data_samples'].gt_label.item() == tiny['val'][0][1]
    # the greyscale JPEG of the training set is loaded with 3 channels
    train = TinyImageNet(
        data_root=tiny['data_root'], split='train', pipeline=PIPELINE)
    assert tuple(train[3]['inputs'].shape) == (3, 64, 64)
    test = TinyImageNet(
        data_root=tiny['data_root'], split='test', pipeline=PIPELINE)
    assert tuple(test[1]['inputs'].shape) == (3, 64, 64)


def test_without_words_txt_classes_are_wnids(tiny):
    os.remove(osp.join(tiny['data_root'], 'words.txt'))
    dataset = TinyImageNet(data_root=tiny['data_root'], split='val')
    assert dataset.metainfo['classes'] == tuple(tiny['wnids'])


def test_missing_data_root(tmp_path):
    missing = str(tmp_path / 'nowhere')
    with pytest.raises(FileNotFoundError, match=re.escape(missing)):
        TinyImageNet(data_root=missing)


def test_missing_wnids(tiny):
    os.remove(osp.join(tiny['data_root'], 'wnids.txt'))
    with pytest.raises(FileNotFoundError, match='wnids.txt'):
        TinyImageNet(data_root=tiny['data_root'])


def test_bad_split(tiny):
    with pytest.raises(ValueError, match="split='valid'"):
        TinyImageNet(data_root=tiny['data_root'], split='valid')


def _edit_annotations(tiny, lineno, new_line):
    path = osp.join(tiny['data_root'], 'val', 'val_annotations.txt')
    with open(path) as f:
        lines = f.readlines()
    lines[lineno - 1] = new_line
    with open(path, 'w') as f:
        f.writelines(lines)


def test_short_annotation_line(tiny):
    _edit_annotations(tiny, 3, 'val_2.JPEG 17 3 40 50\n')
    with pytest.raises(
            ValueError, match=r'val_annotations\.txt line 3: .*2 tab'):
        TinyImageNet(data_root=tiny['data_root'], split='val')


def test_unknown_wnid_in_annotations(tiny):
    _edit_annotations(tiny, 2, 'val_1.JPEG\tn99999999\t1\t2\t30\t40\n')
    with pytest.raises(
            ValueError,
            match=r'val_annotations\.txt line 2: wnid .n99999999. .*wnids'):
        TinyImageNet(data_root=tiny['data_root'], split='val')


def test_missing_val_image(tiny):
    os.remove(osp.join(tiny['data_root'], 'val', 'images', 'val_4.JPEG'))
    with pytest.raises(FileNotFoundError, match=r'line 5: image .val_4'):
        TinyImageNet(data_root=tiny['data_root'], split='val')


def test_missing_train_class_dir(tiny):
    wnid = tiny['wnids'][1]
    class_dir = osp.join(tiny['data_root'], 'train', wnid)
    os.rename(class_dir, class_dir + '_moved')
    with pytest.raises(FileNotFoundError, match=re.escape(class_dir)):
        TinyImageNet(data_root=tiny['data_root'], split='train')
    # the other splits do not need the training directories
    assert len(TinyImageNet(data_root=tiny['data_root'], split='val')) == 6
