# Copyright (c) mmdl contributors. All rights reserved.
"""Collect the continual-learning metrics of several runs into one table.

Reads ``continual_metrics.json`` (written by ``TaskSequenceTrainLoop``)
from each work directory and prints (or writes, with ``--out``) a Markdown
table of average accuracy (ACC), backward transfer (BWT) and forgetting
after the last task learned. Runs given the same name (e.g. three seeds)
are reported as mean ± std.

Example::

    python tools/analysis_tools/continual_table.py \\
        finetune=work_dirs/ft_s0 finetune=work_dirs/ft_s1 \\
        xkfac=work_dirs/xkfac_s0 xkfac=work_dirs/xkfac_s1 --out table.md
"""
import argparse
import sys

from mmdl.evaluation.continual_table import continual_table


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('runs', nargs='+', help='NAME=WORK_DIR or WORK_DIR')
    parser.add_argument('--out', help='also write the table to this file')
    args = parser.parse_args(argv)
    try:
        text = continual_table(args.runs)
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
