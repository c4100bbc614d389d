# Copyright (c) mmdl contributors. All rights reserved.
import os
import os.path as osp
import random

import numpy as np
import pytest
import torch
from mmengine.dataset import DefaultSampler, pseudo_collate
from mmengine.registry import DefaultScope
from mxrec_helpers import (encode, ir_payload, noise_image, write_face_set,
                           write_rec_files)

from mmdl.datasets import MXFaceDataset
from mmdl.registry import DATASETS


@pytest.fixture
def face_set(tmp_path):
    return write_face_set(str(tmp_path / 'faces'))


def test_samples_labels_and_images(face_set):
    dataset = MXFaceDataset(face_set['root'])
    assert len(dataset) == 6
    assert dataset.header_range == (7, 10)
    assert dataset.num_classes == 3 and dataset.image_size == (12, 10)
    assert dataset.keys.tolist() == face_set['keys']
    assert dataset.metainfo == dict(
        classes=('0', '1', '2'), num_classes=3, image_size=(12, 10))
    for idx, key in enumerate(face_set['keys']):
        info = dataset.get_data_info(idx)
        assert info['key'] == key and info['sample_idx'] == idx
        assert info['gt_label'] == face_set['labels'][idx]
        assert isinstance(info['gt_label'], int)
        assert info['img'].dtype == np.uint8
        assert np.array_equal(info['img'], face_set['decoded'][key])
        assert info['img_shape'] == info['ori_shape'] == (12, 10)
        assert dataset.get_cat_ids(idx) == [face_set['labels'][idx]]
        assert dataset.identity_of_key(key) == face_set['labels'][idx]
    # PNG is lossless: the BGR array written is the one read
    assert np.array_equal(dataset.get_data_info(3)['img'], noise_image(4))
    assert dataset.id_ranges.tolist() == [list(r) for r in face_set['ranges']]
    with pytest.raises(KeyError, match='no identity record holds image key'):
        dataset.identity_of_key(7)
    with pytest.raises(IndexError, match='index 6 out of range'):
        dataset[6]
    assert dataset.get_data_info(-1)['key'] == 6


def test_random_access_in_shuffled_order(face_set):
    dataset = MXFaceDataset(face_set['root'])
    order = list(range(len(dataset))) * 2
    random.Random(0).shuffle(order)
    for idx in order:
        sample = dataset[idx]
        key = face_set['keys'][idx]
        assert sample['key'] == key
        assert np.array_equal(sample['img'], face_set['decoded'][key])


def test_built_in_mmdl_scope_with_mmcv_and_mmpretrain_transforms(face_set):
    pipeline = [
        dict(type='RandomFlip', prob=1.0, direction='horizontal'),
        dict(type='mmpretrain.PackInputs')
    ]
    with DefaultScope.overwrite_default_scope('mmdl'):
        dataset = DATASETS.build(
            dict(
                type='MXFaceDataset',
                data_root=face_set['root'],
                pipeline=pipeline,
                test_mode=True))
    sample = dataset[4]
    flipped = face_set['decoded'][5][:, ::-1]
    assert torch.equal(sample['inputs'],
                       torch.from_numpy(flipped.transpose(2, 0, 1).copy()))
    assert sample['data_samples'].gt_label.tolist() == [1]
    assert sample['data_samples'].sample_idx == 4


def test_indices(face_set):
    root = face_set['root']
    assert MXFaceDataset(root, indices=2).keys.tolist() == [1, 2]
    assert MXFaceDataset(root, indices=-2).keys.tolist() == [5, 6]
    subset = MXFaceDataset(root, indices=[4, 0])
    assert subset.keys.tolist() == [5, 1]
    assert subset.get_data_info(0)['gt_label'] == 1
    with pytest.raises(ValueError, match='indices holds 6, outside'):
        MXFaceDataset(root, indices=[6])


def test_dataloader_with_two_workers(face_set):
    dataset = MXFaceDataset(
        face_set['root'], pipeline=[dict(type='mmpretrain.PackInputs')])
    dataset[0]  # the parent opens the file before the workers fork
    loader = torch.utils.data.DataLoader(
        dataset, batch_size=2, num_workers=2, collate_fn=pseudo_collate)
    seen = {}
    for batch in loader:
        for inputs, sample in zip(batch['inputs'], batch['data_samples']):
            seen[sample.sample_idx] = (inputs, sample.gt_label.item())
    assert sorted(seen) == list(range(6))
    for idx, key in enumerate(face_set['keys']):
        inputs, label = seen[idx]
        assert label == face_set['labels'][idx]
        assert np.array_equal(inputs.numpy().transpose(1, 2, 0),
                              face_set['decoded'][key])


def test_default_sampler_on_two_ranks(face_set, monkeypatch):
    dataset = MXFaceDataset(face_set['root'], indices=5)
    covered = []
    for rank in range(2):
        monkeypatch.setattr(
            'mmengine.dataset.sampler.get_dist_info',
            lambda rank=rank: (rank, 2))
        sampler = DefaultSampler(dataset, shuffle=True, seed=0)
        assert (sampler.rank, sampler.world_size) == (rank, 2)
        indices = list(sampler)
        assert len(indices) == 3  # 5 samples rounded up to 6
        covered += indices
        keys = [dataset[i]['key'] for i in indices]
        assert keys == [dataset.keys[i] for i in indices]
    assert sorted(set(covered)) == list(range(5))


