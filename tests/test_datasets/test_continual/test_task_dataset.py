# Copyright (c) mmdl contributors. All rights reserved.
import numpy as np
import pytest
from mmengine.dataset import pseudo_collate
from mmengine.registry import DefaultScope

from mmdl.datasets import DigitsDataset, TaskDataset
from mmdl.registry import DATASETS
from mmdl.testing import write_cifar, write_mnist_idx

PACK = dict(type='mmpretrain.PackInputs', algorithm_keys=['task_id'])


@pytest.fixture(scope='module')
def roots(tmp_path_factory):
    return dict(
        mnist=write_mnist_idx(
            str(tmp_path_factory.mktemp('mnist')), num_train=6, num_test=4),
        cifar10=write_cifar(
            str(tmp_path_factory.mktemp('cifar10')), num_test=30),
        cifar100=write_cifar(
            str(tmp_path_factory.mktemp('cifar100')),
            cifar100=True,
            num_test=300))


def templates(roots):
    """Dataset configs without task_id, as a task-sequence loop gets them
    (``serialize_data=False`` only to save time)."""
    fast = dict(serialize_data=False)
    return [
        dict(type='PermutedDigits', split='test', **fast),
        dict(type='RotatedDigits', split='test', **fast),
        dict(type='SplitDigits', split='test', relabel=True, **fast),
        dict(
            type='PermutedMNIST',
            data_root=roots['mnist'],
            split='test',
            **fast),
        dict(
            type='RotatedMNIST',
            data_root=roots['mnist'],
            split='train',
            **fast),
        dict(
            type='SplitCIFAR10',
            data_root=roots['cifar10'],
            split='test',
            verify_md5=False,
            **fast),
        dict(
            type='SplitCIFAR100',
            data_root=roots['cifar100'],
            split='test',
            verify_md5=False,
            **fast),
        dict(
            type='TaskDataset',
            dataset=dict(type='DigitsDataset', split='test', **fast)),
    ]


def test_task_id_reaches_data_samples(roots):
    with DefaultScope.overwrite_default_scope('mmdl'):
        for template in templates(roots):
            for task_id in (0, 2):
                cfg = dict(template, task_id=task_id, pipeline=[PACK])
                dataset = DATASETS.build(cfg)
                assert type(dataset).__name__ == template['type']
                assert dataset.metainfo['task_id'] == task_id
                batch = pseudo_collate([dataset[i] for i in range(3)])
                assert [sample.task_id
                        for sample in batch['data_samples']] == [task_id] * 3
                assert all(sample.gt_label.numel() == 1
                           for sample in batch['data_samples'])


def test_serialized_dataset_keeps_task_id():
    with DefaultScope.overwrite_default_scope('mmdl'):
        dataset = DATASETS.build(
            dict(type='SplitDigits', split='test', task_id=3, pipeline=[PACK],
                 serialize_data=True))
    assert dataset.serialize_data
    assert dataset[0]['data_samples'].task_id == 3
    assert dataset.get_data_info(5)['task_id'] == 3


def test_prefixed_type_from_another_scope():
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        from mmpretrain.registry import DATASETS as MMPRETRAIN_DATASETS
        dataset = MMPRETRAIN_DATASETS.build(
            dict(
                type='mmdl.PermutedDigits',
                split='test',
                task_id=1,
                serialize_data=False))
    assert type(dataset).__name__ == 'PermutedDigits'


def test_task_dataset_wraps_samples():
    plain = DigitsDataset(split='test', serialize_data=False)
    with DefaultScope.overwrite_default_scope('mmdl'):
        dataset = TaskDataset(
            dict(
                type='DigitsDataset',
                split='test',
                serialize_data=False,
                pipeline=[PACK]),
            task_id=5)
    assert len(dataset) == len(plain) == 360
    for i in (0, 359):
        info = dataset.get_data_info(i)
        want = plain.get_data_info(i)
        assert info['task_id'] == 5
        np.testing.assert_array_equal(info['img'], want['img'])
        assert info['gt_label'] == want['gt_label']
        packed = dataset[i]
        assert packed['data_samples'].task_id == 5
        assert packed['data_samples'].gt_label.item() == want['gt_label']
    assert dataset.metainfo['classes'] == plain.metainfo['classes']
    assert dataset.metainfo['task_id'] == 5
    assert 'task_id' not in plain.metainfo


def test_task_dataset_sequence_of_datasets():
    sequence = [
        dict(type='DigitsDataset', split='test', serialize_data=False),
        dict(
            type='SplitDigits',
            split='test',
            task_id=4,
            relabel=True,
            serialize_data=False),
    ]
    with DefaultScope.overwrite_default_scope('mmdl'):
        first = DATASETS.build(
            dict(
                type='TaskDataset',
                dataset=sequence,
                task_id=0,
                pipeline=[PACK]))
        second = DATASETS.build(
            dict(
                type='TaskDataset',
                dataset=sequence,
                task_id=1,
                pipeline=[PACK]))
        with pytest.raises(ValueError, match='only 2 datasets'):
            TaskDataset(sequence, task_id=2)
        with pytest.raises(ValueError, match='task_id'):
            TaskDataset(sequence[0], task_id=-1)
    assert len(first) == 360
    assert first[0]['data_samples'].task_id == 0
    # the wrapper's task_id tags the samples; the inner dataset keeps its
    # own selection (here the last split-digits task: digits 8 and 9)
    assert second.metainfo['task_classes'] == (8, 9)
    assert second.metainfo['task_id'] == 1
    labels = {second[i]['data_samples'].gt_label.item() for i in range(10)}
    assert labels <= {0, 1}
    assert second[0]['data_samples'].task_id == 1


def test_task_dataset_refetch_and_test_mode():
    calls = []

    def drop_first(results):
        calls.append(results['sample_idx'])
        return None if len(calls) == 1 else results

    inner = DigitsDataset(split='test', serialize_data=False)
    dataset = TaskDataset(inner, task_id=1, pipeline=[drop_first])
    assert dataset[0]['task_id'] == 1
    assert len(calls) == 2
    inner = DigitsDataset(split='test', serialize_data=False, test_mode=True)
    calls.clear()
    dataset = TaskDataset(inner, task_id=1, pipeline=[drop_first])
    with pytest.raises(Exception, match='should not get `None`'):
        dataset[0]
