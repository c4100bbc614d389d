# Copyright (c) mmdl contributors. All rights reserved.
"""5-point similarity alignment of faces to insightface's 112x112 ArcFace
template.

The transform is the least-squares similarity (rotation, uniform scale,
translation) of Umeyama (1991), the estimate ``skimage``'s
``SimilarityTransform`` and insightface's ``face_align`` compute; written
here with numpy so that neither scikit-image nor a face library is needed.
"""
from typing import Tuple

import cv2
import numpy as np

#: ArcFace's 5-point template for 112x112 crops: left eye, right eye, nose
#: tip, left and right mouth corners (a 96x112 template shifted by 8 in x).
ARCFACE_TEMPLATE = np.array(
    [[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
     [41.5493, 92.3655], [70.7299, 92.2041]],
    dtype=np.float32)


def landmarks_68_to_5(landmarks: np.ndarray) -> np.ndarray:
    """Eye centres (mean of points 36, 39 and of 42, 45), nose tip (30) and
    mouth corners (48, 54) of 68 landmarks (0-based, iBUG order)."""
    landmarks = np.asarray(landmarks, dtype=np.float32)
    return np.stack([(landmarks[36] + landmarks[39]) / 2,
                     (landmarks[42] + landmarks[45]) / 2, landmarks[30],
                     landmarks[48], landmarks[54]])


def estimate_similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The similarity transform mapping ``src`` points onto ``dst`` points
    in the least-squares sense (Umeyama).

    Args:
        src (np.ndarray): ``[K, 2]`` source points.
        dst (np.ndarray): ``[K, 2]`` destination points.

    Returns:
        np.ndarray: The ``[2, 3]`` affine matrix (for ``cv2.warpAffine``).
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    if src.shape != dst.shape or src.ndim != 2 or src.shape[1] != 2 \
            or len(src) < 2:
        raise ValueError('estimate_similarity: expected two [K, 2] point '
                         f'sets, K >= 2, got {src.shape} and {dst.shape}')
    src_mean, dst_mean = src.mean(0), dst.mean(0)
    src_c, dst_c = src - src_mean, dst - dst_mean
    cov = dst_c.T @ src_c / len(src)
    u, s, vt = np.linalg.svd(cov)
    d = np.ones(2)
    if np.linalg.det(cov) < 0:
        d[1] = -1
    rotation = u @ np.diag(d) @ vt
    variance = src_c.var(0).sum()
    scale = (s * d).sum() / variance if variance > 0 else 1.0
    matrix = np.zeros((2, 3))
    matrix[:, :2] = scale * rotation
    matrix[:, 2] = dst_mean - scale * rotation @ src_mean
    return matrix


def align_face(img: np.ndarray,
               landmarks: np.ndarray,
               size: Tuple[int, int] = (112, 112),
               template: np.ndarray = ARCFACE_TEMPLATE) -> np.ndarray:
    """Warp a face to the template (border value 0).

    Args:
        img (np.ndarray): The image (any channel order; kept).
        landmarks (np.ndarray): ``[5, 2]`` (or ``[68, 2]``) landmarks in
            ``(x, y)`` pixels.
        size (tuple[int, int]): Output ``(height, width)``.
            Defaults to 112x112, the template's frame.
        template (np.ndarray): ``[5, 2]`` destination points.

    Returns:
        np.ndarray: The aligned crop.
    """
    landmarks = np.asarray(landmarks, dtype=np.float32)
    if landmarks.shape == (68, 2):
        landmarks = landmarks_68_to_5(landmarks)
    if landmarks.shape != (5, 2):
        raise ValueError('align_face: expected 5 or 68 (x, y) landmarks, '
                         f'got shape {landmarks.shape}')
    matrix = estimate_similarity(landmarks, template)
    return cv2.warpAffine(
        img, matrix, (size[1], size[0]), borderValue=0.0)