def test_no_header_record(tmp_path):
    images = [encode(noise_image(i)) for i in range(3)]
    records = [(0, ir_payload(2.0, images[0])),
               (5, ir_payload([0.0, 9.0], images[1])),
               (3, ir_payload(1.0, images[2]))]
    root = str(tmp_path)
    write_rec_files(root, records)
    with open(osp.join(root, 'property'), 'w') as f:
        f.write('3,12,10')
    dataset = MXFaceDataset(root)
    assert dataset.header_range is None and dataset.id_ranges is None
    assert dataset.keys.tolist() == [0, 5, 3]  # index order
    assert [dataset.get_data_info(i)['gt_label']
            for i in range(3)] == [2, 0, 1]
    assert np.array_equal(dataset[1]['img'], noise_image(1))
    os.remove(osp.join(root, 'property'))
    with pytest.raises(FileNotFoundError, match='property does not exist'):
        MXFaceDataset(root)
    with pytest.raises(
            ValueError,
            match='no header record, so the number '
            'of classes must come from a property file'):
        MXFaceDataset(root, property_file=None)


def test_property_disagreeing_with_header(tmp_path):
    root = str(tmp_path / 'faces')
    write_face_set(root, num_classes_property=4)
    with pytest.raises(ValueError) as error:
        MXFaceDataset(root)
    message = str(error.value)
    assert osp.join(root, 'property') in message
    assert osp.join(root, 'train.rec') in message
    assert 'says 4 classes' in message and '3 identity records' in message
    assert MXFaceDataset(root, property_file=None).num_classes == 3


def test_missing_files_name_the_layout(tmp_path, face_set):
    with pytest.raises(
            FileNotFoundError, match='nope is not a directory; data_root='):
        MXFaceDataset(str(tmp_path / 'nope'))
    os.remove(osp.join(face_set['root'], 'train.idx'))
    with pytest.raises(FileNotFoundError) as error:
        MXFaceDataset(face_set['root'])
    assert str(error.value) == (
        f'MXFaceDataset: {osp.join(face_set["root"], "train.idx")} does not '
        f'exist; data_root={face_set["root"]!r} should hold insightface\'s '
        'layout: train.rec, train.idx, property')


def test_bad_image_and_label(tmp_path):
    root = str(tmp_path)
    records = [(0, ir_payload([3.0, 4.0])),
               (1, ir_payload(0.0, b'GIF89a not an image')),
               (2, ir_payload(5.0, encode(noise_image(0)))),
               (3, ir_payload([1.0, 4.0]))]
    offsets = write_rec_files(root, records)
    with open(osp.join(root, 'property'), 'w') as f:
        f.write('1,12,10')
    dataset = MXFaceDataset(root)
    rec = osp.join(root, 'train.rec')
    with pytest.raises(ValueError) as error:
        dataset[0]
    assert str(error.value).startswith(
        f'{rec}: image record key 1 at byte offset {offsets[1]}: the image '
        'is neither JPEG nor PNG')
    with pytest.raises(
            ValueError,
            match='image record key 2 has label 5.0, '
            r'not a class id in \[0, 1\)'):
        dataset[1]
    with pytest.raises(ValueError, match='identity record key 3 has label'):
        dataset.id_ranges


def test_header_keys_missing_from_index(tmp_path):
    root = str(tmp_path)
    write_rec_files(root, [(0, ir_payload([3.0, 4.0])),
                           (1, ir_payload(0.0, encode(noise_image(0)))),
                           (3, ir_payload([1.0, 2.0]))])
    with pytest.raises(
            ValueError,
            match='image records are keys 1 to 2 but '
            'key 2 is not in'):
        MXFaceDataset(root, property_file=None)


def test_bad_header_and_undecodable_image(tmp_path):
    root = str(tmp_path)
    image = ir_payload(0.0, b'\x89PNG\r\n\x1a\n truncated')
    for label in ([0.0, 2.0], [2.5, 3.0], [float('nan'), 3.0], [3.0, 2.0]):
        write_rec_files(root, [(0, ir_payload(label)), (1, image)])
        with pytest.raises(
                ValueError,
                match=r'train.rec: record 0 \(header'
                r'\): \[L0, L1\] = .* are not integers with 1 <= '
                'L0 <= L1'):
            MXFaceDataset(root, property_file=None)
    write_rec_files(root, [(0, ir_payload([7.0])), (1, image)])
    with pytest.raises(ValueError, match='expected the label'):
        MXFaceDataset(root, property_file=None)
    offsets = write_rec_files(root, [(0, ir_payload([2.0, 3.0])), (1, image),
                                     (2, ir_payload([1.0, 2.0]))])
    dataset = MXFaceDataset(root, property_file=None)
    with pytest.raises(
            ValueError,
            match=f'image record key 1 at byte offset '
            f'{offsets[1]}: the PNG image .* does not decode'):
        dataset[0]
