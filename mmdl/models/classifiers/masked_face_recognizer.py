# Copyright (c) mmdl contributors. All rights reserved.
"""MaskedFaceRecognizer: a face recognizer whose backbone is refined by
spatial attention supervised with synthetic mask segmentations."""
from typing import Dict, List, Tuple

import numpy as np
import torch
from mmpretrain.structures import DataSample
from torch import Tensor

from mmdl.registry import MODELS
from .face_recognizer import FaceRecognizer


@MODELS.register_module()
class MaskedFaceRecognizer(FaceRecognizer):
    """:class:`FaceRecognizer` with an attention neck acting inside the
    backbone, e.g. :class:`~mmdl.models.necks.ComplementaryAttention`
    (Cho et al., "Localization using Multi-Focal Spatial Attention for
    Masked Face Recognition", FG 2023).

    The ``neck`` is not applied after the backbone as in mmpretrain: the
    backbone runs through its ``forward_refined(x, refine)`` extension
    point (:class:`~mmdl.models.IResNet` has it) and every stage output
    passes through ``neck(feat, stage)``. Training adds the neck's losses
    (``neck.loss(maps, seg)``) to the margin head's, with ``seg`` the
    samples' mask segmentations (``gt_seg_map``, written by
    :class:`~mmdl.datasets.transforms.RandomFaceMask` and packed with
    ``PackInputs(algorithm_keys=('gt_seg_map', ))``). The margin loss is
    computed on masked and unmasked samples alike. Without a neck it is a
    plain :class:`FaceRecognizer` (the "no attention" ablation, trained on
    the same masked data).

    Args:
        seg_key (str): Data-sample field of the segmentation. Defaults to
            ``'gt_seg_map'``.
        *args, **kwargs: Arguments of :class:`FaceRecognizer`.
    """

    def __init__(self, *args, seg_key: str = 'gt_seg_map', **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.seg_key = seg_key
        if self.with_neck and not hasattr(self.backbone, 'forward_refined'):
            raise TypeError(
                f'MaskedFaceRecognizer: the backbone '
                f'{type(self.backbone).__name__} has no forward_refined(x, '
                'refine), the extension point the attention neck needs '
                '(IResNet has it)')

    def attend(self, inputs: Tensor) -> Tuple[Tuple[Tensor, ...], Dict]:
        """Backbone outputs with the neck's refinement, and the attention
        maps of every refined stage.

        Args:
            inputs (Tensor): ``(N, C, H, W)`` preprocessed images.

        Returns:
            tuple: The backbone's outputs and ``{stage: maps}`` (see
            :meth:`ComplementaryAttention.forward`; empty without a neck).
        """
        if not self.with_neck:
            return self.backbone(inputs), {}
        stage_maps = {}

        def refine(stage: int, feat: Tensor) -> Tensor:
            feat, maps = self.neck(feat, stage)
            if maps:
                stage_maps[stage] = maps
            return feat

        return self.backbone.forward_refined(inputs, refine), stage_maps

    def extract_feat(self, inputs: Tensor, stage: str = 'neck'):
        """The backbone's outputs, refined by the neck (``stage`` is
        accepted for mmpretrain's signature; both stages are the same)."""
        return self.attend(inputs)[0]

    def segmentation(self, data_samples: List[DataSample],
                     device: torch.device) -> Tensor:
        """The ``(N, H, W)`` float segmentations of the samples."""
        segs = []
        for sample in data_samples:
            if self.seg_key not in sample:
                raise KeyError(
                    f'MaskedFaceRecognizer: a training sample has no '
                    f'{self.seg_key!r}; add RandomFaceMask to the train '
                    'pipeline and pack it with PackInputs(algorithm_keys='
                    f"('{self.seg_key}', ))")
            seg = sample.get(self.seg_key)
            seg = seg if isinstance(seg, Tensor) else torch.from_numpy(
                np.ascontiguousarray(seg))
            segs.append(seg.reshape(seg.shape[-2:]))
        return torch.stack(segs).to(device=device, dtype=torch.float32)

    def loss(self, inputs: Tensor,
             data_samples: List[DataSample]) -> Dict[str, Tensor]:
        """The margin head's losses and the neck's attention losses."""
        feats, stage_maps = self.attend(inputs)
        losses = self.head.loss(feats, data_samples)
        if stage_maps:
            seg = self.segmentation(data_samples, inputs.device)
            if tuple(seg.shape[-2:]) != tuple(inputs.shape[-2:]):
                raise ValueError(
                    f'MaskedFaceRecognizer: {self.seg_key} is '
                    f'{tuple(seg.shape[-2:])}, the inputs '
                    f'{tuple(inputs.shape[-2:])}; apply RandomFaceMask '
                    'after every resize')
            losses.update(self.neck.loss(stage_maps, seg))
        return losses

    def attention_maps(self,
                       inputs: Tensor) -> Dict[int, Dict[str, Tensor]]:
        """The attention maps of preprocessed images, per refined stage
        (for analysis: :mod:`mmdl.evaluation.face.localisation`)."""
        return self.attend(inputs)[1]
