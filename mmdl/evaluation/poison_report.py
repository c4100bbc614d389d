# Copyright (c) mmdl contributors. All rights reserved.
"""The robustness report of a poisoning attack on continual learning:
per-task accuracy before and after the poisoned task, clean against
poisoned, per regulariser, as mean and std over seeds."""
import statistics
from typing import Dict, List, Optional, Sequence, Tuple

from .continual_table import read_run


def _row(matrix: List[List[Optional[float]]], row: int, path: str,
         width: int) -> List[float]:
    if row >= len(matrix) or matrix[row] is None:
        raise ValueError(f'{path}: the accuracy matrix has no row {row} '
                         '(did the run train that task?)')
    values = matrix[row][:width]
    if len(values) < width or any(v is None for v in values):
        raise ValueError(f'{path}: row {row} of the accuracy matrix lacks '
                         f'tasks 0..{width - 1}')
    return [float(v) for v in values]


def pair_result(clean_dir: str, poisoned_dir: str,
                target_task: int) -> Dict:
    """One seed's comparison of a clean and a poisoned run.

    Both runs trained the same tasks ``0..T`` from the same checkpoint,
    task ``T`` on clean or poisoned data. Accuracies are read from each
    run's ``continual_metrics.json`` (the accuracy matrix ``R``).

    Args:
        clean_dir (str): Work directory of the clean run.
        poisoned_dir (str): Work directory of the poisoned run.
        target_task (int): The attacked earlier task ``k < T``.

    Returns:
        dict: ``before`` (row ``T - 1``: accuracy on tasks ``0..T-1``
        before the new task), ``clean`` and ``poisoned`` (row ``T``),
        ``target_change`` (poisoned - clean on task ``k``),
        ``max_other_change`` (largest ``|poisoned - clean|`` on the other
        earlier tasks; 0 without one) and ``new_task_change`` (on task
        ``T``).
    """
    clean = read_run(clean_dir)['accuracy_matrix']
    poisoned = read_run(poisoned_dir)['accuracy_matrix']
    last = len(clean) - 1
    if len(poisoned) != len(clean):
        raise ValueError(f'{clean_dir} has {len(clean)} tasks, '
                         f'{poisoned_dir} {len(poisoned)}')
    if not 0 <= target_task < last:
        raise ValueError(f'target task {target_task} is not an earlier task '
                         f'of the {len(clean)}-task runs (0..{last - 1})')
    width = last + 1
    before = _row(clean, last - 1, clean_dir, last)
    row_clean = _row(clean, last, clean_dir, width)
    row_poisoned = _row(poisoned, last, poisoned_dir, width)
    others = [
        abs(row_poisoned[j] - row_clean[j]) for j in range(last)
        if j != target_task
    ]
    return dict(
        clean_dir=clean_dir,
        poisoned_dir=poisoned_dir,
        before=before,
        clean=row_clean,
        poisoned=row_poisoned,
        target_change=row_poisoned[target_task] - row_clean[target_task],
        max_other_change=max(others, default=0.0),
        new_task_change=row_poisoned[last] - row_clean[last])


def _stats(values: Sequence[float]) -> Dict[str, float]:
    return dict(
        mean=statistics.mean(values),
        std=statistics.stdev(values) if len(values) > 1 else 0.0,
        n=len(values))


def poison_report(pairs: Sequence[Tuple[str, str, str]],
                  target_task: int) -> Dict:
    """The report over regularisers and seeds.

    Args:
        pairs (Sequence[tuple]): ``(name, clean_dir, poisoned_dir)``; a
            repeated name (the regulariser) is another seed.
        target_task (int): The attacked task.

    Returns:
        dict: ``target_task`` and, per name, the seeds' :func:`pair_result`
        (``runs``) and the mean, std and count over seeds of every task's
        ``before``/``clean``/``poisoned`` accuracy and of
        ``target_change``, ``max_other_change`` and ``new_task_change``.
    """
    if not pairs:
        raise ValueError('poison_report: no runs')
    groups: Dict[str, List[Dict]] = {}
    for name, clean_dir, poisoned_dir in pairs:
        groups.setdefault(name, []).append(
            pair_result(clean_dir, poisoned_dir, target_task))
    report = dict(target_task=target_task, methods={})
    for name, runs in groups.items():
        summary = {
            key: _stats([r[key] for r in runs])
            for key in ('target_change', 'max_other_change',
                        'new_task_change')
        }
        for key in ('before', 'clean', 'poisoned'):
            summary[key] = [
                _stats([r[key][j] for r in runs])
                for j in range(len(runs[0][key]))
            ]
        report['methods'][name] = dict(runs=runs, summary=summary)
    return report
