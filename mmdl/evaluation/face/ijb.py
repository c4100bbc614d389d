# Copyright (c) mmdl contributors. All rights reserved.
"""IJB-B / IJB-C 1:1 template verification as insightface's
``eval_ijbc.py`` computes it, at full scale.

1. Image features (original + flipped embedding, "F2"; or the original
   only) keep their norm ("N1"; N0 normalises them) and are weighted by the
   detector's faceness score ("D1").
2. Within a template, the images of one media (a still or a video) are
   averaged; the media features are summed; the sum is L2-normalised.
3. A pair's score is the cosine of its two template features.
4. ROC as ``sklearn.metrics.roc_curve`` draws it (``drop_intermediate``),
   and TAR at each target FAR from the ROC point whose FPR is nearest to it
   (ties toward the larger TAR).

Written here because insightface's script loops over templates in Python
(minutes for IJB-C's 23,124 templates) and scores pairs by gathering both
features of every pair. Here every step is vectorised in torch: media and
template sums with ``index_add_``, scores from blocks of the template Gram
matrix (each pair once, as ``(min, max)``; 15.7M pairs in seconds), and
the ROC from one sort.
"""
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import Tensor

#: Target FARs of insightface's table.
FAR_TARGETS = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1)


def _tensor(x, dtype=None) -> Tensor:
    if isinstance(x, Tensor):
        return x if dtype is None else x.to(dtype)
    return torch.as_tensor(np.asarray(x), dtype=dtype)


def image_features(features: Tensor,
                   faceness: Optional[Tensor] = None,
                   normalise: bool = False) -> Tensor:
    """Image features before aggregation: optionally L2-normalised (N0),
    then multiplied by the faceness score (D1) when one is given."""
    features = _tensor(features, torch.float32)
    if normalise:
        features = torch.nn.functional.normalize(features, dim=1)
    if faceness is not None:
        features = features * _tensor(faceness, torch.float32)[:, None]
    return features


def template_features(features: Tensor, templates: Sequence[int],
                      medias: Sequence[int]) -> Tuple[Tensor, Tensor]:
    """Aggregate image features into L2-normalised template features.

    Args:
        features (Tensor): ``[N, D]`` image features.
        templates (Sequence[int]): Template id of every image.
        medias (Sequence[int]): Media id of every image.

    Returns:
        tuple: ``[T, D]`` template features and the ``T`` sorted template
        ids they belong to.
    """
    features = _tensor(features, torch.float32)
    templates = _tensor(templates, torch.int64)
    medias = _tensor(medias, torch.int64)
    if not len(features) == len(templates) == len(medias):
        raise ValueError(f'IJB: {len(features)} features, {len(templates)} '
                         f'template ids and {len(medias)} media ids')
    unique_t, template_index = torch.unique(templates, return_inverse=True)
    # one group per (template, media): the mean of its images
    media_key = template_index * (int(medias.max()) - int(medias.min()) +
                                  1) + (medias - medias.min())
    unique_m, media_index = torch.unique(media_key, return_inverse=True)
    sums = torch.zeros(len(unique_m), features.shape[1])
    sums.index_add_(0, media_index, features)
    counts = torch.bincount(media_index, minlength=len(unique_m))
    media_feats = sums / counts[:, None].to(sums.dtype)
    media_template = torch.zeros(len(unique_m), dtype=torch.int64)
    media_template[media_index] = template_index
    # the media features of a template are summed, then normalised
    template_feats = torch.zeros(len(unique_t), features.shape[1])
    template_feats.index_add_(0, media_template, media_feats)
    return torch.nn.functional.normalize(template_feats, dim=1), unique_t


def pair_scores(template_feats: Tensor,
                template_ids: Tensor,
                first: Sequence[int],
                second: Sequence[int],
                block: int = 2048,
                progress: bool = False) -> Tensor:
    """Cosine scores of template pairs.

    Each pair is mapped to its ``(min, max)`` template rows; rows are taken
    in blocks, and for every block the scores come from one product of the
    block's features with the features of the rows from the block on.

    Args:
        template_feats (Tensor): ``[T, D]`` L2-normalised features.
        template_ids (Tensor): The ``T`` sorted template ids.
        first (Sequence[int]): Template id of every pair's first template.
        second (Sequence[int]): Of its second template.
        block (int): Rows per block. Defaults to 2048.
        progress (bool): Show a progress bar. Defaults to False.

    Returns:
        Tensor: One score per pair.

    Raises:
        KeyError: A pair names a template without images.
    """
    template_ids = _tensor(template_ids, torch.int64)
    rows = []
    for ids in (first, second):
        ids = _tensor(ids, torch.int64).contiguous()
        pos = torch.searchsorted(template_ids, ids).clamp_max(
            len(template_ids) - 1)
        missing = template_ids[pos] != ids
        if bool(missing.any()):
            raise KeyError(f'IJB: {int(missing.sum())} pair template id(s) '
                           f'have no image, e.g. {int(ids[missing][0])}')
        rows.append(pos)
    low = torch.minimum(rows[0], rows[1])
    high = torch.maximum(rows[0], rows[1])
    del rows
    order = torch.argsort(low)
    low, high = low[order], high[order]
    num = len(template_feats)
    bounds = torch.searchsorted(low, torch.arange(0, num + block, block))
    scores = torch.empty(len(order), dtype=torch.float32)
    starts = range(0, num, block)
    if progress:
        from mmengine.utils import ProgressBar
        bar = ProgressBar(len(starts))
    for i, start in enumerate(starts):
        p0, p1 = int(bounds[i]), int(bounds[i + 1])
        if p1 > p0:
            gram = template_feats[start:start + block] @ \
                template_feats[start:].T
            scores[order[p0:p1]] = gram[low[p0:p1] - start,
                                        high[p0:p1] - start]
        if progress:
            bar.update()
    return scores


