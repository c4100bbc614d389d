# Copyright (c) mmdl contributors. All rights reserved.
"""A Markdown table of continual-learning runs, with mean ± std over
repeated runs (seeds) of the same method."""
import json
import os.path as osp
import statistics
from typing import Dict, List, Optional, Sequence, Tuple

#: Metrics of ``continual_metrics.json`` shown in the table.
TABLE_METRICS = ('ACC', 'BWT', 'forgetting')


def read_run(work_dir: str) -> dict:
    """The ``continual_metrics.json`` of a work directory.

    Raises:
        FileNotFoundError: The run wrote no metrics file.
    """
    path = osp.join(work_dir, 'continual_metrics.json')
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} does not exist (did the run '
                                'finish a task?)')
    with open(path) as f:
        return json.load(f)


def _mean_std(values: List[Optional[float]]) -> str:
    known = [v for v in values if v is not None]
    if not known:
        return '-'
    if len(known) == 1:
        return f'{known[0]:.2f}'
    return f'{statistics.mean(known):.2f} ± {statistics.stdev(known):.2f}'


def group_runs(runs: Sequence[str]) -> Dict[str, List[str]]:
    """``NAME=WORK_DIR`` (or ``WORK_DIR``, named after its folder) entries
    grouped by name, in first-seen order; a repeated name is a repeated run
    (e.g. another seed) of the same method."""
    groups: Dict[str, List[str]] = {}
    for run in runs:
        name, _, work_dir = run.rpartition('=')
        name = name or osp.basename(osp.normpath(work_dir))
        groups.setdefault(name, []).append(work_dir)
    return groups


def continual_table(runs: Sequence[str]) -> str:
    """Markdown table of ACC, BWT and forgetting after the last task.

    Args:
        runs (Sequence[str]): ``NAME=WORK_DIR`` or ``WORK_DIR`` entries. Runs
            sharing a name are aggregated as mean ± sample standard
            deviation, with their count in the ``Runs`` column.

    Returns:
        str: The table.
    """
    rows = [
        '| Method | Runs | Tasks learned | ACC (%) | BWT (%) | '
        'Forgetting (%) |', '|---|---|---|---|---|---|'
    ]
    for name, dirs in group_runs(runs).items():
        metrics = [read_run(d) for d in dirs]
        learned: Tuple[str, ...] = tuple(
            sorted({f"{m['tasks_learned']}/{m['num_tasks']}"
                    for m in metrics}))
        cells = [_mean_std([m[key] for m in metrics]) for key in TABLE_METRICS]
        rows.append(f"| {name} | {len(dirs)} | {', '.join(learned)} | "
                    + ' | '.join(cells) + ' |')
    return '\n'.join(rows) + '\n'
