# Copyright (c) mmdl contributors. All rights reserved.
"""The ICCV2021 Masked Face Recognition (MFR) challenge protocol, as an
offline re-implementation on data the user holds.

The InsightFace track of the ICCV2021-MFR challenge (Deng et al., "Masked
Face Recognition Challenge: The InsightFace Track Report", ICCVW 2021,
arXiv 2108.08191) ranked models on two 1:1 verification sets:

* **Mask**: 6,964 identities with 6,964 masked and 13,928 non-masked
  images; every masked image is compared with every non-masked image
  (the report counts 13,928 positive, same-identity, and 96,983,824
  negative pairs). Metric: TAR at FAR <= 1e-4.
* **MR-All**: every pair of the (much larger) all-races set, each
  unordered pair once. Metric: TAR at FAR <= 1e-6.

The ongoing leaderboard (MFR-Ongoing) ranked by
``0.25 * TAR@Mask + 0.75 * TAR@All``. The test sets were never released
and the evaluation server went offline in 2025; this module evaluates the
same protocol on image sets held by the user. The scoring rule below is a
reconstruction, not the server's code:

1. A pair's score is the cosine of the two L2-normalised embeddings.
2. The negative scores, sorted descending, are ``s(1) >= s(2) >= ...``
   (``N`` of them); ``k = floor(FAR * N)``.
3. The threshold is ``t = s(k + 1)``, the ``(k + 1)``-th largest negative
   score; a pair is accepted iff its score is strictly greater than
   ``t``, so at most ``k`` negatives (fewer with ties at ``t``) are
   accepted and the achieved FAR is ``<= FAR``.
4. TAR is the fraction of positive pairs with a score above ``t``.

The server's exact rule for ties and whether it interpolated between ROC
points are not known; with continuous scores (no ties) the rule equals the
largest TAR among the ROC points whose FAR does not exceed the target.

Only the ``k + 1`` largest negatives are needed (9,699 of the Mask set's
97M at 1e-4), so the score matrix is never materialised: rows are scored
in blocks (one float32 matrix product per block), the few positive scores
are read out exactly at their positions, and the negatives of the block
are merged into a running top-k (:class:`StreamingTopK`).
"""
from fractions import Fraction
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import Tensor

ArrayLike = Union[Tensor, np.ndarray, Sequence]

#: Target FARs of the challenge's two sets.
MASK_FAR = 1e-4
ALL_FAR = 1e-6
#: MFR-Ongoing's weights of TAR@Mask and TAR@All.
MFR_WEIGHTS = (0.25, 0.75)


def _tensor(x: ArrayLike, dtype: Optional[torch.dtype] = None) -> Tensor:
    if isinstance(x, Tensor):
        x = x.detach().cpu()
        return x if dtype is None else x.to(dtype)
    return torch.as_tensor(np.asarray(x), dtype=dtype)


class StreamingTopK:
    """The ``k`` largest values of a stream of blocks.

    Every :meth:`update` keeps only the block's values above the current
    ``k``-th largest (all of them while fewer than ``k`` are kept), reduces
    them to their own top ``k`` with ``torch.topk`` and merges them with the
    running top ``k`` by one more ``torch.topk`` on the concatenation.
    Memory is ``O(k)`` beyond the block; the result is the multiset of the
    ``k`` largest values (ties included) whatever the block boundaries.

    ``-inf`` and NaN values are never kept: callers mark entries to skip
    (e.g. positive pairs inside a block of scores) with ``-inf``.

    Args:
        k (int): How many values to keep (>= 0).

    Example:
        >>> top = StreamingTopK(3)
        >>> top.update(torch.tensor([0.1, 0.9, 0.4]))
        >>> top.update(torch.tensor([0.5, 0.2]))
        >>> top.values()
        tensor([0.9000, 0.5000, 0.4000])
    """

    def __init__(self, k: int) -> None:
        if int(k) != k or k < 0:
            raise ValueError(f'StreamingTopK: k must be an integer >= 0, '
                             f'got {k!r}')
        self.k = int(k)
        self._top: Optional[Tensor] = None

    @property
    def full(self) -> bool:
        """Whether ``k`` values are kept."""
        return self.k == 0 or (self._top is not None
                               and len(self._top) >= self.k)

    @property
    def kth(self) -> float:
        """The smallest kept value once ``k`` are kept, else ``-inf``."""
        if self.k == 0 or not self.full:
            return float('-inf')
        return float(self._top[-1])

    def update(self, values: ArrayLike) -> None:
        """Merge a block of values (any shape; flattened)."""
        values = _tensor(values).reshape(-1)
        if self.k == 0 or values.numel() == 0:
            return
        if self._top is None:
            self._top = values.new_empty(0)
        floor = self._top[-1] if self.full else float('-inf')
        # a comparison pass; strict ">" is enough for the multiset of values
        candidates = values[values > floor]
        if candidates.numel() == 0:
            return
        if candidates.numel() > self.k:
            candidates = torch.topk(candidates, self.k, sorted=False).values
        merged = torch.cat([self._top, candidates.to(self._top.dtype)])
        self._top = torch.topk(merged, min(self.k, merged.numel())).values

    def values(self) -> Tensor:
        """The kept values in descending order (fewer than ``k`` when fewer
        were seen)."""
        if self._top is None:
            return torch.empty(0)
        return self._top.clone()


