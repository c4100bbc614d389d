# Copyright (c) mmdl contributors. All rights reserved.
"""Speed of curvature collection and of the Kronecker penalties in
:mod:`mmdl.continual`, side by side with peer libraries, in one run.

What is measured, the targets and the timing method are described in
:mod:`mmdl.benchmarks.curvature`. By default torch runs one thread
(``--threads 1``; 0 keeps torch's default), which keeps the timings of a
shared machine stable. ``--device cuda`` runs the same measurements on a
GPU. The exit code is 0 whether or not the targets are met.

Example::

    python tools/analysis_tools/benchmark_curvature.py --json bench.json
    python tools/analysis_tools/benchmark_curvature.py --skip-resnet \\
        --repeats 9 --threads 0  # torch's default threads
    python tools/analysis_tools/benchmark_curvature.py --device cuda
"""
import argparse
from typing import Dict, List, Optional

from mmdl.benchmarks.curvature import (PEERS, CurvatureBenchmarkConfig,
                                       format_report, run_benchmark)
from mmdl.utils.benchmark import (add_benchmark_args, check_benchmark_args,
                                  num_threads, write_json)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Benchmark mmdl curvature collection and penalties')
    add_benchmark_args(parser, repeats=7, warmup=1, threads=1)
    parser.add_argument('--batches', type=int, default=20)
    parser.add_argument('--batch-size', type=int, default=128)
    parser.add_argument(
        '--width', type=int, default=512, help='hidden width of the MLP')
    parser.add_argument(
        '--channels', type=int, default=16, help='channels of the CNN')
    parser.add_argument(
        '--min-time',
        type=float,
        default=10.0,
        help='run more rounds (at most 100) of a comparison until they take '
        'about this many seconds (by the warm-up round)')
    parser.add_argument(
        '--peers',
        nargs='*',
        default=list(PEERS),
        choices=list(PEERS),
        help='peer libraries to compare with (skipped when missing)')
    parser.add_argument('--skip-resnet', action='store_true')
    parser.add_argument('--resnet-batch', type=int, default=32)
    parser.add_argument('--resnet-size', type=int, default=224)
    parser.add_argument('--resnet-repeats', type=int, default=3)
    args = parser.parse_args(argv)
    check_benchmark_args(parser, args)
    return args


def main(argv: Optional[List[str]] = None) -> Dict:
    """Run the benchmark, print the tables, write ``--json``.

    Args:
        argv (list[str], optional): Command-line arguments.

    Returns:
        dict: All measurements, with the ``summary``.
    """
    args = parse_args(argv)
    cfg = CurvatureBenchmarkConfig(
        batches=args.batches,
        batch_size=args.batch_size,
        width=args.width,
        channels=args.channels,
        repeats=args.repeats,
        warmup=args.warmup,
        min_time=args.min_time,
        peers=list(args.peers),
        skip_resnet=args.skip_resnet,
        resnet_batch=args.resnet_batch,
        resnet_size=args.resnet_size,
        resnet_repeats=args.resnet_repeats,
        device=args.device)
    with num_threads(args.threads):
        result = run_benchmark(cfg)
    print(format_report(result))
    if args.json:
        write_json(args.json, result)
        print(f'wrote {args.json}')
    return result


if __name__ == '__main__':
    main()
