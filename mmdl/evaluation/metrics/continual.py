# Copyright (c) mmdl contributors. All rights reserved.
"""Continual-learning metrics computed from an accuracy matrix.

The accuracy matrix ``R`` of a sequence of ``T`` tasks is ``T x T``: row
``i`` holds the accuracies measured after training task ``i``, column ``j``
the accuracy on task ``j``; only the lower triangle (``j <= i``) is
measured. ``R`` may be given as nested lists (``None`` for entries not
measured) or as an array (``NaN`` for them).

* average accuracy (Chaudhry et al., ECCV 2018; Lopez-Paz & Ranzato, NeurIPS
  2017): ``ACC = mean_j R[T-1][j]``;
* backward transfer (Lopez-Paz & Ranzato, 2017):
  ``BWT = mean_{j < T-1} (R[T-1][j] - R[j][j])`` (negative = forgetting);
* forgetting (Chaudhry et al., 2018):
  ``F = mean_{j < T-1} max_{i in j..T-2} (R[i][j] - R[T-1][j])``;
* row averages: ``A_i = mean_{j <= i} R[i][j]``, the average accuracy over
  the tasks seen after training task ``i``.

Missing entries (``None``/``NaN``, e.g. rows skipped by the loop's
``val_begin_task``) are left out of the means and maxima; a metric without
any term is ``None``. The values are in the unit of ``R`` (mmpretrain's
``accuracy/top1`` is a percentage).
"""
import math
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np

__all__ = [
    'accuracy_matrix_to_array', 'average_accuracy', 'backward_transfer',
    'forgetting', 'row_averages', 'continual_metrics'
]

MatrixLike = Union[Sequence[Sequence[Optional[float]]], np.ndarray]


def accuracy_matrix_to_array(matrix: MatrixLike) -> np.ndarray:
    """Convert an accuracy matrix to a float64 array with ``NaN`` for
    missing entries.

    Args:
        matrix (list[list[float | None]] | np.ndarray): A square matrix.

    Returns:
        np.ndarray: Array of shape (T, T).
    """
    if isinstance(matrix, np.ndarray):
        array = matrix.astype(np.float64)
    else:
        array = np.array([[np.nan if v is None else float(v) for v in row]
                          for row in matrix],
                         dtype=np.float64)
    if array.size == 0:
        return array.reshape(0, 0)
    if array.ndim != 2 or array.shape[0] != array.shape[1]:
        raise ValueError('the accuracy matrix must be square (T x T), got '
                         f'shape {array.shape}')
    return array


def _mean(values: Sequence[float]) -> Optional[float]:
    values = [v for v in values if not math.isnan(v)]
    return float(np.mean(values)) if values else None


def average_accuracy(matrix: MatrixLike) -> Optional[float]:
    """Average accuracy over all tasks after training the last task,
    ``mean_j R[T-1][j]``.

    Args:
        matrix (list[list[float | None]] | np.ndarray): ``R``, T x T.

    Returns:
        float | None: ACC; None for an empty matrix or a missing last row.
    """
    array = accuracy_matrix_to_array(matrix)
    if len(array) == 0:
        return None
    return _mean(array[-1].tolist())


def backward_transfer(matrix: MatrixLike) -> Optional[float]:
    """Backward transfer, ``mean_{j < T-1} (R[T-1][j] - R[j][j])``.

    Args:
        matrix (list[list[float | None]] | np.ndarray): ``R``, T x T.

    Returns:
        float | None: BWT; None when ``T < 2`` (no earlier task).
    """
    array = accuracy_matrix_to_array(matrix)
    last = len(array) - 1
    return _mean([array[last, j] - array[j, j] for j in range(last)])


def forgetting(matrix: MatrixLike) -> Optional[float]:
    """Average forgetting (Chaudhry et al., 2018),
    ``mean_{j < T-1} max_{i in j..T-2} (R[i][j] - R[T-1][j])``.

    Args:
        matrix (list[list[float | None]] | np.ndarray): ``R``, T x T.

    Returns:
        float | None: F; None when ``T < 2``.
    """
    array = accuracy_matrix_to_array(matrix)
    last = len(array) - 1
    terms = []
    for j in range(last):
        drops = array[j:last, j] - array[last, j]
        drops = drops[~np.isnan(drops)]
        terms.append(float(drops.max()) if drops.size else math.nan)
    return _mean(terms)


def row_averages(matrix: MatrixLike) -> List[Optional[float]]:
    """Average accuracy over the tasks seen so far, after each task:
    ``A_i = mean_{j <= i} R[i][j]``.

    Args:
        matrix (list[list[float | None]] | np.ndarray): ``R``, T x T.

    Returns:
        list[float | None]: ``A_0 .. A_{T-1}``; None for missing rows.
    """
    array = accuracy_matrix_to_array(matrix)
    return [_mean(array[i, :i + 1].tolist()) for i in range(len(array))]


def continual_metrics(matrix: MatrixLike) -> Dict[str, Any]:
    """All metrics of an accuracy matrix.

    Args:
        matrix (list[list[float | None]] | np.ndarray): ``R``, T x T. To
            get the metrics after task ``t`` of a longer sequence, pass the
            leading ``(t + 1) x (t + 1)`` block.

    Returns:
        dict: ``ACC``, ``BWT``, ``forgetting`` (float or None) and
        ``row_averages`` (list).
    """
    return dict(
        ACC=average_accuracy(matrix),
        BWT=backward_transfer(matrix),
        forgetting=forgetting(matrix),
        row_averages=row_averages(matrix))