def roc_curve(labels: Sequence[int], scores: Sequence[float],
              drop_intermediate: bool = True) -> Dict[str, np.ndarray]:
    """The ROC of scores, with the points ``sklearn.metrics.roc_curve``
    returns (thresholds at every distinct score, collinear points dropped,
    a first point at infinity).

    Args:
        labels (Sequence[int]): 1 genuine, 0 impostor.
        scores (Sequence[float]): Higher is more similar.
        drop_intermediate (bool): Drop points on straight stretches.

    Returns:
        dict: ``fpr``, ``tpr`` and ``thresholds`` (float64 arrays).
    """
    labels = _tensor(labels, torch.int64)
    scores = _tensor(scores)
    if labels.shape != scores.shape:
        raise ValueError(f'ROC: {len(labels)} labels for {len(scores)} '
                         'scores')
    order = torch.argsort(scores, descending=True, stable=True)
    sorted_scores = scores[order]
    tps_all = torch.cumsum(labels[order], 0)
    # the last position of every distinct score
    distinct = torch.nonzero(sorted_scores[1:] != sorted_scores[:-1]).ravel()
    last = torch.cat([distinct, torch.tensor([len(scores) - 1])])
    tps = tps_all[last]
    fps = last + 1 - tps
    thresholds = sorted_scores[last].double()
    if drop_intermediate and len(tps) > 2:
        keep = torch.ones(len(tps), dtype=torch.bool)
        keep[1:-1] = ((fps[2:] - 2 * fps[1:-1] + fps[:-2]) != 0) | (
            (tps[2:] - 2 * tps[1:-1] + tps[:-2]) != 0)
        tps, fps, thresholds = tps[keep], fps[keep], thresholds[keep]
    tps = torch.cat([torch.zeros(1, dtype=tps.dtype), tps]).double()
    fps = torch.cat([torch.zeros(1, dtype=fps.dtype), fps]).double()
    thresholds = torch.cat(
        [torch.tensor([float('inf')], dtype=torch.float64), thresholds])
    positives, negatives = tps[-1], fps[-1]
    fpr = fps / negatives if negatives > 0 else torch.full_like(fps, np.nan)
    tpr = tps / positives if positives > 0 else torch.full_like(tps, np.nan)
    return dict(
        fpr=fpr.numpy(), tpr=tpr.numpy(), thresholds=thresholds.numpy())


def tar_at_far(fpr: np.ndarray, tpr: np.ndarray,
               targets: Sequence[float] = FAR_TARGETS) -> Dict[float, float]:
    """TAR at target FARs from the ROC point with the nearest FPR; among
    equally near points the one with the larger TAR (insightface's rule).

    Returns:
        dict: Target FAR to TAR (a fraction).
    """
    result = {}
    for target in targets:
        gap = np.abs(fpr - target)
        nearest = np.flatnonzero(gap == gap.min())
        result[target] = float(tpr[nearest].max())
    return result


def auc(fpr: np.ndarray, tpr: np.ndarray) -> float:
    """Area under the ROC (trapezoids)."""
    return float(np.trapezoid(tpr, fpr))


def evaluate_ijb(features: Tensor,
                 templates: Sequence[int],
                 medias: Sequence[int],
                 pairs: Tuple[Sequence[int], Sequence[int], Sequence[int]],
                 faceness: Optional[Sequence[float]] = None,
                 normalise: bool = False,
                 targets: Sequence[float] = FAR_TARGETS,
                 progress: bool = False) -> Dict:
    """The whole 1:1 protocol from image features.

    Args:
        features (Tensor): ``[N, D]`` image features (e.g. original + flip).
        templates (Sequence[int]): Template id per image.
        medias (Sequence[int]): Media id per image.
        pairs (tuple): Template ids of the first and second template of
            every pair, and the labels (1 genuine).
        faceness (Sequence[float], optional): Detector scores (D1); None
            for D0.
        normalise (bool): N0 instead of N1. Defaults to False.
        targets (Sequence[float]): FARs of the table.
        progress (bool): Progress bar over the scoring blocks.

    Returns:
        dict: ``tar`` (FAR to TAR), ``auc``, ``roc`` (fpr, tpr,
        thresholds) and ``scores``.
    """
    feats = image_features(features, faceness, normalise)
    template_feats, template_ids = template_features(feats, templates,
                                                     medias)
    del feats
    first, second, labels = pairs
    scores = pair_scores(template_feats, template_ids, first, second,
                         progress=progress)
    roc = roc_curve(labels, scores)
    return dict(
        tar=tar_at_far(roc['fpr'], roc['tpr'], targets),
        auc=auc(roc['fpr'], roc['tpr']),
        roc=roc,
        scores=scores)
