# Copyright (c) mmdl contributors. All rights reserved.
"""Localisation measures against per-image loops written here."""
import numpy as np
import torch

from mmdl.evaluation.face.localisation import localisation_measures


def _by_hand(face_map, seg, face, mask_map, block):
    out = dict(mass_share=[], iou=[], mask_iou=[])
    n, h, w = face_map.shape
    for i in range(n):
        unmasked = np.zeros((h, w), bool)
        masked = np.zeros((h, w), bool)
        for y in range(h):
            for x in range(w):
                cell = (slice(y * block, (y + 1) * block),
                        slice(x * block, (x + 1) * block))
                m = seg[i][cell].mean()
                unmasked[y, x] = face[cell].mean() >= 0.5 and m < 0.5
                masked[y, x] = m >= 0.5
        out['mass_share'].append(
            (face_map[i] * unmasked).sum() / face_map[i].sum())
        for key, pred, target in (('iou', face_map[i] > 0.5, unmasked),
                                  ('mask_iou', mask_map[i] > 0.5, masked)):
            union = (pred | target).sum()
            out[key].append((pred & target).sum() / union if union else 1.0)
    return {k: np.array(v) for k, v in out.items()}


def test_measures_match_loops():
    rng = np.random.default_rng(0)
    n, h, block = 5, 7, 4
    seg = np.zeros((n, h * block, h * block), np.float32)
    for i in range(1, n):
        seg[i, rng.integers(10, 20):, rng.integers(0, 8):] = 1
    face = np.zeros((h * block, h * block), np.float32)
    face[3:26, 5:23] = 1
    face_map = rng.random((n, h, h))
    mask_map = rng.random((n, h, h))
    mask_map[0] = 0  # no mask predicted on the unmasked image: IoU 1
    got = localisation_measures(
        torch.from_numpy(face_map)[:, None], torch.from_numpy(seg),
        torch.from_numpy(face), torch.from_numpy(mask_map))
    want = _by_hand(face_map, seg, face, mask_map, block)
    for key in want:
        np.testing.assert_allclose(got[key].numpy(), want[key], rtol=1e-5)
    assert got['mask_iou'][0] == 1.0
