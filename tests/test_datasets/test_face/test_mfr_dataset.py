# Copyright (c) mmdl contributors. All rights reserved.
"""MFRDataset on a list file and images written here with OpenCV: paths,
identities and mask flags, images through a pipeline into packed samples
and MFRMetric, and errors naming the file and line."""
import cv2
import numpy as np
import pytest
import torch

from mmdl.datasets import MFRDataset
from mmdl.datasets.face import read_mfr_list
from mmdl.evaluation import MFRMetric
from mmdl.registry import DATASETS

LIST = """# image identity masked
id 7/masked_0.png 7 1
id 7/plain_0.png 7 0

id 7/plain_1.png 7 0
id_9/masked_0.png 9 1
id_9/plain_0.png 9 0
"""


def _write_set(root):
    paths = [
        line.rsplit(None, 2)[0] for line in LIST.splitlines()
        if line and not line.startswith('#')
    ]
    images = {}
    for i, path in enumerate(paths):
        img = np.random.default_rng(i).integers(
            0, 255, (112, 112, 3), dtype=np.uint8)
        file = root / 'images' / path
        file.parent.mkdir(parents=True, exist_ok=True)
        assert cv2.imwrite(str(file), img)
        images[path] = img
    (root / 'lists').mkdir()
    (root / 'lists' / 'mfr.txt').write_text(LIST)
    return images


def test_mfr_dataset_reads_list_and_images(tmp_path):
    images = _write_set(tmp_path)
    dataset = DATASETS.build(
        dict(
            type='MFRDataset',
            data_root=str(tmp_path),
            ann_file='lists/mfr.txt',
            data_prefix=dict(img_path='images'),
            pipeline=[
                dict(type='LoadImageFromFile'),
                dict(
                    type='mmpretrain.PackInputs',
                    meta_keys=('sample_idx', 'masked'))
            ]))
    assert isinstance(dataset, MFRDataset) and dataset.test_mode
    assert len(dataset) == 5
    info = dataset.get_data_info(0)
    assert info['img_path'] == str(tmp_path / 'images' / 'id 7' /
                                   'masked_0.png')
    assert (info['gt_label'], info['masked']) == (7, True)
    assert [dataset.get_data_info(i)['masked']
            for i in range(5)] == [True, False, False, True, False]
    item = dataset[4]
    assert np.array_equal(item['inputs'].permute(1, 2, 0).numpy(),
                          images['id_9/plain_0.png'])
    sample = item['data_samples']
    assert sample.masked is False and int(sample.gt_label) == 9
    # the packed samples feed the metric
    metric = MFRMetric(mask_far=0.5, all_far=0.5)
    samples = []
    for i in range(len(dataset)):
        packed = dataset[i]['data_samples']
        packed.set_field(torch.randn(4), 'embedding')
        samples.append(packed.to_dict())
    metric.process(None, samples)
    assert 'mfr/score' in metric.evaluate(len(samples))


def test_mfr_dataset_errors(tmp_path):
    path = tmp_path / 'bad.txt'
    for line, message in (('a.png 3', 'line 2: expected'),
                          ('a.png x 1', 'line 2: the identity must be'),
                          ('a.png 3 yes', 'line 2: the masked flag')):
        path.write_text(f'ok.png 1 0\n{line}\n')
        with pytest.raises(ValueError, match=f'bad.txt: {message}'):
            MFRDataset(ann_file=str(path))
    with pytest.raises(FileNotFoundError, match='missing.txt'):
        read_mfr_list(str(tmp_path / 'missing.txt'))
    path.write_text('# nothing\n\n')
    with pytest.raises(ValueError, match='lists no image'):
        MFRDataset(ann_file=str(path))
