# Copyright (c) mmdl contributors. All rights reserved.
"""RandomFaceMask and the mask synthesis: the painted pixels are exactly the
segmentation, the mask covers the lower face and never the eyes, draws are
reproducible per sample, the colours follow their probabilities, the map
travels through PackInputs, and the verification sets flag their probes."""
import pickle

import cv2
import numpy as np
import pytest
from mmcv.transforms import Compose

from mmdl.datasets import BinVerificationDataset, IJBDataset, RandomFaceMask
from mmdl.datasets.face import (ARCFACE_TEMPLATE, FACE_MASK_COLORS,
                                face_region, mask_polygon, render_face_mask,
                                template_landmarks)
from mmdl.registry import TRANSFORMS

MAGENTA = (255, 0, 255)  # BGR; no mask colour, texture or shade makes it
SIZE = (112, 112)


def _magenta(size=SIZE):
    img = np.empty(size + (3, ), dtype=np.uint8)
    img[:] = MAGENTA
    return img


def _check_lower_face(img, out, seg, landmarks):
    changed = (out != img).any(-1)
    assert seg.dtype == np.uint8 and set(np.unique(seg)) <= {0, 1}
    assert np.array_equal(changed, seg.astype(bool))
    eye_y = landmarks[:2, 1].max()
    nose_y = landmarks[2, 1]
    rows = np.nonzero(seg)[0]
    # strictly below the eye line, by a quarter of the eye-to-nose depth
    assert rows.min() >= eye_y + 0.25 * (nose_y - eye_y)
    ys, xs = np.mgrid[:seg.shape[0], :seg.shape[1]]
    for x, y in landmarks[:2]:
        assert not seg[(xs - x)**2 + (ys - y)**2 <= 25].any()
    for x, y in landmarks[3:]:
        assert seg[int(round(y)), int(round(x))]
    mouth = landmarks[3:].mean(0)
    assert seg[int(round(mouth[1] + 8)), int(round(mouth[0]))]


@pytest.mark.parametrize('shape', ['surgical', 'cloth'])
def test_painted_pixels_are_the_segmentation(shape):
    img = _magenta()
    landmarks = template_landmarks(SIZE)
    for h in np.linspace(0.33, 0.4, 5):
        for seed in range(8):
            out, seg = render_face_mask(
                img, landmarks, seed, height_fraction=h, shape=shape)
            _check_lower_face(img, out, seg, landmarks)


def test_transform_masks_the_lower_face_over_many_seeds():
    img = _magenta()
    mask = RandomFaceMask(prob=1.0, seed=1)
    for idx in range(40):
        out = mask(dict(img=img.copy(), sample_idx=idx))
        assert out['masked'] is True
        _check_lower_face(img, out['img'], out['gt_seg_map'],
                          template_landmarks(SIZE))


def test_height_maps_eye_line_and_nose_tip():
    landmarks = template_landmarks(SIZE)
    for shape in ('surgical', 'cloth'):
        half = mask_polygon(landmarks, 0.5, shape, SIZE)
        assert half[:, 1].min() == pytest.approx(landmarks[2, 1], abs=0.5)
        eyes = mask_polygon(landmarks, 0.25, shape)
        assert eyes[:, 1].min() == pytest.approx(
            landmarks[:2, 1].mean(), abs=0.5)
        # clipped to the image, reaching its bottom (under the chin)
        assert half[:, 1].max() == 111
    with pytest.raises(ValueError, match='shape: expected one of'):
        mask_polygon(landmarks, 0.35, 'n95')
    with pytest.raises(ValueError, match='height_fraction'):
        mask_polygon(landmarks, 1.5)
    with pytest.raises(ValueError, match='landmarks: expected 5'):
        mask_polygon(landmarks[:4], 0.35)
    with pytest.raises(ValueError, match="unknown key.*'chin'"):
        mask_polygon(landmarks, 0.35, chin=1)


