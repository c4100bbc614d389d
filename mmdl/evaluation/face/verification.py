# Copyright (c) mmdl contributors. All rights reserved.
"""The 10-fold verification protocol of the ``.bin`` sets (LFW, CFP-FP,
AgeDB-30, CALFW, CPLFW) as insightface's ``eval/verification.py`` runs it.

For embeddings already fused (original + flip) and L2-normalised, pair
``k`` is images ``2k`` and ``2k + 1``; its distance is the squared L2
distance, and "same" is predicted iff the distance is below a threshold.

* Accuracy: 10 folds of contiguous pairs (``KFold(10, shuffle=False)``);
  on each fold the threshold among 0, 0.01, ..., 3.99 with the best
  accuracy on the other 9 folds (the first in case of ties) is applied to
  the fold; mean and (population) std of the fold accuracies.
* VAL@FAR: on each fold the threshold (0, 0.001, ..., 3.999) at which the
  training folds' FAR is the target, by linear interpolation of threshold
  against FAR (0 when the target is never reached), and the held-out
  fold's VAL (true accept rate) and FAR; mean and std. insightface calls
  ``scipy``'s ``interp1d(kind='slinear')``, which current scipy refuses
  for the repeated FAR values of a threshold sweep ("Expect x to not have
  duplicates"); ``np.interp`` computes the same line, between the largest
  threshold of the FAR level below the target and the next threshold.

Written here because insightface's module imports mxnet. The threshold
sweeps are vectorised: counts below every threshold come from sorted
distances (``searchsorted``) instead of one pass per threshold.
"""
from typing import Dict, Sequence

import numpy as np

#: The accuracy thresholds of insightface: 0, 0.01, ..., 3.99.
ACC_THRESHOLDS = np.arange(0, 4, 0.01)
#: The VAL@FAR thresholds: 0, 0.001, ..., 3.999.
VAL_THRESHOLDS = np.arange(0, 4, 0.001)


def pair_distances(embeddings: np.ndarray) -> np.ndarray:
    """Squared L2 distances of the pairs ``(2k, 2k + 1)``."""
    embeddings = np.asarray(embeddings, dtype=np.float64)
    diff = embeddings[0::2] - embeddings[1::2]
    return np.sum(np.square(diff), 1)


def _counts_below(dist: np.ndarray, issame: np.ndarray,
                  thresholds: np.ndarray) -> tuple:
    """Per threshold, the same and the different pairs with distance
    strictly below it."""
    same = np.sort(dist[issame])
    diff = np.sort(dist[~issame])
    return (np.searchsorted(same, thresholds, side='left'),
            np.searchsorted(diff, thresholds, side='left'))


def _rates(dist, issame, thresholds):
    """(accuracy, tpr, fpr) per threshold, as insightface computes them."""
    tp, fp = _counts_below(dist, issame, thresholds)
    n_same = int(issame.sum())
    n_diff = len(issame) - n_same
    tn = n_diff - fp
    accuracy = (tp + tn) / len(dist)
    tpr = tp / n_same if n_same else np.zeros(len(thresholds))
    fpr = fp / n_diff if n_diff else np.zeros(len(thresholds))
    return accuracy, tpr, fpr


def _folds(num_folds: int):
    """``KFold(num_folds, shuffle=False)`` (imported on use: importing
    scikit-learn costs seconds)."""
    from sklearn.model_selection import KFold
    return KFold(n_splits=num_folds, shuffle=False)


