# Copyright (c) mmdl contributors. All rights reserved.
"""Mean ± std table of piggyback-learning test runs, one row per method
(see :mod:`mmdl.evaluation.piggyback_table`).

Example::

    python tools/analysis_tools/piggyback_table.py \\
        finetune=work_dirs/ft_s0 finetune=work_dirs/ft_s1 \\
        dtl=work_dirs/dtl_s0 dtl=work_dirs/dtl_s1 --out table.md
"""
import argparse
from typing import Optional, Sequence

from mmdl.evaluation.piggyback_table import load_groups, write_table
from mmdl.utils.cli import friendly_errors


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Table of piggyback-learning test runs')
    parser.add_argument(
        'runs',
        nargs='+',
        help='LABEL=WORK_DIR of a tools/test.py run (repeat a label for '
        'its seeds)')
    parser.add_argument('--out', help='write the markdown table here (and '
                        'its data beside it as .json)')
    parser.add_argument('--debug', action='store_true',
                        help='show tracebacks')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> str:
    args = parse_args(argv)
    with friendly_errors('piggyback_table.py', args.debug):
        text = write_table(load_groups(args.runs), args.out)
    print(text)
    return text


if __name__ == '__main__':
    main()
