# Copyright (c) mmdl contributors. All rights reserved.
"""Speed and memory of disposable transfer learning: a DTL step (GC loss)
against a plain fine-tuning step on ResNet_CIFAR-18 (see
:mod:`mmdl.benchmarks.gcloss`). The exit code is 0 whether or not the
target is met.

Example::

    python tools/analysis_tools/benchmark_gcloss.py --json gcloss.json
    python tools/analysis_tools/benchmark_gcloss.py --threads 1 --repeats 12
    python tools/analysis_tools/benchmark_gcloss.py --device cuda
"""
import argparse
from typing import Dict, Optional, Sequence

from mmdl.benchmarks.gcloss import (GCLossBenchmarkConfig, format_report,
                                    run_benchmark)
from mmdl.utils.benchmark import (add_benchmark_args, check_benchmark_args,
                                  num_threads, write_json)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Benchmark a DTL step (GC loss) against a plain '
        'fine-tuning step on ResNet_CIFAR-18')
    add_benchmark_args(parser, repeats=8, warmup=1, threads=0)
    parser.add_argument(
        '--batch',
        type=int,
        default=64,
        help='target batch size; the source batch has as many (default: 64)')
    parser.add_argument(
        '--num-source-batches',
        type=int,
        default=2,
        help='K, the source mini-batches (default: 2)')
    parser.add_argument('--size', type=int, default=32, help='image side')
    args = parser.parse_args(argv)
    check_benchmark_args(parser, args)
    if args.size < 8 or args.num_source_batches < 2 or \
            args.batch < args.num_source_batches:
        parser.error('--size must be >= 8, --num-source-batches >= 2 and '
                     '--batch >= --num-source-batches')
    return args


def main(argv: Optional[Sequence[str]] = None) -> Dict:
    args = parse_args(argv)
    cfg = GCLossBenchmarkConfig(
        device=args.device,
        batch_size=args.batch,
        num_source_batches=args.num_source_batches,
        size=args.size,
        repeats=args.repeats,
        warmup=args.warmup)
    with num_threads(args.threads):
        result = run_benchmark(cfg)
    print(format_report(result))
    if args.json:
        write_json(args.json, result)
    return result


if __name__ == '__main__':
    main()
