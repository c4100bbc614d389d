# Copyright (c) mmdl contributors. All rights reserved.
"""Localisation measures of spatial attention on masked faces.

Reconstruction of the claim of Cho et al. (FG 2023) that the attention of
their masked-face model is "more precisely activated in unmasked regions"
(their measure is not public). On masked images whose mask segmentation
is known (synthetic masks), at the attention map's resolution:

* ``U`` = the face region (a fixed ellipse on the aligned crop) minus the
  mask: the locations whose area-downsampled face fraction is at least
  0.5 and mask fraction below 0.5;
* ``mass_share`` = ``sum(A_face * U) / sum(A_face)``: the share of the
  face attention inside ``U``;
* ``iou`` = IoU of ``{A_face > 0.5}`` and ``U``;
* ``mask_iou`` = IoU of ``{A_mask > 0.5}`` and ``{mask fraction >= 0.5}``:
  how well the focused mask map localises the mask.

Each is computed per image and averaged; an image whose two sets are
empty has IoU 1.
"""
from typing import Dict, Optional

import torch
import torch.nn.functional as F
from torch import Tensor


def downsample(region: Tensor, size) -> Tensor:
    """Area fractions ``(N, h, w)`` of a ``(N, H, W)`` (or ``(H, W)``)
    binary region on an ``h x w`` grid."""
    squeeze = region.dim() == 2
    region = region[None] if squeeze else region
    out = F.adaptive_avg_pool2d(region[:, None].float(), tuple(size))[:, 0]
    return out[0] if squeeze else out


def iou(pred: Tensor, target: Tensor) -> Tensor:
    """Per-image IoU of boolean ``(N, h, w)`` sets (1 where both are
    empty)."""
    inter = (pred & target).flatten(1).sum(1).float()
    union = (pred | target).flatten(1).sum(1).float()
    return torch.where(union > 0, inter / union.clamp(min=1),
                       torch.ones_like(union))


def localisation_measures(face_map: Tensor,
                          seg: Tensor,
                          face: Tensor,
                          mask_map: Optional[Tensor] = None
                          ) -> Dict[str, Tensor]:
    """Per-image localisation measures (see the module docstring).

    Args:
        face_map (Tensor): ``(N, h, w)`` (or ``(N, 1, h, w)``) face
            attention ``A_face`` in [0, 1].
        seg (Tensor): ``(N, H, W)`` binary mask segmentation of the inputs.
        face (Tensor): ``(H, W)`` binary face region of the inputs.
        mask_map (Tensor, optional): ``(N, h, w)`` mask attention.

    Returns:
        dict: ``mass_share``, ``iou`` and (with ``mask_map``) ``mask_iou``,
        each an ``(N, )`` tensor.
    """
    face_map = face_map.reshape(len(face_map), *face_map.shape[-2:]).float()
    size = face_map.shape[-2:]
    mask = downsample(seg, size)
    unmasked = (downsample(face, size)[None] >= 0.5) & (mask < 0.5)
    total = face_map.flatten(1).sum(1)
    inside = (face_map * unmasked).flatten(1).sum(1)
    out = dict(
        mass_share=inside / total.clamp(min=1e-12),
        iou=iou(face_map > 0.5, unmasked))
    if mask_map is not None:
        mask_map = mask_map.reshape(face_map.shape).float()
        out['mask_iou'] = iou(mask_map > 0.5, mask >= 0.5)
    return out
