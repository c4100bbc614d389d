# Copyright (c) mmdl contributors. All rights reserved.
import numpy as np
import pytest
from sklearn.datasets import load_digits

from mmdl.datasets import DigitsDataset


def test_split_covers_sklearn_digits_exactly():
    digits = load_digits()
    train = DigitsDataset(split='train')
    test = DigitsDataset(split='test')
    assert (len(train), len(test)) == (1437, 360)
    images = np.concatenate([
        np.stack([train.get_data_info(i)['img'] for i in range(len(train))]),
        np.stack([test.get_data_info(i)['img'] for i in range(len(test))])
    ])
    labels = [train.get_data_info(i)['gt_label'] for i in range(len(train))]
    labels += [test.get_data_info(i)['gt_label'] for i in range(len(test))]
    assert images.dtype == np.uint8 and images.shape == (1797, 8, 8)
    # 0..16 intensities scaled to 0..255
    np.testing.assert_allclose(images / 255.0 * 16.0, digits.images, atol=0.04)
    np.testing.assert_array_equal(labels, digits.target)
    assert train.metainfo['classes'] == tuple('0123456789')


def test_all_classes_in_both_splits():
    for split in ('train', 'test'):
        dataset = DigitsDataset(split=split)
        labels = {
            dataset.get_data_info(i)['gt_label']
            for i in range(len(dataset))
        }
        assert labels == set(range(10))


def test_with_mmpretrain_pipeline():
    dataset = DigitsDataset(
        split='test',
        pipeline=[
            dict(type='Resize', scale=32),
            dict(type='mmpretrain.PackInputs')
        ])
    sample = dataset[0]
    assert tuple(sample['inputs'].shape) == (1, 32, 32)
    assert sample['data_samples'].gt_label.item() == load_digits().target[1437]


def test_bad_split():
    with pytest.raises(ValueError, match="split='val'"):
        DigitsDataset(split='val')


def test_falls_back_to_load_digits_without_the_bundled_file(monkeypatch):
    """Where scikit-learn's data file cannot be found, the dataset comes
    from ``load_digits`` and is the same."""
    from mmdl.datasets import digits as module
    direct = DigitsDataset(split='test')
    monkeypatch.setattr(module.importlib.util, 'find_spec', lambda name: None)
    module._read_digits.cache_clear()
    try:
        fallback = DigitsDataset(split='test')
    finally:
        module._read_digits.cache_clear()
    for i in (0, 137, 359):
        np.testing.assert_array_equal(
            fallback.get_data_info(i)['img'], direct.get_data_info(i)['img'])
        assert fallback.get_data_info(i)['gt_label'] == \
            direct.get_data_info(i)['gt_label']
