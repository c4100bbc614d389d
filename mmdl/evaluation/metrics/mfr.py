# Copyright (c) mmdl contributors. All rights reserved.
"""MFRMetric: the ICCV2021-MFR masked-face protocol (Mask and all-to-all
TAR@FAR and MFR-Ongoing's weighted score) on a user-held image set."""
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from mmdl.evaluation.face.mfr import (ALL_FAR, MASK_FAR, MFR_WEIGHTS,
                                      all_to_all_protocol, mask_protocol,
                                      mfr_score)
from mmdl.registry import METRICS

PROTOCOLS = ('mask', 'all')


def far_label(far: float) -> str:
    """A FAR as it appears in result keys: ``1e-4``, ``2.5e-3``, ``1e0``."""
    mantissa, exponent = f'{far:e}'.split('e')
    mantissa = mantissa.rstrip('0').rstrip('.')
    return f'{mantissa}e{int(exponent)}'


def _scalar(value) -> float:
    """A number from a Python/NumPy scalar or a one-element tensor/array
    (``gt_label`` is packed as a ``[1]`` tensor)."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    array = np.asarray(value).reshape(-1)
    if array.size != 1:
        raise ValueError(f'MFRMetric: expected one value, got {array.size}')
    return array[0].item()


@METRICS.register_module()
class MFRMetric(BaseMetric):
    """Masked-face verification as the ICCV2021-MFR challenge (InsightFace
    track) scored it, re-implemented offline (see
    :mod:`mmdl.evaluation.face.mfr` for the reconstructed rule: cosine
    scores, threshold at the ``(floor(FAR * N) + 1)``-th largest negative,
    strict acceptance).

    Expects samples with the ``embedding`` of
    :class:`~mmdl.models.FaceRecognizer`, the identity as ``gt_label`` and
    the ``masked`` flag of :class:`~mmdl.datasets.MFRDataset` (add
    ``'masked'`` to the ``meta_keys`` of ``PackInputs``). Protocols:

    * ``'mask'``: every masked image against every non-masked image,
      TAR at ``mask_far`` (the challenge's Mask set: 1e-4);
    * ``'all'``: every unordered pair of all images, TAR at ``all_far``
      (MR-All: 1e-6).

    Results, under ``mfr/``: ``mask_tar@far=1e-4`` and
    ``all_tar@far=1e-6`` (%), ``mask_threshold`` and ``all_threshold``
    (cosine), and ``score`` (%, ``0.25 * mask + 0.75 * all``, MFR-Ongoing's
    ranking, only when both protocols run).

    Args:
        protocols (Sequence[str]): Any of ``'mask'`` and ``'all'``.
            Defaults to both.
        mask_far (float): FAR of the Mask protocol. Defaults to 1e-4.
        all_far (float): FAR of the all-to-all protocol. Defaults to 1e-6.
        weights (Sequence[float]): Weights of the two TARs in ``score``.
            Defaults to ``(0.25, 0.75)``.
        block_size (int): Rows per block of scores. Defaults to 1024.
        progress (bool): Progress bars over the blocks. Defaults to False.
        collect_device (str): Where results are gathered.
        prefix (str, optional): Key prefix. Defaults to ``'mfr'``.
    """

    default_prefix = 'mfr'

    def __init__(self,
                 protocols: Sequence[str] = PROTOCOLS,
                 mask_far: float = MASK_FAR,
                 all_far: float = ALL_FAR,
                 weights: Sequence[float] = MFR_WEIGHTS,
                 block_size: int = 1024,
                 progress: bool = False,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if isinstance(protocols, str):
            protocols = (protocols, )
        unknown = [p for p in protocols if p not in PROTOCOLS]
        if unknown or not protocols:
            raise ValueError(f'MFRMetric: protocols must be a non-empty '
                             f'subset of {PROTOCOLS}, got {protocols!r}')
        for name, far in (('mask_far', mask_far), ('all_far', all_far)):
            if not 0 < far <= 1:
                raise ValueError(f'MFRMetric: {name} must be in (0, 1], '
                                 f'got {far!r}')
        if len(weights) != 2:
            raise ValueError(f'MFRMetric: weights must be two numbers '
                             f'(mask, all), got {weights!r}')
        self.protocols = tuple(dict.fromkeys(protocols))
        self.mask_far = mask_far
        self.all_far = all_far
        self.weights = tuple(weights)
        self.block_size = block_size
        self.progress = progress

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Keep every image's embedding (float32 NumPy), identity and
        mask flag."""
        needs_mask = 'mask' in self.protocols
        for sample in data_samples:
            if 'embedding' not in sample:
                raise KeyError("MFRMetric: a sample has no 'embedding'; it "
                               'is filled by FaceRecognizer.predict')
            if 'gt_label' not in sample:
                raise KeyError("MFRMetric: a sample has no 'gt_label' (the "
                               'identity); MFRDataset provides it and '
                               'PackInputs packs it')
            if needs_mask and 'masked' not in sample:
                raise KeyError("MFRMetric: a sample has no 'masked'; "
                               "MFRDataset provides it (add 'masked' to "
                               "the meta_keys of PackInputs)")
            embedding = sample['embedding']
            if isinstance(embedding, torch.Tensor):
                embedding = embedding.detach().float().cpu().numpy()
            self.results.append(
                dict(
                    embedding=np.asarray(embedding,
                                         dtype=np.float32).reshape(-1),
                    identity=int(_scalar(sample['gt_label'])),
                    masked=bool(_scalar(sample.get('masked', False)))))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Run the protocols on the gathered embeddings."""
        features = np.stack([r['embedding'] for r in results])
        identities = np.array([r['identity'] for r in results], dtype=np.int64)
        metrics: Dict[str, float] = {}
        tars = {}
        if 'mask' in self.protocols:
            masked = np.array([r['masked'] for r in results], dtype=bool)
            if masked.all() or not masked.any():
                raise ValueError(
                    f'MFRMetric: the mask protocol needs masked and '
                    f'non-masked images, got {int(masked.sum())} masked of '
                    f'{len(masked)}')
            result = mask_protocol(
                features[masked],
                identities[masked],
                features[~masked],
                identities[~masked],
                far=self.mask_far,
                block_size=self.block_size,
                progress=self.progress)
            tars['mask'] = result['tar']
            metrics[f'mask_tar@far={far_label(self.mask_far)}'] = \
                100 * result['tar']
            metrics['mask_threshold'] = result['threshold']
            self._log('mask', result)
        if 'all' in self.protocols:
            result = all_to_all_protocol(
                features,
                identities,
                far=self.all_far,
                block_size=self.block_size,
                progress=self.progress)
            tars['all'] = result['tar']
            metrics[f'all_tar@far={far_label(self.all_far)}'] = \
                100 * result['tar']
            metrics['all_threshold'] = result['threshold']
            self._log('all', result)
        if len(tars) == 2:
            metrics['score'] = 100 * mfr_score(tars['mask'], tars['all'],
                                               self.weights)
        return metrics

    @staticmethod
    def _log(name: str, result: Dict) -> None:
        print_log(
            f"MFR {name}: {result['num_positive']} positive and "
            f"{result['num_negative']} negative pairs, threshold "
            f"{result['threshold']:.4f} at FAR {result['far']:g} "
            f"({result['false_accepts']} negatives above it)",
            logger='current')
