# Copyright (c) mmdl contributors. All rights reserved.
"""Time and memory of the face verification evaluators at full scale
(IJB-C's sizes, 6,000 ``.bin`` pairs, the ICCV2021-MFR Mask set's 6,964
masked x 13,928 non-masked images) on synthetic features, and the
training-step overhead of the ComplementaryAttention neck on IResNet-50
(see :mod:`mmdl.benchmarks.face_eval`). The exit code is 0 whether or not the
targets are met.

Example::

    python tools/analysis_tools/benchmark_face_eval.py --json face_eval.json
    python tools/analysis_tools/benchmark_face_eval.py --threads 1
    python tools/analysis_tools/benchmark_face_eval.py --mfr-masked 1000
"""
import argparse
from typing import Dict, Optional, Sequence

from mmdl.benchmarks.face_eval import (FaceEvalBenchmarkConfig,
                                       format_report, run_benchmark)
from mmdl.utils.benchmark import (add_benchmark_args, check_benchmark_args,
                                  num_threads, write_json)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Benchmark the IJB-C, 10-fold and MFR Mask face '
        'verification evaluators at full scale, and the attention neck\'s '
        'overhead')
    add_benchmark_args(parser, repeats=3, warmup=0, threads=0)
    defaults = FaceEvalBenchmarkConfig()
    for name in ('images', 'dims', 'templates', 'pairs', 'genuine',
                 'bin_pairs', 'mfr_masked', 'mfr_plain_per_id',
                 'mfr_block_size', 'neck_depth', 'neck_batch', 'neck_size',
                 'neck_repeats', 'seed'):
        parser.add_argument(
            f'--{name.replace("_", "-")}',
            type=int,
            default=getattr(defaults, name),
            help=f'default: {getattr(defaults, name)}')
    parser.add_argument(
        '--no-progress', action='store_true', help='hide progress bars')
    args = parser.parse_args(argv)
    check_benchmark_args(parser, args)
    if args.device != 'cpu':
        parser.error('--device: the evaluators run on the CPU')
    if min(args.images, args.dims, args.templates, args.pairs,
           args.bin_pairs, args.mfr_plain_per_id, args.mfr_block_size) < 1 \
            or not 1 <= args.genuine <= args.pairs or \
            args.templates > args.images or args.bin_pairs < 10 or \
            args.mfr_masked < 2 or min(args.neck_batch, args.neck_size,
                                       args.neck_repeats) < 1:
        parser.error('sizes must be positive, 1 <= --genuine <= --pairs, '
                     '--templates <= --images, --bin-pairs >= 10 and '
                     '--mfr-masked >= 2, --neck-* >= 1')
    return args


def main(argv: Optional[Sequence[str]] = None) -> Dict:
    args = parse_args(argv)
    cfg = FaceEvalBenchmarkConfig(
        images=args.images,
        dims=args.dims,
        templates=args.templates,
        pairs=args.pairs,
        genuine=args.genuine,
        bin_pairs=args.bin_pairs,
        mfr_masked=args.mfr_masked,
        mfr_plain_per_id=args.mfr_plain_per_id,
        mfr_block_size=args.mfr_block_size,
        neck_depth=args.neck_depth,
        neck_batch=args.neck_batch,
        neck_size=args.neck_size,
        neck_repeats=args.neck_repeats,
        repeats=args.repeats,
        warmup=args.warmup,
        seed=args.seed,
        progress=not args.no_progress)
    with num_threads(args.threads):
        result = run_benchmark(cfg)
    print(format_report(result))
    if args.json:
        write_json(args.json, result)
        print(f'wrote {args.json}')
    return result


if __name__ == '__main__':
    main()