def test_grey_and_float_images():
    grey = np.full(SIZE, 7, dtype=np.uint8)
    out, seg = render_face_mask(grey, template_landmarks(SIZE), 0)
    assert out.shape == SIZE and np.array_equal(out != 7, seg.astype(bool))
    with pytest.raises(ValueError, match='img: expected'):
        render_face_mask(
            np.zeros((4, 4, 2), np.uint8), template_landmarks((4, 4)), 0)


def test_same_seed_and_index_same_mask():
    img = _magenta()
    mask = RandomFaceMask(prob=1.0, seed=5)
    first = mask(dict(img=img.copy(), sample_idx=3))
    again = RandomFaceMask(
        prob=1.0, seed=5)(
            dict(img=img.copy(), sample_idx=3))
    assert np.array_equal(first['img'], again['img'])
    assert np.array_equal(first['gt_seg_map'], again['gt_seg_map'])
    others = [
        mask(dict(img=img.copy(), sample_idx=i))['img'].tobytes()
        for i in range(10)
    ]
    assert len(set(others)) >= 9
    with pytest.raises(KeyError, match='sample_idx'):
        mask(dict(img=img.copy()))


def test_unseeded_draws_follow_numpy_global_seed():
    img = _magenta()
    mask = RandomFaceMask(prob=1.0)
    np.random.seed(0)
    draws = [mask(dict(img=img.copy()))['img'].tobytes() for _ in range(6)]
    assert len(set(draws)) >= 5
    np.random.seed(0)
    assert mask(dict(img=img.copy()))['img'].tobytes() == draws[0]


def test_prob_zero_and_condition_key():
    img = _magenta()
    out = RandomFaceMask(prob=0.0, seed=0)(dict(img=img.copy(), sample_idx=0))
    assert np.array_equal(out['img'], img) and out['masked'] is False
    assert out['gt_seg_map'].shape == SIZE and not out['gt_seg_map'].any()
    assert out['gt_seg_map'].dtype == np.uint8

    mask = RandomFaceMask(prob=1.0, condition_key='probe', seed=0)
    gallery = mask(dict(img=img.copy(), sample_idx=0, probe=False))
    assert np.array_equal(gallery['img'], img) and not gallery['masked']
    probe = mask(dict(img=img.copy(), sample_idx=1, probe=True))
    assert probe['masked'] and probe['gt_seg_map'].any()
    with pytest.raises(KeyError, match="no 'probe'"):
        mask(dict(img=img.copy(), sample_idx=2))

    # 'masked' keeps the dataset's flag ("shows a masked face")
    flagged = RandomFaceMask(prob=0.5, condition_key='masked', seed=0)
    states = [
        flagged(dict(img=img.copy(), sample_idx=i, masked=True))
        for i in range(20)
    ]
    assert all(s['masked'] for s in states)
    painted = [bool(s['gt_seg_map'].any()) for s in states]
    assert 0 < sum(painted) < 20
    plain = flagged(dict(img=img.copy(), sample_idx=0, masked=False))
    assert plain['masked'] is False and not plain['gt_seg_map'].any()


def test_prob_is_the_masking_rate():
    mask = RandomFaceMask(prob=0.25, seed=2)
    img = np.zeros((16, 16, 3), np.uint8)
    rate = np.mean(
        [mask(dict(img=img, sample_idx=i))['masked'] for i in range(800)])
    assert abs(rate - 0.25) < 0.06


