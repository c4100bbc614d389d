# Copyright (c) mmdl contributors. All rights reserved.
"""The .bin verification set and the IJB suite on miniature files written
here with pickle, OpenCV and plain text."""
import pickle

import cv2
import numpy as np
import pytest

from mmdl.datasets import BinVerificationDataset, IJBDataset
from mmdl.datasets.face import ARCFACE_TEMPLATE, read_pairs

META = ('sample_idx', 'pair_index', 'issame', 'dataset_name')


def _image(seed, size=(112, 112)):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 255, size + (3, ), dtype=np.uint8)


def _encode(img, ext):
    ok, data = cv2.imencode(ext, img)
    assert ok
    return data.tobytes()


def _write_bin(path, pairs=4, odd_width=False):
    images = [_image(i) for i in range(2 * pairs)]
    if odd_width:
        images[3] = _image(99, (120, 100))
    bins = [_encode(img, '.png' if i % 2 else '.jpg')
            for i, img in enumerate(images)]
    issame = [i % 2 == 0 for i in range(pairs)]
    with open(path, 'wb') as f:
        pickle.dump((bins, issame), f, protocol=2)
    return images, issame


def test_bin_dataset(tmp_path):
    images, issame = _write_bin(tmp_path / 'lfw.bin', odd_width=True)
    dataset = BinVerificationDataset(
        ann_file=str(tmp_path / 'lfw.bin'),
        pipeline=[dict(type='mmpretrain.PackInputs', meta_keys=META)])
    assert len(dataset) == 8 and dataset.name == 'lfw'
    assert dataset.issame == issame
    first = dataset[0]
    assert first['inputs'].shape == (3, 112, 112)
    # the PNG image is lossless and BGR as OpenCV decodes it
    png = dataset[1]['inputs'].permute(1, 2, 0).numpy()
    assert np.array_equal(png, images[1])
    sample = dataset[3]['data_samples']
    assert (sample.pair_index, sample.issame, sample.dataset_name) == (
        1, False, 'lfw')
    # a 100-wide image: short side resized to 112
    assert dataset[3]['inputs'].shape == (3, 134, 112)
    named = BinVerificationDataset(
        ann_file=str(tmp_path / 'lfw.bin'), name='LFW')
    assert named.get_data_info(0)['dataset_name'] == 'LFW'


def test_bin_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.bin does not exist'):
        BinVerificationDataset(ann_file=str(tmp_path / 'nope.bin'))
    bad = tmp_path / 'bad.bin'
    with open(bad, 'wb') as f:
        pickle.dump(([b'x'] * 3, [True]), f)
    with pytest.raises(ValueError, match='bad.bin: 3 images for 1 pairs'):
        BinVerificationDataset(ann_file=str(bad))
    junk = tmp_path / 'junk.bin'
    junk.write_bytes(b'not a pickle')
    with pytest.raises(ValueError, match='junk.bin: not a verification set'):
        BinVerificationDataset(ann_file=str(junk))
    notimg = tmp_path / 'img.bin'
    with open(notimg, 'wb') as f:
        pickle.dump(([b'GIF89a...', b'\xff\xd8'], [True]), f)
    dataset = BinVerificationDataset(ann_file=str(notimg))
    with pytest.raises(ValueError, match=r'img.bin: image 0'):
        dataset[0]


def _write_ijb(root, target='ijbc', mismatch=False):
    (root / 'loose_crop').mkdir(parents=True)
    (root / 'meta').mkdir()
    lines, tid_lines = [], []
    rng = np.random.default_rng(0)
    for i in range(6):
        name = f'{i + 1}.jpg'
        cv2.imwrite(str(root / 'loose_crop' / name), _image(i, (150, 130)))
        points = ARCFACE_TEMPLATE * 1.1 + rng.uniform(0, 5, (5, 2))
        lines.append(' '.join([name] + [f'{v:.3f}' for v in points.ravel()] +
                              [f'{0.5 + i / 20:.2f}']))
        tid_lines.append(
            f'{"x.jpg" if mismatch and i == 4 else name} {100 + i // 2} '
            f'{i // 3}')
    (root / 'meta' / f'{target}_name_5pts_score.txt').write_text(
        '\n'.join(lines) + '\n')
    (root / 'meta' / f'{target}_face_tid_mid.txt').write_text(
        '\n'.join(tid_lines) + '\n')
    (root / 'meta' / f'{target}_template_pair_label.txt').write_text(
        '100 101 0\n100 102 1\n101 102 0\n')


def test_ijb_dataset(tmp_path):
    _write_ijb(tmp_path)
    dataset = IJBDataset(
        data_root=str(tmp_path),
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='mmdl.FaceAlign'),
            dict(
                type='mmpretrain.PackInputs',
                meta_keys=('sample_idx', 'template_id', 'media_id',
                           'faceness'))
        ])
    assert len(dataset) == 6
    info = dataset.get_data_info(4)
    assert (info['template_id'], info['media_id']) == (102, 1)
    assert info['faceness'] == pytest.approx(0.7)
    assert info['landmarks'].shape == (5, 2)
    item = dataset[4]
    assert item['inputs'].shape == (3, 112, 112)
    assert item['data_samples'].template_id == 102
    t1, t2, labels = read_pairs(str(tmp_path), 'IJBC')
    assert t1.tolist() == [100, 100, 101] and labels.tolist() == [0, 1, 0]


def test_ijb_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='ijbc_name_5pts_score.txt'):
        IJBDataset(data_root=str(tmp_path))
    _write_ijb(tmp_path, mismatch=True)
    with pytest.raises(ValueError, match='disagree on line 5'):
        IJBDataset(data_root=str(tmp_path))
    with pytest.raises(ValueError, match='target must be one of'):
        IJBDataset(data_root=str(tmp_path), target='IJBA')
    (tmp_path / 'meta' / 'ijbc_template_pair_label.txt').write_text('1 2\n')
    with pytest.raises(ValueError, match='3 integers per line'):
        read_pairs(str(tmp_path), 'IJBC')
