# Copyright (c) mmdl contributors. All rights reserved.
"""The poisoned-task format: writer, loader, PoisonedTaskDataset."""
import json
import os.path as osp

import numpy as np
import pytest

from mmdl.datasets import PermutedDigits, PoisonedTaskDataset
from mmdl.datasets.continual import (POISON_FORMAT, load_poisoned_task,
                                     read_idx, write_idx, write_poisoned_task)
from mmdl.registry import DATASETS

PIPELINE = [dict(type='mmpretrain.PackInputs', algorithm_keys=['task_id'])]


def clean_task(task=2, num=40):
    dataset = PermutedDigits(split='train', task_id=task, indices=num)
    images = np.stack([dataset.get_data_info(i)['img'] for i in range(num)])
    labels = np.array(
        [dataset.get_data_info(i)['gt_label'] for i in range(num)])
    return dataset, images, labels


def write_task(root, task=2, num=40):
    dataset, images, labels = clean_task(task, num)
    rng = np.random.default_rng(0)
    poisoned = np.clip(
        images.astype(int) + rng.integers(-20, 21, images.shape), 0,
        255).astype(np.uint8)
    manifest = write_poisoned_task(
        str(root), poisoned, labels,
        dict(
            poisoned_task=task,
            target_task=0,
            classes=list(dataset.metainfo['classes']),
            epsilon=20 / 255))
    return poisoned, labels, manifest


def test_round_trip_bit_exact(tmp_path):
    poisoned, labels, manifest = write_task(tmp_path)
    images, read_labels, read_manifest = load_poisoned_task(str(tmp_path))
    assert images.dtype == np.uint8 and np.array_equal(images, poisoned)
    assert np.array_equal(read_labels, labels)
    assert read_manifest == manifest
    for key in ('format', 'num_samples', 'image_shape', 'poisoned_task',
                'target_task', 'classes', 'files', 'epsilon'):
        assert key in manifest, key
    assert manifest['format'] == POISON_FORMAT
    assert manifest['num_samples'] == 40 and manifest['image_shape'] == [8, 8]
    # the files are plain IDX files
    assert read_idx(str(tmp_path / 'images-idx3-ubyte')).shape == (40, 8, 8)
    assert read_idx(str(tmp_path / 'labels-idx1-ubyte')).shape == (40, )


def test_dataset_gives_clean_kind_of_samples(tmp_path):
    poisoned, labels, _ = write_task(tmp_path)
    dataset = DATASETS.build(
        dict(
            type='PoisonedTaskDataset',
            data_root=str(tmp_path),
            task_id=2,
            pipeline=PIPELINE))
    clean = PermutedDigits(
        split='train', task_id=2, indices=40, pipeline=PIPELINE)
    assert len(dataset) == 40
    assert dataset.metainfo['task_id'] == 2
    assert dataset.metainfo['classes'] == clean.metainfo['classes']
    info, clean_info = dataset.get_data_info(3), clean.get_data_info(3)
    assert set(info) >= {'img', 'gt_label', 'task_id'}
    assert info['img'].dtype == clean_info['img'].dtype
    assert info['img'].shape == clean_info['img'].shape
    assert np.array_equal(info['img'], poisoned[3])
    sample, clean_sample = dataset[3], clean[3]
    assert sample['inputs'].shape == clean_sample['inputs'].shape
    assert sample['inputs'].dtype == clean_sample['inputs'].dtype
    assert int(sample['data_samples'].task_id) == 2
    assert int(sample['data_samples'].gt_label) == labels[3]


def test_colour_images_round_trip(tmp_path):
    images = np.random.default_rng(1).integers(
        0, 256, (5, 4, 3, 3), dtype=np.uint8)
    write_poisoned_task(
        str(tmp_path), images, [0, 1, 2, 3, 300], dict(poisoned_task=1))
    read, labels, manifest = load_poisoned_task(str(tmp_path))
    assert np.array_equal(read, images) and labels.tolist()[-1] == 300
    assert manifest['image_shape'] == [4, 3, 3]


def test_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='manifest.json'):
        PoisonedTaskDataset(data_root=str(tmp_path))
    write_task(tmp_path)
    with pytest.raises(ValueError, match='holds the poisoned data of task 2'):
        PoisonedTaskDataset(data_root=str(tmp_path), task_id=1)
    # a changed data file
    images = read_idx(str(tmp_path / 'images-idx3-ubyte'))
    images[0, 0, 0] ^= 1
    write_idx(str(tmp_path / 'images-idx3-ubyte'), images)
    with pytest.raises(ValueError, match='images-idx3-ubyte: SHA-256'):
        PoisonedTaskDataset(data_root=str(tmp_path))
    # a manifest that disagrees with the files
    write_task(tmp_path)
    path = tmp_path / 'manifest.json'
    manifest = json.loads(path.read_text())
    manifest['num_samples'] = 41
    path.write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match='num_samples 41'):
        PoisonedTaskDataset(data_root=str(tmp_path))
    del manifest['files']
    path.write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match=r"manifest.json: missing .*files"):
        PoisonedTaskDataset(data_root=str(tmp_path))
    path.write_text('{not json')
    with pytest.raises(ValueError, match='manifest.json: not a JSON'):
        PoisonedTaskDataset(data_root=str(tmp_path))
    write_task(tmp_path)
    (tmp_path / 'labels-idx1-ubyte').unlink()
    with pytest.raises(FileNotFoundError, match='labels-idx1-ubyte'):
        PoisonedTaskDataset(data_root=str(tmp_path))
    assert osp.isfile(tmp_path / 'images-idx3-ubyte')
