# Copyright (c) mmdl contributors. All rights reserved.
"""Speed and memory of EDAS' single-edge search against DARTS, and the
accuracy each loses at derivation (see :mod:`mmdl.benchmarks.nas`). The
exit code is 0 whether or not the targets are met.

Example::

    python tools/analysis_tools/benchmark_nas.py --json nas.json
    python tools/analysis_tools/benchmark_nas.py --threads 1 --gap-epochs 0
    python tools/analysis_tools/benchmark_nas.py --device cuda
"""
import argparse
from typing import Dict, Optional, Sequence

from mmengine.config import DictAction

from mmdl.benchmarks.nas import (NASBenchmarkConfig, format_report,
                                 run_benchmark)
from mmdl.utils.benchmark import (add_benchmark_args, check_benchmark_args,
                                  num_threads, write_json)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Benchmark single-edge (EDAS) search steps against '
        'DARTS and measure the derivation gaps')
    add_benchmark_args(parser, repeats=5, warmup=1, threads=0)
    parser.add_argument(
        '--layers', type=int, default=8, help='cells (default: 8)')
    parser.add_argument(
        '--channels', type=int, default=16, help='channels (default: 16)')
    parser.add_argument(
        '--batch', type=int, default=64, help='batch size (default: 64)')
    parser.add_argument(
        '--size', type=int, default=32, help='image side (default: 32)')
    parser.add_argument(
        '--deep-layers',
        type=int,
        default=20,
        help='cells of a deeper single-edge network timed beside; 0 skips '
        'it (default: 20)')
    parser.add_argument(
        '--seed', type=int, default=0, help='architecture and data seed')
    parser.add_argument(
        '--gap-epochs',
        type=int,
        default=10,
        help='epochs of each short search on digits for the derivation '
        'gaps; 0 skips them (default: 10)')
    parser.add_argument(
        '--gap-cfg-options',
        nargs='+',
        action=DictAction,
        default={},
        help='overrides of the digits search config for the derivation '
        'gaps, KEY=VALUE as --cfg-options of tools/train.py')
    args = parser.parse_args(argv)
    check_benchmark_args(parser, args)
    if min(args.layers, args.channels, args.batch) < 1 or args.size < 8 \
            or min(args.gap_epochs, args.deep_layers) < 0:
        parser.error('--layers, --channels and --batch must be >= 1, '
                     '--size >= 8, --gap-epochs and --deep-layers >= 0')
    return args


def main(argv: Optional[Sequence[str]] = None) -> Dict:
    args = parse_args(argv)
    cfg = NASBenchmarkConfig(
        device=args.device,
        num_layers=args.layers,
        base_channels=args.channels,
        batch_size=args.batch,
        size=args.size,
        repeats=args.repeats,
        warmup=args.warmup,
        seed=args.seed,
        gap_epochs=args.gap_epochs,
        deep_layers=args.deep_layers,
        gap_cfg_options=dict(args.gap_cfg_options))
    with num_threads(args.threads):
        result = run_benchmark(cfg)
    print(format_report(result))
    if args.json:
        write_json(args.json, result)
        print(f'wrote {args.json}')
    return result


if __name__ == '__main__':
    main()
