# Copyright (c) mmdl contributors. All rights reserved.
"""Synthetic face masks on aligned faces (masked face recognition)."""
from typing import Dict, Optional, Sequence

import numpy as np
from mmcv.transforms import BaseTransform

from mmdl.datasets.face.alignment import landmarks_68_to_5
from mmdl.datasets.face.mask_synthesis import (FACE_MASK_COLOR_PROBS,
                                               FACE_MASK_COLORS,
                                               FACE_MASK_SHAPES, MASK_GEOMETRY,
                                               render_face_mask,
                                               template_landmarks)
from mmdl.registry import TRANSFORMS


def _check_probs(probs: Optional[Sequence[float]], count: int,
                 key: str) -> Optional[tuple]:
    if probs is None:
        return None
    values = np.asarray(probs, dtype=np.float64)
    if values.shape != (count, ) or (values < 0).any() or \
            not np.isclose(values.sum(), 1.0):
        raise ValueError(f'RandomFaceMask: {key} must be {count} '
                         'non-negative probabilities summing to 1, got '
                         f'{list(probs)!r}')
    return tuple(float(v) for v in values)


@TRANSFORMS.register_module()
class RandomFaceMask(BaseTransform):
    """Paint a synthetic face mask over the lower face with probability
    ``prob``, as insightface's ``MaskAugmentation`` does for masked face
    recognition (p = 0.1, UV top edge ``h ~ U(0.33, 0.4)``, white, blue,
    black, green masks with probabilities 0.4, 0.4, 0.1, 0.1).

    **Reconstruction:** insightface renders the mask texture through a
    fitted 3D face model whose files cannot be distributed; here the mask
    is a 2-D polygon from the 5 landmarks, textured and shaded
    (:func:`~mmdl.datasets.face.render_face_mask`; ``h = 0.25`` is the eye
    line, ``h = 0.5`` the nose tip).

    The landmarks are ``results[landmarks_key]`` when present (5 or 68
    ``(x, y)`` points **in the current image's frame**), otherwise the
    ArcFace template scaled to the image (right for aligned 112x112
    crops). :class:`~mmdl.datasets.FaceAlign` leaves ``landmarks`` in the
    original frame: after it, pass ``landmarks_key=None``.

    Random draws: with ``seed`` set, each sample uses
    ``np.random.default_rng([seed, results['sample_idx']])``, the same
    mask whatever the worker or order (fixed masked test sets, e.g. a
    masked ``.bin`` set: ``RandomFaceMask(prob=1.0, condition_key='probe',
    seed=0)``); with ``seed=None`` a generator seeded from numpy's global
    generator, which mmengine seeds per worker.

    Place it before ``RandomFlip`` (which flips ``gt_seg_map``) and pack
    the map with ``dict(type='mmpretrain.PackInputs',
    algorithm_keys=('gt_seg_map', ))``: it arrives unchanged, as the uint8
    ``(H, W)`` numpy array ``data_sample.gt_seg_map``.

    Required keys: ``img`` (BGR), ``sample_idx`` (with ``seed``),
    ``condition_key`` (when set).
    Modified keys: ``img``.
    Added keys: ``seg_key`` (uint8 ``(H, W)`` 0/1 map of the painted
    pixels, all zeros when not masked), ``masked`` (bool: whether a mask
    was painted; see below for ``condition_key='masked'``).

    With ``condition_key='masked'`` (:class:`~mmdl.datasets.MFRDataset`,
    whose ``masked`` flag means "this image shows a masked face", a real
    masked photo or one to mask synthetically) the flag decides which
    samples may be masked and keeps the dataset's meaning: it stays as it
    was (True whenever the mask is painted, since only flagged samples are
    masked; a flagged sample left unmasked with ``prob < 1`` stays True).
    Otherwise ``masked`` is set to whether the mask was painted.

    Args:
        prob (float): Probability of masking an eligible sample. Defaults to
            0.1.
        h_low (float): Lower bound of the UV height of the top edge.
            Defaults to 0.33.
        h_high (float): Upper bound. Defaults to 0.4.
        shapes (Sequence[str]): Shapes to draw from (``'surgical'``,
            ``'cloth'``). Defaults to both.
        shape_probs (Sequence[float], optional): Their probabilities.
            Defaults to None (uniform).
        colors (dict[str, Sequence[int]], optional): Name -> **BGR**
            colour. Defaults to :data:`~mmdl.datasets.face.FACE_MASK_COLORS`
            (white, blue, black, green).
        color_probs (Sequence[float], optional): Their probabilities.
            Defaults to (0.4, 0.4, 0.1, 0.1) with the default colours,
            uniform with others.
        landmarks_key (str, optional): Key of per-sample landmarks; None
            to always use the template. Defaults to ``'landmarks'``.
        condition_key (str, optional): When set, only samples with a truthy
            ``results[condition_key]`` can be masked (``'probe'``: the
            second image of a verification pair or an IJB probe template;
            ``'masked'``). Defaults to None.
        seed (int, optional): Seed of per-sample generators. Defaults to
            None.
        seg_key (str): Key of the mask segmentation. Defaults to
            ``'gt_seg_map'``.
        render_cfg (dict, optional): Other keyword arguments of
            :func:`~mmdl.datasets.face.render_face_mask` (``num_pleats``,
            ``pleat_depth``, ``weave_strength``, ``shading``,
            ``color_jitter``, ``edge_width``, ``edge_darkening``,
            ``geometry``). Defaults to None.
    """

    #: Keys of ``render_cfg``.
    RENDER_KEYS = ('num_pleats', 'pleat_depth', 'weave_strength', 'shading',
                   'color_jitter', 'edge_width', 'edge_darkening', 'geometry')

    def __init__(self,
                 prob: float = 0.1,
                 h_low: float = 0.33,
                 h_high: float = 0.4,
                 shapes: Sequence[str] = FACE_MASK_SHAPES,
                 shape_probs: Optional[Sequence[float]] = None,
                 colors: Optional[Dict[str, Sequence[int]]] = None,
                 color_probs: Optional[Sequence[float]] = None,
                 landmarks_key: Optional[str] = 'landmarks',
                 condition_key: Optional[str] = None,
                 seed: Optional[int] = None,
                 seg_key: str = 'gt_seg_map',
                 render_cfg: Optional[dict] = None) -> None:
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f'RandomFaceMask: prob must be in [0, 1], got '
                             f'{prob!r}')
        if not 0.0 <= h_low <= h_high <= 1.0:
            raise ValueError('RandomFaceMask: expected 0 <= h_low <= h_high '
                             f'<= 1, got h_low={h_low!r}, h_high={h_high!r}')
        shapes = tuple(shapes)
        unknown = [s for s in shapes if s not in FACE_MASK_SHAPES]
        if not shapes or unknown:
            raise ValueError('RandomFaceMask: shapes must be a non-empty '
                             f'subset of {FACE_MASK_SHAPES}, got {shapes!r}')
        if colors is None:
            colors = dict(FACE_MASK_COLORS)
            if color_probs is None:
                color_probs = FACE_MASK_COLOR_PROBS
        colors = {str(k): tuple(int(c) for c in v) for k, v in colors.items()}
        bad = [
            k for k, v in colors.items()
            if len(v) != 3 or not all(0 <= c <= 255 for c in v)
        ]
        if not colors or bad:
            raise ValueError('RandomFaceMask: colors must map names to BGR '
                             f'triplets in [0, 255]; bad: {bad or colors!r}')
        render_cfg = dict(render_cfg or {})
        unknown = sorted(set(render_cfg) - set(self.RENDER_KEYS))
        if unknown:
            raise ValueError(f'RandomFaceMask: unknown render_cfg key(s) '
                             f'{unknown}; expected some of {self.RENDER_KEYS}')
        geometry = render_cfg.get('geometry') or {}
        unknown = sorted(set(geometry) - set(MASK_GEOMETRY))
        if unknown:
            raise ValueError('RandomFaceMask: unknown render_cfg.geometry '
                             f'key(s) {unknown}; expected some of '
                             f'{sorted(MASK_GEOMETRY)}')
        if seed is not None and not isinstance(seed, (int, np.integer)):
            raise ValueError(f'RandomFaceMask: seed must be an int or None, '
                             f'got {seed!r}')
        self.prob = float(prob)
        self.h_low, self.h_high = float(h_low), float(h_high)
        self.shapes = shapes
        self.shape_probs = _check_probs(shape_probs, len(shapes),
                                        'shape_probs')
        self.colors = colors
        self.color_probs = _check_probs(color_probs, len(colors),
                                        'color_probs')
        self.landmarks_key = landmarks_key
        self.condition_key = condition_key
        self.seed = seed
        self.seg_key = seg_key
        self.render_cfg = render_cfg

    def _generator(self, results: dict) -> np.random.Generator:
        if self.seed is None:
            return np.random.default_rng(
                np.random.randint(0, 2**31 - 1, size=4))
        if 'sample_idx' not in results:
            raise KeyError('RandomFaceMask: seed is set but the sample has '
                           "no 'sample_idx' (an int, set by mmengine's "
                           'BaseDataset)')
        index = results['sample_idx']
        if not isinstance(index, (int, np.integer)) or index < 0:
            raise ValueError("RandomFaceMask: 'sample_idx' must be a "
                             f'non-negative int, got {index!r}')
        return np.random.default_rng([int(self.seed), int(index)])

    def _landmarks(self, results: dict, shape: tuple) -> np.ndarray:
        key = self.landmarks_key
        if key is None or results.get(key) is None:
            return template_landmarks(shape)
        points = np.asarray(results[key], dtype=np.float32)
        if points.shape == (68, 2):
            return landmarks_68_to_5(points)
        if points.shape != (5, 2):
            raise ValueError(f'RandomFaceMask: results[{key!r}] must be 5 '
                             '(or 68) (x, y) landmarks in the image frame, '
                             f'got shape {points.shape}')
        return points

    def transform(self, results: dict) -> dict:
        """Mask ``results['img']`` (or not) and write the segmentation."""
        img = results['img']
        eligible = True
        if self.condition_key is not None:
            if self.condition_key not in results:
                raise KeyError(f'RandomFaceMask: the sample has no '
                               f'{self.condition_key!r} (condition_key)')
            eligible = bool(results[self.condition_key])
        applied = False
        seg = np.zeros(img.shape[:2], dtype=np.uint8)
        if eligible and self.prob > 0:
            rng = self._generator(results)
            if rng.random() < self.prob:
                img, seg = render_face_mask(
                    img,
                    self._landmarks(results, img.shape[:2]),
                    rng,
                    h_low=self.h_low,
                    h_high=self.h_high,
                    shapes=self.shapes,
                    shape_probs=self.shape_probs,
                    colors=self.colors,
                    color_probs=self.color_probs,
                    **self.render_cfg)
                applied = True
        results['img'] = img
        results[self.seg_key] = seg
        if self.condition_key == 'masked':
            results['masked'] = eligible  # the dataset's flag, kept
        else:
            results['masked'] = applied
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(prob={self.prob}, '
                f'h_low={self.h_low}, h_high={self.h_high}, '
                f'shapes={self.shapes}, shape_probs={self.shape_probs}, '
                f'colors={self.colors}, color_probs={self.color_probs}, '
                f'landmarks_key={self.landmarks_key!r}, '
                f'condition_key={self.condition_key!r}, seed={self.seed}, '
                f'seg_key={self.seg_key!r}, render_cfg={self.render_cfg})')
