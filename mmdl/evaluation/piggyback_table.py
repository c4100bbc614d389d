# Copyright (c) mmdl contributors. All rights reserved.
"""A mean ± std table of piggyback-learning test runs (``piggyback.json``
files written by :class:`~mmdl.engine.loops.PiggybackTestLoop`), one row
per method, one run per seed."""
import glob
import json
import math
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple

from .piggyback import mean_std, normalised_leakage

#: Columns: metric key pattern and header.
COLUMNS = (
    ('accuracy/top1', 'target acc.'),
    ('source/accuracy', 'source acc. (old head)'),
    ('pl/source/finetune', 'PL source, fine-tune'),
    ('pl/source/linear', 'PL source, linear'),
    ('pl/downstream/finetune', 'PL downstream, fine-tune'),
    ('leakage/source/finetune', 'leakage source, fine-tune'),
)


def latest_run(work_dir: str) -> dict:
    """The newest ``piggyback.json`` under ``work_dir``.

    Raises:
        FileNotFoundError: There is none.
    """
    files = sorted(glob.glob(osp.join(work_dir, '*', 'piggyback.json')))
    if not files:
        raise FileNotFoundError(f'{work_dir}: no */piggyback.json (run '
                                'tools/test.py with a PiggybackTestLoop)')
    with open(files[-1]) as f:
        return json.load(f)


def _references(runs: Sequence[dict]) -> Dict[Tuple[str, str, str, int],
                                               float]:
    """``(task, mode, subject, seed)`` to accuracy of every reference job
    in ``runs``."""
    return {(j['task'], j['mode'], j['subject'], j['seed']): j['accuracy']
            for run in runs for j in run['jobs'] if j['subject'] != 'model'}


def run_values(run: dict,
               references: Dict[Tuple[str, str, str, int], float]
               ) -> Dict[str, float]:
    """The table's values of one run: its metrics, the mean PL accuracy
    of the model per task and mode, and the normalised leakage per task and
    mode from references of the same PL seeds (the run's own, or those of
    another run of the same protocol)."""
    values = {k: v for k, v in run['metrics'].items()
              if not k.startswith('pl/') and not k.startswith('leakage/')}
    groups: Dict[Tuple[str, str], List[dict]] = {}
    for job in run['jobs']:
        if job['subject'] == 'model':
            groups.setdefault((job['task'], job['mode']), []).append(job)
    for (task, mode), jobs in groups.items():
        values[f'pl/{task}/{mode}'] = mean_std(
            [j['accuracy'] for j in jobs])[0]
        leaks = []
        for job in jobs:
            pre = references.get((task, mode, 'pretrained', job['seed']))
            rand = references.get((task, mode, 'random', job['seed']))
            if pre is not None and rand is not None:
                leaks.append(normalised_leakage(job['accuracy'], pre, rand))
        if leaks and len(leaks) == len(jobs):
            values[f'leakage/{task}/{mode}'] = mean_std(leaks)[0]
    return values


def reference_rows(runs: Sequence[dict]) -> Dict[str, Dict[str, float]]:
    """Rows for the references: subject to ``pl/{task}/{mode}`` values
    averaged over the PL seeds (one value per seed)."""
    rows: Dict[str, Dict[str, List[float]]] = {}
    for (task, mode, subject, _), value in sorted(
            _references(runs).items()):
        rows.setdefault(subject, {}).setdefault(f'pl/{task}/{mode}',
                                                []).append(value)
    return {s: {k: v
                for k, v in row.items()}
            for s, row in rows.items()}


def _cell(values: List[float], digits: int) -> str:
    if not values:
        return '-'
    defined = [v for v in values if not math.isnan(v)]
    if len(defined) < len(values):  # a leakage with equal references
        undefined = len(values) - len(defined)
        if not defined:
            return 'undefined'
        return f'{_cell(defined, digits)} ({undefined} undefined)'
    mean, std = mean_std(values)
    if len(values) == 1:
        return f'{mean:.{digits}f}'
    return f'{mean:.{digits}f} ± {std:.{digits}f}'


def make_table(groups: Dict[str, Sequence[dict]],
               columns: Sequence[Tuple[str, str]] = COLUMNS,
               with_references: bool = True) -> Tuple[str, dict]:
    """Markdown table and its data.

    Args:
        groups (dict): Row label to its runs (``piggyback.json`` contents,
            one per seed).
        columns (Sequence): ``(key, header)`` pairs.
        with_references (bool): Add rows for the pre-trained and random
            references found in the runs.

    Returns:
        tuple[str, dict]: The table and ``label -> key -> list of values``.
        A leakage is undefined (NaN) for a seed whose two references are
        equal; cells average the defined values and count the others.
    """
    everything = [run for runs in groups.values() for run in runs]
    references = _references(everything)
    data: Dict[str, Dict[str, List[float]]] = {}
    for label, runs in groups.items():
        per_run = [run_values(run, references) for run in runs]
        data[label] = {
            key: [v[key] for v in per_run if key in v]
            for key, _ in columns
        }
    if with_references:
        for subject, row in reference_rows(everything).items():
            data[f'({subject} weights)'] = {
                key: row.get(key, [])
                for key, _ in columns
            }
    header = '| method (runs) | ' + ' | '.join(h for _, h in columns) + ' |'
    lines = [header, '|' + '---|' * (len(columns) + 1)]
    for label, row in data.items():
        count = len(groups.get(label, ())) or max(
            (len(v) for v in row.values()), default=0)
        cells = [
            _cell(row[key], 3 if key.startswith('leakage') else 2)
            for key, _ in columns
        ]
        lines.append(f'| {label} ({count}) | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines) + '\n', data


def load_groups(pairs: Sequence[str]) -> Dict[str, List[dict]]:
    """``label=work_dir`` strings to label -> runs (in the given order)."""
    groups: Dict[str, List[dict]] = {}
    for pair in pairs:
        label, sep, work_dir = pair.partition('=')
        if not sep or not label or not work_dir:
            raise ValueError(f'{pair!r}: expected LABEL=WORK_DIR')
        groups.setdefault(label, []).append(latest_run(work_dir))
    return groups


def write_table(groups: Dict[str, List[dict]],
                out: Optional[str] = None) -> str:
    """:func:`make_table`, written to ``out`` (markdown) and
    ``out``'s ``.json`` sibling when given."""
    text, data = make_table(groups)
    if out:
        with open(out, 'w') as f:
            f.write(text)
        with open(osp.splitext(out)[0] + '.json', 'w') as f:
            json.dump(data, f, indent=2)
    return text