def _check_far(far: float) -> None:
    if not 0 < far <= 1:
        raise ValueError(f'MFR: FAR must be in (0, 1], got {far!r}')


def far_rank(num_negatives: int, far: float) -> int:
    """``k = floor(FAR * N)``, the most negatives the threshold may accept.

    The product is taken exactly with the FAR as written (``1e-4`` is
    1/10,000, not the nearest binary float), so that e.g. FAR 1e-6 of
    1,000,000 negatives gives 1.

    Args:
        num_negatives (int): ``N``, the number of negative pairs.
        far (float): Target FAR in ``(0, 1]``.

    Returns:
        int: ``k``.
    """
    _check_far(far)
    if num_negatives < 0:
        raise ValueError(f'MFR: num_negatives must be >= 0, got '
                         f'{num_negatives}')
    exact = Fraction(repr(float(far))) * int(num_negatives)
    return int(exact.numerator // exact.denominator)


def far_threshold(top_negatives: ArrayLike, num_negatives: int,
                  far: float) -> float:
    """The threshold of the strict rule: ``t = s(k + 1)``, the
    ``(k + 1)``-th largest negative score with ``k = floor(FAR * N)``.

    A pair is accepted iff its score is ``> t``. When ``k + 1 > N`` (only
    FAR 1: every negative may be accepted) there is no such score and the
    threshold is ``-inf`` (every pair is accepted).

    Args:
        top_negatives (Tensor | np.ndarray): At least the
            ``min(k + 1, N)`` largest negative scores, in any order (e.g.
            :meth:`StreamingTopK.values`).
        num_negatives (int): ``N``, the number of all negative scores.
        far (float): Target FAR in ``(0, 1]``.

    Returns:
        float: The threshold.

    Raises:
        ValueError: Bad FAR, no negatives, or fewer top negatives than the
            rule needs.
    """
    if num_negatives < 1:
        raise ValueError('MFR: a threshold needs at least one negative '
                         'pair, got none')
    k = far_rank(num_negatives, far)
    if k + 1 > num_negatives:
        return float('-inf')
    top = _tensor(top_negatives).reshape(-1)
    if len(top) < k + 1:
        raise ValueError(f'MFR: FAR {far:g} of {num_negatives} negatives '
                         f'needs the {k + 1} largest negative scores, got '
                         f'{len(top)}')
    return float(torch.topk(top.double(), k + 1).values[-1])


def _features(feats: ArrayLike, name: str, normalise: bool) -> Tensor:
    feats = _tensor(feats, torch.float32)
    if feats.dim() != 2:
        raise ValueError(f'MFR: {name} must be [N, D], got shape '
                         f'{tuple(feats.shape)}')
    if not bool(torch.isfinite(feats).all()):
        raise ValueError(f'MFR: {name} has non-finite values')
    if normalise:
        feats = torch.nn.functional.normalize(feats, dim=1)
    return feats.contiguous()


def _ids(ids: ArrayLike, name: str, num: int, feats_name: str) -> Tensor:
    ids = _tensor(ids, torch.int64).reshape(-1)
    if len(ids) != num:
        raise ValueError(f'MFR: {len(ids)} {name} for {num} {feats_name}')
    return ids


def _groups(sorted_ids: Tensor, values: Tensor) -> Tuple[Tensor, Tensor]:
    """Start and end of the run of each value in sorted ids."""
    return (torch.searchsorted(sorted_ids, values),
            torch.searchsorted(sorted_ids, values, right=True))


def _expand(starts: Tensor, counts: Tensor) -> Tuple[Tensor, Tensor]:
    """For runs ``starts[i] .. starts[i] + counts[i] - 1``: the run index
    and the position of every element (no Python loop)."""
    owner = torch.repeat_interleave(torch.arange(len(counts)), counts)
    offsets = torch.cumsum(counts, 0) - counts
    within = torch.arange(int(counts.sum())) - offsets[owner]
    return owner, starts[owner] + within


def mask_positive_pairs(query_ids: ArrayLike,
                        gallery_ids: ArrayLike) -> Tuple[Tensor, Tensor]:
    """Every ``(query row, gallery row)`` of the same identity, sorted by
    query row (one sort and two binary searches)."""
    query_ids = _tensor(query_ids, torch.int64).reshape(-1)
    gallery_ids = _tensor(gallery_ids, torch.int64).reshape(-1)
    order = torch.argsort(gallery_ids, stable=True)
    start, end = _groups(gallery_ids[order], query_ids)
    rows, pos = _expand(start, end - start)
    return rows, order[pos]


def all_positive_pairs(ids: ArrayLike) -> Tuple[Tensor, Tensor]:
    """Every unordered pair ``(i, j)``, ``i < j``, of the same identity,
    sorted by ``i``."""
    ids = _tensor(ids, torch.int64).reshape(-1)
    order = torch.argsort(ids, stable=True)
    sorted_ids = ids[order]
    _, end = _groups(sorted_ids, sorted_ids)
    here = torch.arange(len(ids))
    # partners of sorted position q: q + 1 .. end of its run
    owner, pos = _expand(here + 1, end - here - 1)
    first, second = order[owner], order[pos]
    low, high = torch.minimum(first, second), torch.maximum(first, second)
    by_row = torch.argsort(low, stable=True)
    return low[by_row], high[by_row]


def _scan(query: Tensor, gallery: Tensor, pos_rows: Tensor, pos_cols: Tensor,
          keep: int, block_size: int, upper: bool,
          progress: bool) -> Tuple[Tensor, Tensor]:
    """Positive scores and the ``keep`` largest negatives of
    ``query @ gallery.T`` (``upper``: only the entries above the diagonal,
    with ``query`` = ``gallery``), scored ``block_size`` rows at a time."""
    num = len(query)
    bounds = torch.searchsorted(pos_rows,
                                torch.arange(0, num + block_size, block_size))
    positives = torch.empty(len(pos_rows), dtype=torch.float32)
    top = StreamingTopK(keep)
    lower = None
    if upper:  # entries (i, j) with j <= i of a diagonal block
        side = min(block_size, num)
        lower = torch.ones(side, side, dtype=torch.bool).tril()
    starts = range(0, num, block_size)
    if progress:
        from mmengine.utils import ProgressBar
        bar = ProgressBar(len(starts))
    for i, start in enumerate(starts):
        stop = min(start + block_size, num)
        first_col = start if upper else 0
        scores = query[start:stop] @ gallery[first_col:].T
        if upper:
            rows = stop - start
            scores[:, :rows].masked_fill_(lower[:rows, :rows], -float('inf'))
        p0, p1 = int(bounds[i]), int(bounds[i + 1])
        if p1 > p0:
            r = pos_rows[p0:p1] - start
            c = pos_cols[p0:p1] - first_col
            positives[p0:p1] = scores[r, c]
            scores[r, c] = -float('inf')
        top.update(scores)
        del scores
        if progress:
            bar.update()
    return positives, top.values()


def _result(positives: Tensor, top: Tensor, num_negative: int,
            far: float) -> Dict:
    threshold = far_threshold(top, num_negative, far)
    return dict(
        tar=float((positives > threshold).double().mean()),
        threshold=threshold,
        num_positive=len(positives),
        num_negative=num_negative,
        false_accepts=int((top > threshold).sum()),
        far=far)


def _check_block(block_size: int) -> None:
    if int(block_size) != block_size or block_size < 1:
        raise ValueError(f'MFR: block_size must be an integer >= 1, got '
                         f'{block_size!r}')


def mask_protocol(masked_feats: ArrayLike,
                  masked_ids: ArrayLike,
                  plain_feats: ArrayLike,
                  plain_ids: ArrayLike,
                  far: float = MASK_FAR,
                  block_size: int = 1024,
                  normalise: bool = True,
                  progress: bool = False) -> Dict:
    """The Mask set's 1:1 protocol: every masked image against every
    non-masked image; pairs of one identity are positives.

    Args:
        masked_feats (Tensor | np.ndarray): ``[M, D]`` embeddings of the
            masked images.
        masked_ids (Sequence[int]): Their ``M`` identities.
        plain_feats (Tensor | np.ndarray): ``[P, D]`` embeddings of the
            non-masked images.
        plain_ids (Sequence[int]): Their ``P`` identities.
        far (float): Target FAR in ``(0, 1]``. Defaults to 1e-4.
        block_size (int): Masked images per block of scores (the block
            holds ``block_size * P`` float32 scores). Defaults to 1024.
        normalise (bool): L2-normalise the embeddings first (scores are
            cosines). Defaults to True.
        progress (bool): Progress bar over the blocks. Defaults to False.

    Returns:
        dict: ``tar`` (fraction of positives above the threshold),
        ``threshold`` (see :func:`far_threshold`), ``num_positive``,
        ``num_negative`` (``M * P - num_positive``), ``false_accepts``
        (negatives above the threshold, ``<= floor(far * num_negative)``)
        and ``far``.

    Raises:
        ValueError: Shapes or lengths disagree, no positive or no negative
            pair, bad FAR or block size.
    """
    _check_far(far)
    _check_block(block_size)
    query = _features(masked_feats, 'masked_feats', normalise)
    gallery = _features(plain_feats, 'plain_feats', normalise)
    if query.shape[1] != gallery.shape[1]:
        raise ValueError(f'MFR: masked_feats have {query.shape[1]} '
                         f'dimensions, plain_feats {gallery.shape[1]}')
    query_ids = _ids(masked_ids, 'masked_ids', len(query), 'masked_feats')
    gallery_ids = _ids(plain_ids, 'plain_ids', len(gallery), 'plain_feats')
    rows, cols = mask_positive_pairs(query_ids, gallery_ids)
    num_negative = len(query) * len(gallery) - len(rows)
    if not len(rows):
        raise ValueError('MFR mask protocol: no masked image shares an '
                         'identity with a non-masked image (no positive '
                         'pair)')
    if num_negative < 1:
        raise ValueError('MFR mask protocol: every pair is of one identity '
                         '(no negative pair)')
    keep = min(far_rank(num_negative, far) + 1, num_negative)
    positives, top = _scan(query, gallery, rows, cols, keep, block_size, False,
                           progress)
    return _result(positives, top, num_negative, far)


def all_to_all_protocol(feats: ArrayLike,
                        ids: ArrayLike,
                        far: float = ALL_FAR,
                        block_size: int = 1024,
                        normalise: bool = True,
                        progress: bool = False) -> Dict:
    """The MR-All protocol: every unordered pair ``i < j`` once; pairs of
    one identity are positives.

    Rows are scored in blocks against the rows from the block on (the
    upper triangle of the score matrix).

    Args:
        feats (Tensor | np.ndarray): ``[N, D]`` embeddings.
        ids (Sequence[int]): Their ``N`` identities.
        far (float): Target FAR in ``(0, 1]``. Defaults to 1e-6.
        block_size (int): Rows per block. Defaults to 1024.
        normalise (bool): L2-normalise the embeddings first. Defaults to
            True.
        progress (bool): Progress bar over the blocks. Defaults to False.

    Returns:
        dict: As :func:`mask_protocol`, with ``num_negative`` =
        ``N (N - 1) / 2 - num_positive``.

    Raises:
        ValueError: As :func:`mask_protocol`.
    """
    _check_far(far)
    _check_block(block_size)
    feats = _features(feats, 'feats', normalise)
    ids = _ids(ids, 'ids', len(feats), 'feats')
    rows, cols = all_positive_pairs(ids)
    num_negative = len(feats) * (len(feats) - 1) // 2 - len(rows)
    if not len(rows):
        raise ValueError('MFR all-to-all protocol: no two images share an '
                         'identity (no positive pair)')
    if num_negative < 1:
        raise ValueError('MFR all-to-all protocol: all images are of one '
                         'identity (no negative pair)')
    keep = min(far_rank(num_negative, far) + 1, num_negative)
    positives, top = _scan(feats, feats, rows, cols, keep, block_size, True,
                           progress)
    return _result(positives, top, num_negative, far)


def mfr_score(mask_tar: float,
              all_tar: float,
              weights: Sequence[float] = MFR_WEIGHTS) -> float:
    """MFR-Ongoing's ranking score, ``w0 * TAR@Mask + w1 * TAR@All``
    (``0.25`` and ``0.75`` by default; the unit of the TARs is kept).

    Args:
        mask_tar (float): TAR on the Mask set.
        all_tar (float): TAR on the all-to-all set.
        weights (Sequence[float]): The two weights.

    Returns:
        float: The score.
    """
    if len(weights) != 2:
        raise ValueError(f'MFR: weights must be two numbers (Mask, All), '
                         f'got {weights!r}')
    return float(weights[0] * mask_tar + weights[1] * all_tar)
