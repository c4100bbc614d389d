# Copyright (c) mmdl contributors. All rights reserved.
"""5-point alignment: the least-squares similarity against OpenCV's
estimateAffinePartial2D, exact recovery of a known similarity, and the
FaceAlign transform against cv2.warpAffine with OpenCV's matrix."""
import cv2
import numpy as np
import pytest

from mmdl.datasets import FaceAlign
from mmdl.datasets.face.alignment import (ARCFACE_TEMPLATE, align_face,
                                          estimate_similarity,
                                          landmarks_68_to_5)


def _similarity(angle, scale, shift):
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[scale * c, -scale * s, shift[0]],
                     [scale * s, scale * c, shift[1]]])


def _apply(matrix, points):
    return points @ matrix[:, :2].T + matrix[:, 2]


def test_recovers_a_known_similarity():
    truth = _similarity(0.3, 1.7, (12.0, -5.0))
    src = ARCFACE_TEMPLATE.astype(np.float64)
    matrix = estimate_similarity(src, _apply(truth, src))
    assert np.allclose(matrix, truth, atol=1e-9)


@pytest.mark.parametrize('seed', range(4))
def test_matches_opencv_least_squares(seed):
    rng = np.random.default_rng(seed)
    truth = _similarity(rng.uniform(-0.5, 0.5), rng.uniform(0.5, 3.0),
                        rng.uniform(-50, 50, 2))
    landmarks = _apply(truth, ARCFACE_TEMPLATE) + rng.normal(0, 2.0, (5, 2))
    ours = estimate_similarity(landmarks, ARCFACE_TEMPLATE)
    # with a generous RANSAC threshold every point is an inlier; OpenCV
    # then refines the least-squares error, the quantity Umeyama's estimate
    # minimises
    ref, inliers = cv2.estimateAffinePartial2D(
        landmarks.astype(np.float32), ARCFACE_TEMPLATE, method=cv2.RANSAC,
        ransacReprojThreshold=1000.0, refineIters=100)
    assert inliers.all()
    assert np.allclose(ours, ref, atol=1e-3)

    def error(m):
        return np.sum((_apply(m, landmarks) - ARCFACE_TEMPLATE)**2)

    assert error(ours) <= error(ref) + 1e-6


def test_align_face_and_transform():
    rng = np.random.default_rng(3)
    img = rng.integers(0, 255, (200, 180, 3), dtype=np.uint8)
    truth = _similarity(0.2, 1.5, (30.0, 20.0))
    landmarks = _apply(truth, ARCFACE_TEMPLATE)
    crop = align_face(img, landmarks)
    ref, _ = cv2.estimateAffinePartial2D(
        landmarks.astype(np.float32), ARCFACE_TEMPLATE, method=cv2.LMEDS)
    expected = cv2.warpAffine(img, ref, (112, 112), borderValue=0.0)
    assert crop.shape == (112, 112, 3)
    assert np.mean(np.abs(crop.astype(int) - expected.astype(int))) < 1.0
    out = FaceAlign()(dict(img=img, landmarks=landmarks))
    assert np.array_equal(out['img'], crop) and out['img_shape'] == (112, 112)
    with pytest.raises(KeyError, match="'landmarks'"):
        FaceAlign()(dict(img=img))
    with pytest.raises(ValueError, match='5 or 68'):
        align_face(img, np.zeros((4, 2)))


def test_68_landmarks():
    points = np.arange(136, dtype=np.float32).reshape(68, 2)
    five = landmarks_68_to_5(points)
    assert np.allclose(five[0], (points[36] + points[39]) / 2)
    assert np.allclose(five[1], (points[42] + points[45]) / 2)
    assert np.allclose(five[2:], points[[30, 48, 54]])
