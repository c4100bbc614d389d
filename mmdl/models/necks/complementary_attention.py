# Copyright (c) mmdl contributors. All rights reserved.
"""ComplementaryAttention: multi-focal spatial attention with complementary
attention learning for masked face recognition.

Y. Cho, H. Cho, H. G. Hong, J. Ahn, D. Cho, J. Chang, J. Kim.
"Localization using Multi-Focal Spatial Attention for Masked Face
Recognition". FG 2023 (arXiv:2305.01905). Only the abstract is public: an
attention module predicts *focused* maps of the mask region and of the
background, whose complement weights the unmasked face ("multi-focal
spatial attention"), and the focused maps are supervised so that the
standard attention and the network concentrate on unmasked regions
("complementary attention learning", CAL).

**Reconstruction** (every choice below is a design made here, and a
constructor argument):

* Where: after the IResNet stages ``stages`` (0-based; default ``(2, )``,
  the 14x14 map of 112x112 faces; ``(1, 2)`` attends at two scales). The
  backbone applies it through its ``forward_refined`` extension point.
* Descriptor: the channel mean and channel max of the map ``F`` (CBAM
  style) -> conv 7x7 -> BN -> ReLU -> conv 1x1 to ``1 + K`` logits
  ``z_face, z_<focus>...``, ``K = len(focus)`` (``'mask'``,
  ``'background'``).
* ``mode='partition'`` (default): ``softmax`` over the ``1 + K`` logits at
  every location, so ``A_face = 1 - A_mask - A_background`` by
  construction. ``mode='independent'``: one sigmoid per map and the
  complementarity loss ``mean((A_face - prod_k (1 - A_k))^2)``. With
  ``focus=()`` both are a standard sigmoid spatial attention
  ``A_face = sigmoid(z_face)`` (the "standard attention only" ablation).
* Refinement: ``F' = F * A_face`` (``refine='multiply'``) or
  ``F * (1 + A_face)`` (``'residual'``).
* Supervision: the mask map against the synthetic mask segmentation
  area-downsampled to the map (all zeros for unmasked faces); the
  background map against the region outside a fixed face ellipse on the
  aligned crop (:func:`~mmdl.datasets.face.face_region`) and outside the
  mask. The loss is the binary KL divergence (binary cross-entropy minus
  the target entropy: BCE's gradient, zero at a perfect prediction), mean
  over locations and stages, weighted by ``loss_mask``,
  ``loss_background`` and ``loss_complementarity`` (0 turns a term off,
  e.g. no background supervision).
"""
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmdl.registry import MODELS
from ..losses import binary_kl_divergence

MODES = ('partition', 'independent')
FOCI = ('mask', 'background')
REFINES = ('multiply', 'residual')

#: Attention maps of one stage: ``logits`` ``(N, 1 + K, h, w)`` and the
#: maps ``face`` and each focus, ``(N, 1, h, w)``.
StageMaps = Dict[str, Tensor]


class FocusAttention(BaseModule):
    """The attention of one stage: descriptor, conv 7x7, BN, ReLU, conv 1x1
    to ``num_maps`` logits (see the module docstring).

    Args:
        num_maps (int): Output maps, ``1 + K``.
        hidden_channels (int): Channels of the 7x7 convolution.
        kernel_size (int): Size of the first convolution (odd).
    """

    def __init__(self, num_maps: int, hidden_channels: int = 8,
                 kernel_size: int = 7) -> None:
        super().__init__()
        self.conv = nn.Conv2d(
            2, hidden_channels, kernel_size, padding=kernel_size // 2,
            bias=False)
        self.bn = nn.BatchNorm2d(hidden_channels)
        self.logits = nn.Conv2d(hidden_channels, num_maps, 1)
        # uniform maps at the start: the refined network begins as the
        # plain one scaled by a constant
        nn.init.zeros_(self.logits.weight)
        nn.init.zeros_(self.logits.bias)

    def forward(self, x: Tensor) -> Tensor:
        """Logits ``(N, num_maps, h, w)`` of the map ``x``."""
        desc = torch.cat([x.mean(1, keepdim=True), x.amax(1, keepdim=True)],
                         dim=1)
        return self.logits(F.relu(self.bn(self.conv(desc))))


