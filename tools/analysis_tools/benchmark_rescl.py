# Copyright (c) mmdl contributors. All rights reserved.
"""Speed of ResCL: the merged network's inference and the combination's
training step against the original network (see
:mod:`mmdl.benchmarks.rescl`). The exit code is 0 whether or not the
targets are met.

Example::

    python tools/analysis_tools/benchmark_rescl.py --json rescl.json
    python tools/analysis_tools/benchmark_rescl.py --threads 1 --repeats 15
    python tools/analysis_tools/benchmark_rescl.py --device cuda
"""
import argparse
from typing import Dict, Optional, Sequence

from mmdl.benchmarks.rescl import (ResCLBenchmarkConfig, format_report,
                                   run_benchmark)
from mmdl.utils.benchmark import (add_benchmark_args, check_benchmark_args,
                                  num_threads, write_json)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Benchmark ResCLWrapper on ResNet_CIFAR-18 (merged '
        'inference and combination step against the original network)')
    add_benchmark_args(parser, repeats=10, warmup=2, threads=0)
    parser.add_argument('--batch', type=int, default=64, help='batch size')
    parser.add_argument('--size', type=int, default=32, help='image side')
    args = parser.parse_args(argv)
    check_benchmark_args(parser, args)
    if args.batch < 1 or args.size < 8:
        parser.error('--batch must be >= 1 and --size >= 8')
    return args


def main(argv: Optional[Sequence[str]] = None) -> Dict:
    args = parse_args(argv)
    cfg = ResCLBenchmarkConfig(
        device=args.device,
        batch_size=args.batch,
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