def test_colour_frequencies_follow_probs():
    names = list(FACE_MASK_COLORS)
    palette = np.array([FACE_MASK_COLORS[n] for n in names], np.float64)
    img = _magenta((56, 56))
    mask = RandomFaceMask(prob=1.0, seed=7)
    counts = dict.fromkeys(names, 0)
    for idx in range(800):
        out = mask(dict(img=img, sample_idx=idx))
        pixels = out['img'][out['gt_seg_map'] > 0].astype(np.float64)
        median = np.median(pixels, 0)
        counts[names[int(np.argmin(((palette - median)**2).sum(1)))]] += 1
    for name, prob in zip(names, (0.4, 0.4, 0.1, 0.1)):
        assert abs(counts[name] / 800 - prob) < 0.07, counts
    # the drawn parameters of the renderer, with custom probabilities
    rng = np.random.default_rng(0)
    drawn = [
        render_face_mask(
            img,
            template_landmarks((56, 56)),
            rng,
            shape_probs=(1.0, 0.0),
            color_probs=(0.0, 0.0, 0.0, 1.0),
            return_params=True)[2] for _ in range(20)
    ]
    assert {(d['shape'], d['color']) for d in drawn} == {('surgical', 'green')}
    assert all(0.33 <= d['height_fraction'] <= 0.4 for d in drawn)


def test_per_sample_landmarks_move_the_mask():
    img = _magenta((160, 160))
    mask = RandomFaceMask(prob=1.0, seed=0)
    near = mask(
        dict(
            img=img.copy(),
            sample_idx=0,
            landmarks=ARCFACE_TEMPLATE + (20, 10)))['gt_seg_map']
    far = mask(
        dict(
            img=img.copy(),
            sample_idx=0,
            landmarks=ARCFACE_TEMPLATE + (30, 25)))['gt_seg_map']
    assert near.any() and not near[-1].any()  # not clipped
    assert np.array_equal(np.roll(near, (15, 10), axis=(0, 1)), far)
    # landmarks_key=None: the scaled template, whatever the sample holds
    template = RandomFaceMask(
        prob=1.0, seed=0, landmarks_key=None)(dict(
            img=img.copy(),
            sample_idx=0,
            landmarks=ARCFACE_TEMPLATE + (20, 10)))['gt_seg_map']
    assert np.array_equal(
        template,
        mask(dict(img=img.copy(), sample_idx=0))['gt_seg_map'])
    with pytest.raises(ValueError, match=r"results\['landmarks'\] must be"):
        mask(dict(img=img, sample_idx=0, landmarks=np.zeros((3, 2))))


def test_argument_checks():
    with pytest.raises(ValueError, match=r'prob must be in \[0, 1\]'):
        RandomFaceMask(prob=1.5)
    with pytest.raises(ValueError, match='h_low <= h_high'):
        RandomFaceMask(h_low=0.5, h_high=0.4)
    with pytest.raises(ValueError, match='shapes must be'):
        RandomFaceMask(shapes=('surgical', 'n95'))
    with pytest.raises(ValueError, match='shape_probs must be 2'):
        RandomFaceMask(shape_probs=(0.5, 0.6))
    with pytest.raises(ValueError, match='color_probs must be 4'):
        RandomFaceMask(color_probs=(0.5, 0.5))
    with pytest.raises(ValueError, match='BGR triplets'):
        RandomFaceMask(colors=dict(red=(0, 0, 300)))
    with pytest.raises(ValueError, match="render_cfg key.*'pleats'"):
        RandomFaceMask(render_cfg=dict(pleats=2))
    # custom colours: uniform unless told
    custom = RandomFaceMask(colors=dict(red=(0, 0, 255), navy=(80, 0, 0)))
    assert custom.color_probs is None
    assert 'RandomFaceMask(prob=0.1' in repr(custom)


def test_face_region_prior():
    region = face_region(SIZE)
    assert region.shape == SIZE and region.dtype == np.uint8
    for x, y in ARCFACE_TEMPLATE:
        assert region[int(round(y)), int(round(x))] == 1
    assert not region[[0, 0, -1, -1], [0, -1, 0, -1]].any()
    wide = face_region((96, 128))
    for x, y in template_landmarks((96, 128)):
        assert wide[int(round(y)), int(round(x))] == 1
    assert np.array_equal(
        face_region(SIZE, ARCFACE_TEMPLATE + (5, 0))[:, 5:], region[:, :-5])
    with pytest.raises(ValueError, match='image_size'):
        face_region((0, 112))