@MODELS.register_module()
class ComplementaryAttention(BaseModule):
    """Multi-focal spatial attention refined inside the backbone, with its
    complementary attention learning losses (see the module docstring for
    the paper and the reconstruction).

    Used by :class:`~mmdl.models.MaskedFaceRecognizer`: the backbone runs
    ``forward_refined(x, refine)`` with ``refine(i, F) =
    self(F, i)[0]``, and :meth:`loss` turns the collected maps and the
    samples' ``gt_seg_map`` into losses.

    Args:
        stages (Sequence[int]): Backbone stages (0-based) to refine.
            Defaults to ``(2, )`` (IResNet's 14x14 map).
        mode (str): ``'partition'`` or ``'independent'``. Defaults to
            ``'partition'``.
        focus (Sequence[str]): Focused maps, a subset of ``('mask',
            'background')`` in that order. Defaults to both.
        refine (str): ``'multiply'`` or ``'residual'``. Defaults to
            ``'multiply'``.
        hidden_channels (int): Channels of the 7x7 convolution. Defaults
            to 8.
        kernel_size (int): Size of the first convolution. Defaults to 7.
        loss_mask (float): Weight of the mask-map loss. Defaults to 1.0.
        loss_background (float): Weight of the background-map loss.
            Defaults to 1.0.
        loss_complementarity (float): Weight of the complementarity loss
            (``mode='independent'``). Defaults to 1.0.
        face_landmarks (Sequence, optional): 5 ``(x, y)`` points of the
            aligned crop the face ellipse is fitted to. Defaults to None
            (the ArcFace template scaled to the input).
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 stages: Sequence[int] = (2, ),
                 mode: str = 'partition',
                 focus: Sequence[str] = FOCI,
                 refine: str = 'multiply',
                 hidden_channels: int = 8,
                 kernel_size: int = 7,
                 loss_mask: float = 1.0,
                 loss_background: float = 1.0,
                 loss_complementarity: float = 1.0,
                 face_landmarks: Optional[Sequence] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if isinstance(stages, int):
            stages = (stages, )
        stages = tuple(int(s) for s in stages)
        if not stages or len(set(stages)) != len(stages) or min(stages) < 0:
            raise ValueError('ComplementaryAttention: stages must be distinct '
                             f'non-negative stage indices, got {stages}')
        if mode not in MODES:
            raise ValueError(f'ComplementaryAttention: mode must be one of '
                             f'{MODES}, got {mode!r}')
        focus = tuple(focus)
        if any(f not in FOCI for f in focus) or \
                list(focus) != [f for f in FOCI if f in focus]:
            raise ValueError(f'ComplementaryAttention: focus must be a '
                             f'subset of {FOCI} in that order, got {focus}')
        if refine not in REFINES:
            raise ValueError(f'ComplementaryAttention: refine must be one of '
                             f'{REFINES}, got {refine!r}')
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError('ComplementaryAttention: kernel_size must be '
                             f'odd and positive, got {kernel_size}')
        weights = dict(
            loss_mask=loss_mask,
            loss_background=loss_background,
            loss_complementarity=loss_complementarity)
        for name, value in weights.items():
            if value < 0:
                raise ValueError(f'ComplementaryAttention: {name} must be '
                                 f'>= 0, got {value}')
        self.stages = stages
        self.mode = mode
        self.focus = focus
        self.refine_mode = refine
        self.loss_weights = weights
        self.face_landmarks = (None if face_landmarks is None else
                               np.asarray(face_landmarks, np.float32))
        self.names = ('face', ) + focus
        self.attentions = nn.ModuleDict({
            str(s): FocusAttention(len(self.names), hidden_channels,
                                   kernel_size)
            for s in stages
        })
        self._face_prior: Dict[Tuple[int, int], Tensor] = {}

    # ---------------------------------------------------------------- maps
    def log_probs(self, logits: Tensor) -> Dict[str, Tuple[Tensor, Tensor]]:
        """``(log p, log(1 - p))`` of every map from its stage logits."""
        if self.mode == 'independent' or not self.focus:
            return {
                name: (F.logsigmoid(logits[:, k:k + 1]),
                       F.logsigmoid(-logits[:, k:k + 1]))
                for k, name in enumerate(self.names)
            }
        log_z = torch.logsumexp(logits, 1, keepdim=True)
        out = {}
        for k, name in enumerate(self.names):
            others = torch.cat([logits[:, :k], logits[:, k + 1:]], 1)
            out[name] = (logits[:, k:k + 1] - log_z,
                         torch.logsumexp(others, 1, keepdim=True) - log_z)
        return out

    def maps(self, logits: Tensor) -> StageMaps:
        """The attention maps ``face`` and of each focus, in [0, 1]."""
        if self.mode == 'independent' or not self.focus:
            probs = torch.sigmoid(logits)
        else:
            probs = torch.softmax(logits, 1)
        out = dict(logits=logits)
        for k, name in enumerate(self.names):
            out[name] = probs[:, k:k + 1]
        return out

    def forward(self, feat: Tensor, stage: int) -> Tuple[Tensor, StageMaps]:
        """Refine the output of backbone stage ``stage``.

        Args:
            feat (Tensor): ``(N, C, h, w)``.
            stage (int): The stage index.

        Returns:
            tuple: The refined map (``feat`` itself for a stage not in
            ``stages``) and its attention maps (empty then).
        """
        if stage not in self.stages:
            return feat, {}
        maps = self.maps(self.attentions[str(stage)](feat))
        att = maps['face'].to(feat.dtype)
        refined = feat * att if self.refine_mode == 'multiply' else \
            feat * (1 + att)
        return refined, maps

    # ------------------------------------------------------------- targets
    def face_prior(self, image_size: Tuple[int, int], size: Tuple[int, int],
                   device: torch.device) -> Tensor:
        """The face-ellipse prior of the input, area-downsampled to
        ``size`` (cached per input and map size)."""
        key = (tuple(image_size), tuple(size))
        if key not in self._face_prior:
            from mmdl.datasets.face import face_region
            region = face_region(tuple(image_size), self.face_landmarks)
            region = torch.as_tensor(region, dtype=torch.float32)[None, None]
            self._face_prior[key] = F.adaptive_avg_pool2d(region, size)[0, 0]
        return self._face_prior[key].to(device)

    def targets(self, seg: Tensor, size: Tuple[int, int]) -> Dict[str, Tensor]:
        """Soft targets ``(N, 1, h, w)`` of the focused maps.

        Args:
            seg (Tensor): ``(N, H, W)`` mask segmentation of the inputs (1
                on mask pixels).
            size (tuple): The attention map size ``(h, w)``.

        Returns:
            dict: ``mask`` (area fraction of mask pixels) and
            ``background`` (area fraction outside the face ellipse, times
            one minus the mask).
        """
        mask = F.adaptive_avg_pool2d(seg[:, None].float(), size)
        prior = self.face_prior(seg.shape[-2:], size, seg.device)
        return dict(mask=mask, background=(1 - prior) * (1 - mask))

    def loss(self, stage_maps: Dict[int, StageMaps],
             seg: Tensor) -> Dict[str, Tensor]:
        """The attention losses, means over locations and stages.

        Args:
            stage_maps (dict): Stage index to its maps (:meth:`forward`).
            seg (Tensor): ``(N, H, W)`` mask segmentation of the inputs.

        Returns:
            dict: ``loss_mask``, ``loss_background`` (for the focused maps
            with a positive weight) and ``loss_complementarity``
            (``mode='independent'`` with a focus).
        """
        losses: Dict[str, Tensor] = {}
        for stage in self.stages:
            maps = stage_maps[stage]
            logits = maps['logits'].float()
            targets = self.targets(seg, logits.shape[-2:])
            log_probs = self.log_probs(logits)
            terms = {}
            for name in self.focus:
                weight = self.loss_weights[f'loss_{name}']
                if weight > 0:
                    terms[f'loss_{name}'] = weight * binary_kl_divergence(
                        *log_probs[name], targets[name]).mean()
            weight = self.loss_weights['loss_complementarity']
            if self.mode == 'independent' and self.focus and weight > 0:
                probs = torch.sigmoid(logits)
                rest = torch.prod(1 - probs[:, 1:], dim=1)
                terms['loss_complementarity'] = weight * (
                    (probs[:, 0] - rest)**2).mean()
            for key, value in terms.items():
                losses[key] = losses.get(key, 0) + value / len(self.stages)
        return losses