def kfold_accuracy(dist: np.ndarray,
                   issame: np.ndarray,
                   num_folds: int = 10,
                   thresholds: np.ndarray = ACC_THRESHOLDS) -> Dict:
    """Fold accuracies with thresholds chosen on the other folds.

    Args:
        dist (np.ndarray): Pair distances.
        issame (np.ndarray): Pair labels (bool).
        num_folds (int): Folds. Defaults to 10.
        thresholds (np.ndarray): Candidate thresholds.

    Returns:
        dict: ``accuracy`` (per fold), ``best_thresholds`` (per fold),
        ``tpr`` and ``fpr`` (per threshold, mean over the held-out folds).
    """
    issame = np.asarray(issame, dtype=bool)
    folds = _folds(num_folds)
    accuracy, best, tprs, fprs = [], [], [], []
    for train, test in folds.split(np.arange(len(dist))):
        acc_train, _, _ = _rates(dist[train], issame[train], thresholds)
        threshold = thresholds[int(np.argmax(acc_train))]
        acc_test, tpr, fpr = _rates(dist[test], issame[test], thresholds)
        tprs.append(tpr)
        fprs.append(fpr)
        test_acc, _, _ = _rates(dist[test], issame[test],
                                np.array([threshold]))
        accuracy.append(float(test_acc[0]))
        best.append(float(threshold))
    return dict(
        accuracy=np.array(accuracy),
        best_thresholds=np.array(best),
        tpr=np.mean(tprs, 0),
        fpr=np.mean(fprs, 0))


def kfold_val_far(dist: np.ndarray,
                  issame: np.ndarray,
                  far_target: float = 1e-3,
                  num_folds: int = 10,
                  thresholds: np.ndarray = VAL_THRESHOLDS) -> Dict:
    """VAL (true accept rate) at a target FAR, per fold.

    Args:
        dist (np.ndarray): Pair distances.
        issame (np.ndarray): Pair labels (bool).
        far_target (float): The FAR. Defaults to 1e-3.
        num_folds (int): Folds. Defaults to 10.
        thresholds (np.ndarray): Candidate thresholds.

    Returns:
        dict: ``val`` and ``far`` per fold.
    """
    issame = np.asarray(issame, dtype=bool)
    folds = _folds(num_folds)
    vals, fars = [], []
    for train, test in folds.split(np.arange(len(dist))):
        _, _, far_train = _rates(dist[train], issame[train], thresholds)
        if np.max(far_train) >= far_target:
            threshold = float(np.interp(far_target, far_train, thresholds))
        else:
            threshold = 0.0
        same, diff = issame[test], ~issame[test]
        accept = dist[test] < threshold
        vals.append(float(np.sum(accept & same) / max(np.sum(same), 1)))
        fars.append(float(np.sum(accept & diff) / max(np.sum(diff), 1)))
    return dict(val=np.array(vals), far=np.array(fars))


def verification_metrics(embeddings: np.ndarray,
                         issame: Sequence[bool],
                         num_folds: int = 10,
                         far_target: float = 1e-3) -> Dict[str, float]:
    """The ``.bin`` protocol on fused embeddings.

    Args:
        embeddings (np.ndarray): ``[2P, D]`` L2-normalised embeddings,
            pair ``k`` in rows ``2k`` and ``2k + 1``.
        issame (Sequence[bool]): ``P`` pair labels.
        num_folds (int): Folds. Defaults to 10.
        far_target (float): FAR of VAL@FAR. Defaults to 1e-3.

    Returns:
        dict: ``accuracy`` and ``accuracy_std`` (fractions),
        ``threshold`` (mean chosen threshold), ``val``, ``val_std`` and
        ``far``.

    Raises:
        ValueError: The numbers of embeddings and labels disagree, or there
            are fewer pairs than folds.
    """
    issame = np.asarray(issame, dtype=bool)
    if len(embeddings) != 2 * len(issame):
        raise ValueError(f'verification: {len(embeddings)} embeddings for '
                         f'{len(issame)} pairs; expected twice as many')
    if len(issame) < num_folds:
        raise ValueError(f'verification: {len(issame)} pairs cannot form '
                         f'{num_folds} folds')
    dist = pair_distances(embeddings)
    acc = kfold_accuracy(dist, issame, num_folds)
    val = kfold_val_far(dist, issame, far_target, num_folds)
    return dict(
        accuracy=float(np.mean(acc['accuracy'])),
        accuracy_std=float(np.std(acc['accuracy'])),
        threshold=float(np.mean(acc['best_thresholds'])),
        val=float(np.mean(val['val'])),
        val_std=float(np.std(val['val'])),
        far=float(np.mean(val['far'])))