def test_pack_inputs_carries_the_segmentation():
    pipeline = Compose([
        dict(type='mmdl.RandomFaceMask', prob=1.0, seed=0),
        dict(
            type='mmpretrain.PackInputs',
            algorithm_keys=('gt_seg_map', ),
            meta_keys=('sample_idx', 'masked'))
    ])
    packed = pipeline(dict(img=_magenta(), sample_idx=4))
    sample = packed['data_samples']
    assert packed['inputs'].shape == (3, 112, 112)
    # a data field, unchanged: the uint8 (H, W) numpy array
    assert isinstance(sample.gt_seg_map, np.ndarray)
    assert sample.gt_seg_map.dtype == np.uint8
    assert sample.gt_seg_map.shape == SIZE
    changed = (packed['inputs'].permute(1, 2, 0).numpy() != MAGENTA).any(-1)
    assert np.array_equal(changed, sample.gt_seg_map.astype(bool))
    assert sample.masked is True and 'gt_seg_map' in sample.keys()
    # mmcv's RandomFlip flips the map with the image
    flip = TRANSFORMS.build(
        dict(type='RandomFlip', prob=1.0, direction='horizontal'))
    flipped = flip(
        RandomFaceMask(prob=1.0, seed=0)(dict(img=_magenta(), sample_idx=4)))
    assert np.array_equal(flipped['gt_seg_map'], sample.gt_seg_map[:, ::-1])


def _encode(img):
    ok, data = cv2.imencode('.png', img)
    assert ok
    return data.tobytes()


def test_bin_probes_alternate(tmp_path):
    with open(tmp_path / 'faces.bin', 'wb') as f:
        pickle.dump(([_encode(_magenta())] * 6, [True, False, True]), f)
    pipeline = [
        dict(
            type='mmdl.RandomFaceMask',
            prob=1.0,
            condition_key='probe',
            seed=0)
    ]
    dataset = BinVerificationDataset(
        ann_file=str(tmp_path / 'faces.bin'), pipeline=pipeline)
    assert [dataset.get_data_info(i)['probe']
            for i in range(6)] == [False, True] * 3
    items = [dataset[i] for i in range(6)]
    assert [it['masked'] for it in items] == [False, True] * 3
    again = BinVerificationDataset(
        ann_file=str(tmp_path / 'faces.bin'), pipeline=pipeline)
    assert np.array_equal(again[3]['img'], items[3]['img'])
    assert not np.array_equal(items[1]['img'], items[3]['img'])


def test_ijb_probes_are_second_column_templates(tmp_path):
    (tmp_path / 'meta').mkdir()
    names = [f'{i}.jpg' for i in range(8)]
    tids = [100, 100, 101, 101, 102, 103, 103, 104]
    (tmp_path / 'meta' / 'ijbc_name_5pts_score.txt').write_text(''.join(
        f'{n} ' + ' '.join(f'{v:.2f}'
                           for v in ARCFACE_TEMPLATE.ravel()) + ' 0.9\n'
        for n in names))
    (tmp_path / 'meta' / 'ijbc_face_tid_mid.txt').write_text(''.join(
        f'{n} {t} {i}\n' for i, (n, t) in enumerate(zip(names, tids))))
    # second column: 101, 103 (and 102, also in the first column)
    (tmp_path / 'meta' / 'ijbc_template_pair_label.txt'
     ).write_text('100 101 1\n100 103 0\n102 101 0\n104 102 1\n')
    dataset = IJBDataset(data_root=str(tmp_path))
    probes = [dataset.get_data_info(i)['probe'] for i in range(8)]
    assert probes == [t in (101, 102, 103) for t in tids]
    (tmp_path / 'meta' / 'ijbc_template_pair_label.txt').unlink()
    with pytest.raises(FileNotFoundError, match='template_pair_label'):
        IJBDataset(data_root=str(tmp_path))
