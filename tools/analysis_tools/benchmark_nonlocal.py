# Copyright (c) mmdl contributors. All rights reserved.
"""Time and peak memory of non-local blocks: mmcv ``NonLocal2d`` versus
:class:`~mmdl.models.ScaledNonLocal2d`, and the ceiling set by the layers
both blocks must run.

What is measured, how, and the summary with its targets are described in
:mod:`mmdl.benchmarks.non_local`. ``--device cuda`` runs the same
measurements on a GPU. The exit code is 0 whether or not the targets are
met.

Example::

    python tools/analysis_tools/benchmark_nonlocal.py --json bench.json
    python tools/analysis_tools/benchmark_nonlocal.py --sizes 16 32 64 \\
        --repeats 9 --threads 2
    python tools/analysis_tools/benchmark_nonlocal.py --device cuda
"""
import argparse
from typing import Dict, Optional, Sequence

from mmdl.benchmarks.non_local import (NOISY_SPREAD, NonLocalBenchmarkConfig,
                                       format_summary, format_table,
                                       run_benchmark)
from mmdl.utils.benchmark import (add_benchmark_args, check_benchmark_args,
                                  num_threads, write_json)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Benchmark mmcv NonLocal2d against ScaledNonLocal2d '
        '(forward + backward time and peak memory)')
    add_benchmark_args(parser, repeats=5, warmup=2, threads=0)
    parser.add_argument(
        '--sizes',
        type=int,
        nargs='+',
        default=[16, 32, 64, 128],
        help='sides of the square feature maps')
    parser.add_argument('--batch', type=int, default=2, help='batch size')
    parser.add_argument(
        '--channels', type=int, default=256, help='input channels C')
    parser.add_argument(
        '--heads',
        type=int,
        default=8,
        help='heads of the many-head block (same total width C/2)')
    parser.add_argument(
        '--max-mem-gib',
        type=float,
        default=8.0,
        help='skip blocks whose estimated N x N memory exceeds this')
    args = parser.parse_args(argv)
    check_benchmark_args(parser, args)
    if args.batch < 1:
        parser.error('--batch must be >= 1')
    if args.heads < 2 or (args.channels // 2) % args.heads:
        parser.error(f'--heads must be >= 2 and divide channels // 2 = '
                     f'{args.channels // 2}')
    if min(args.sizes) < 1:
        parser.error('--sizes must be positive')
    return args


def main(argv: Optional[Sequence[str]] = None) -> Dict:
    """Run the benchmark, print the table and the summary.

    Args:
        argv (list[str], optional): Command-line arguments. Defaults to
            ``sys.argv[1:]``.

    Returns:
        dict: The report of
        :func:`mmdl.benchmarks.non_local.run_benchmark`; also written to
        ``--json``.
    """
    args = parse_args(argv)
    cfg = NonLocalBenchmarkConfig(
        sizes=list(args.sizes),
        batch=args.batch,
        channels=args.channels,
        heads=args.heads,
        repeats=args.repeats,
        warmup=args.warmup,
        max_mem_gib=args.max_mem_gib,
        device=args.device)
    with num_threads(args.threads):
        report = run_benchmark(cfg, log=lambda line: print(line, flush=True))
    print()
    print(f'device: {report["device"]}, torch {report["torch"]}, '
          f'{report["threads"]} threads, batch {args.batch}, '
          f'C={args.channels}, median of {args.repeats} interleaved rounds '
          f'(after {args.warmup} warm-up), forward + backward')
    print(format_table(report['results'], args.heads))
    spread = report['timing_spread']
    if spread > NOISY_SPREAD:
        print(f'WARNING: noisy timings (slowest / fastest round of a module '
              f'up to {spread:.1f}x); is another process using the CPU? '
              'Consider re-running.')
    print()
    print(format_summary(report['summary'], args.batch, args.channels))
    if args.json:
        write_json(args.json, report)
        print(f'wrote {args.json}')
    return report


if __name__ == '__main__':
    main()
