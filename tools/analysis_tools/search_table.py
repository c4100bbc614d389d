# Copyright (c) mmdl contributors. All rights reserved.
"""Collect architecture-search runs into one table (see
:mod:`mmdl.evaluation.search_table`).

Per run folder: search wall time, one-shot and derived test accuracy and
their gap, the accuracy of the derived network trained from scratch, the
parameters of the genotype's 20-cell, 36-channel CIFAR network and its
normal cell's skip connections. Runs given the same name (seeds) are
reported as mean ± std.

Example::

    python tools/analysis_tools/search_table.py \\
        edas=work_dirs/edas_digits/edas_s0 \\
        edas=work_dirs/edas_digits/edas_s1 \\
        darts=work_dirs/edas_digits/darts_s0 --out table.md
"""
import argparse
import sys

from mmdl.evaluation.search_table import search_table


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('runs', nargs='+', help='NAME=WORK_DIR')
    parser.add_argument('--out', help='also write the table to this file')
    args = parser.parse_args(argv)
    try:
        text = search_table(args.runs)
    except (ValueError, FileNotFoundError) as error:
        print(f'search_table.py: error: {error}', file=sys.stderr)
        return 1
    print(text)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(text + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
