# Copyright (c) mmdl contributors. All rights reserved.
"""Collect the continual-learning metrics of several runs into one table.

Reads ``continual_metrics.json`` (written by ``TaskSequenceTrainLoop``)
from each work directory and prints (or writes, with ``--out``) a Markdown
table of average accuracy (ACC), backward transfer (BWT) and forgetting
after the last task learned.

Example::

    python tools/analysis_tools/continual_table.py \\
        finetune=work_dirs/fmnist_finetune xkfac=work_dirs/fmnist_xkfac \\
        --out table.md
"""
import argparse
import json
import os.path as osp
import sys
from typing import List, Optional, Sequence


def _fmt(value: Optional[float]) -> str:
    return '-' if value is None else f'{value:.2f}'


def table(runs: Sequence[str]) -> str:
    """Markdown table for ``NAME=WORK_DIR`` (or ``WORK_DIR``) entries."""
    rows: List[str] = [
        '| Method | Tasks learned | ACC (%) | BWT (%) | Forgetting (%) |',
        '|---|---|---|---|---|'
    ]
    for run in runs:
        name, _, work_dir = run.rpartition('=')
        name = name or osp.basename(osp.normpath(work_dir))
        path = osp.join(work_dir, 'continual_metrics.json')
        if not osp.isfile(path):
            raise FileNotFoundError(f'{path} does not exist (did the run of '
                                    f"'{name}' finish a task?)")
        with open(path) as f:
            metrics = json.load(f)
        rows.append(f"| {name} | {metrics['tasks_learned']}/"
                    f"{metrics['num_tasks']} | {_fmt(metrics['ACC'])} | "
                    f"{_fmt(metrics['BWT'])} | "
                    f"{_fmt(metrics['forgetting'])} |")
    return '\n'.join(rows) + '\n'


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('runs', nargs='+', help='NAME=WORK_DIR or WORK_DIR')
    parser.add_argument('--out', help='also write the table to this file')
    args = parser.parse_args(argv)
    try:
        text = table(args.runs)
    except FileNotFoundError as error:
        print(f'continual_table.py: error: {error}', file=sys.stderr)
        return 1
    print(text, end='')
    if args.out:
        with open(args.out, 'w') as f:
            f.write(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())
