# Copyright (c) mmdl contributors. All rights reserved.
"""Robustness report of a poisoning attack on continual learning.

For each regulariser and seed, a clean and a poisoned run of the same task
sequence (the same checkpoint after the earlier tasks, the last task
trained on clean or on poisoned data; see
``tools/attack/poison_continual.py``) are compared on their accuracy
matrices (``continual_metrics.json``): per task the accuracy before the
new task, after clean and after poisoned training; the change on the
targeted task, the largest change on any other earlier task and the change
on the new task, as mean and std over seeds
(:func:`mmdl.evaluation.poison_report.poison_report`). Writes the JSON and
a grouped bar chart (PNG) and prints a table.

Example::

    python tools/attack/poison_report.py --target-task 0 \\
        --pair ewc work_dirs/p/ewc_s0/clean work_dirs/p/ewc_s0/poisoned \\
        --pair ewc work_dirs/p/ewc_s1/clean work_dirs/p/ewc_s1/poisoned \\
        --pair si work_dirs/p/si_s0/clean work_dirs/p/si_s0/poisoned \\
        --out-json report.json --out-png report.png
"""
import argparse
import json
import os
import os.path as osp
from typing import Dict, Optional, Sequence

from mmdl.evaluation.poison_report import poison_report
from mmdl.utils import ConfigError
from mmdl.utils.cli import friendly_errors
from mmdl.visualization.poison_bars import save_poison_bars


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--pair',
        nargs=3,
        action='append',
        required=True,
        metavar=('NAME', 'CLEAN_DIR', 'POISONED_DIR'),
        help='a clean and a poisoned run of regulariser NAME (repeat per '
        'seed and regulariser)')
    parser.add_argument(
        '--target-task', type=int, required=True, help='the attacked task')
    parser.add_argument('--out-json', required=True, help='output JSON')
    parser.add_argument('--out-png', help='output bar chart (PNG)')
    return parser.parse_args(argv)


def format_table(report: Dict) -> str:
    """A Markdown table of the report's summary."""

    def fmt(stats):
        return f'{stats["mean"]:.2f} ± {stats["std"]:.2f}'

    k = report['target_task']
    lines = [
        '| Regulariser | Seeds | Target task before | Target clean | '
        'Target poisoned | Target change | Largest other change | '
        'New task clean | New task poisoned | New task change |',
        '|---|---|---|---|---|---|---|---|---|---|'
    ]
    for name, entry in report['methods'].items():
        s = entry['summary']
        lines.append(
            f'| {name} | {s["target_change"]["n"]} | {fmt(s["before"][k])} '
            f'| {fmt(s["clean"][k])} | {fmt(s["poisoned"][k])} '
            f'| {fmt(s["target_change"])} | {fmt(s["max_other_change"])} '
            f'| {fmt(s["clean"][-1])} | {fmt(s["poisoned"][-1])} '
            f'| {fmt(s["new_task_change"])} |')
    return '\n'.join(lines)


def main(argv: Optional[Sequence[str]] = None) -> Dict:
    args = parse_args(argv)
    with friendly_errors(osp.basename(__file__)):
        try:
            report = poison_report([tuple(p) for p in args.pair],
                                   args.target_task)
        except (FileNotFoundError, ValueError) as err:
            raise ConfigError(str(err)) from None
        for path in (args.out_json, args.out_png):
            if path and osp.dirname(path):
                os.makedirs(osp.dirname(path), exist_ok=True)
        with open(args.out_json, 'w') as f:
            json.dump(report, f, indent=2)
        if args.out_png:
            save_poison_bars(args.out_png, report)
        print(format_table(report))
        print(f'wrote {args.out_json}' +
              (f' and {args.out_png}' if args.out_png else ''))
        return report


if __name__ == '__main__':
    main()
