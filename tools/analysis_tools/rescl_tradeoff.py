# Copyright (c) mmdl contributors. All rights reserved.
"""Source/target trade-off curves of ResCL and its baselines.

Every method is trained once per value of its trade-off knob (in this
process, one run after the other); the final row of each run's accuracy
matrix gives a point: the source accuracy (mean over the tasks before the
last) and the target accuracy (the last task). The tool writes the curves
as a PNG, and the points with the two comparison criteria of
:mod:`mmdl.evaluation.tradeoff` as JSON (``summary`` holds the criteria and
how many of each baseline's points ResCL's points dominate).

Without ``--method`` it sweeps the quick configs of ``configs/rescl``
(bundled digits; minutes on 2 CPU cores)::

    python tools/analysis_tools/rescl_tradeoff.py --work-dir work_dirs/tradeoff

A method is ``--method NAME CONFIG [KEY VALUES]``, e.g.::

    --method rescl configs/rescl/rescl_...py model.l1_weight 1e-4,1e-2,1 \\
    --method lwf configs/rescl/lwf_...py custom_hooks.0.penalty_weight 0.1,1 \\
    --method finetune configs/rescl/finetune_...py
"""
import argparse
import json
import os
import os.path as osp
from typing import List, Optional, Sequence

from mmengine.config import DictAction
from mmengine.utils import ProgressBar

from mmdl.engine.runner.sweep import SweepMethod, run_sweep
from mmdl.evaluation.tradeoff import dominated_points, tradeoff_criteria
from mmdl.utils.cli import friendly_errors
from mmdl.utils.config_checks import ConfigError
from mmdl.visualization import save_tradeoff_curves

QUICK = osp.join(
    osp.dirname(osp.abspath(__file__)), '..', '..', 'configs', 'rescl',
    '{}_mlp-bn_1xb32-2t_permuted-digits_quick.py')
#: The default sweep on the quick configs.
DEFAULT_METHODS = [
    SweepMethod('rescl', QUICK.format('rescl'), 'model.l1_weight',
                [1e-4, 1e-2, 1e-1, 1.0, 10.0]),
    SweepMethod('lwf', QUICK.format('lwf'), 'custom_hooks.0.penalty_weight',
                [0.1, 1.0, 10.0, 100.0]),
    SweepMethod('ewc', QUICK.format('ewc'), 'custom_hooks.0.penalty_weight',
                [1.0, 100.0, 1e4, 1e6]),
    SweepMethod('mean-imm', QUICK.format('mean-imm')),
    SweepMethod('finetune', QUICK.format('finetune')),
]


def parse_method(fields: Sequence[str]) -> SweepMethod:
    """``NAME CONFIG [KEY VALUES]`` to a :class:`SweepMethod`."""
    if len(fields) not in (2, 4):
        raise ConfigError(f'--method {" ".join(fields)}: expected NAME CONFIG '
                          '[KEY VALUES], e.g. rescl configs/rescl/x.py '
                          'model.l1_weight 1e-4,1e-2')
    if not osp.isfile(fields[1]):
        raise ConfigError(f'--method {fields[0]}: no config file '
                          f"'{fields[1]}'")
    if len(fields) == 2:
        return SweepMethod(fields[0], fields[1])
    try:
        values = [float(v) for v in fields[3].split(',')]
    except ValueError:
        raise ConfigError(f'--method {fields[0]}: VALUES must be numbers '
                          f"separated by commas, got '{fields[3]}'")
    return SweepMethod(fields[0], fields[1], fields[2], values)


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Sweep the trade-off knobs of ResCL and its baselines '
        'and plot source versus target accuracy')
    parser.add_argument(
        '--method',
        nargs='+',
        action='append',
        metavar='FIELD',
        help='NAME CONFIG [KEY VALUES] (repeatable; default: the quick '
        'configs of configs/rescl)')
    parser.add_argument('--work-dir', required=True, help='runs and outputs')
    parser.add_argument(
        '--source-levels',
        type=float,
        nargs='+',
        help='source accuracies for "best target at a given source" '
        '(default: 5 levels spanning the measured source accuracies)')
    parser.add_argument(
        '--target-levels',
        type=float,
        nargs='+',
        help='target accuracies for "best source at a given target"')
    parser.add_argument(
        '--reference',
        default='rescl',
        help='method whose points are checked for dominating the others')
    parser.add_argument(
        '--threads', type=int, help='torch intra-op threads of every run')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='options merged into every config (key=value)')
    parser.add_argument('--debug', action='store_true', help='tracebacks')
    return parser.parse_args(argv)


def _levels(points: List[dict], key: str) -> List[float]:
    values = [p[key] for p in points]
    low, high = min(values), max(values)
    return sorted({round(low + (high - low) * i / 4, 2) for i in range(5)})


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    with friendly_errors(osp.basename(__file__), args.debug):
        methods = ([parse_method(m) for m in args.method]
                   if args.method else DEFAULT_METHODS)
        options = dict(args.cfg_options or {})
        if args.threads is not None:
            options['env_cfg.num_threads'] = args.threads
        os.makedirs(args.work_dir, exist_ok=True)
        total = sum(len(m.values) if m.key else 1 for m in methods)
        progress = ProgressBar(total)
        curves = run_sweep(methods, args.work_dir, options, progress.update)
        points = {name: c['points'] for name, c in curves.items()}
        everything = [p for ps in points.values() for p in ps]
        criteria = tradeoff_criteria(
            points, args.source_levels or _levels(everything, 'source'),
            args.target_levels or _levels(everything, 'target'))
        dominance = {}
        if args.reference in points:
            for name, ps in points.items():
                if name != args.reference:
                    hit = dominated_points(points[args.reference], ps)
                    dominance[name] = f'{len(hit)} of {len(ps)}'
        summary = dict(
            criteria=criteria,
            dominated_by_reference=dict(
                reference=args.reference, points=dominance))
        out = dict(methods=curves, summary=summary)
        json_file = osp.join(args.work_dir, 'tradeoff.json')
        with open(json_file, 'w') as f:
            json.dump(out, f, indent=2)
        png_file = osp.join(args.work_dir, 'tradeoff.png')
        save_tradeoff_curves(points, png_file,
                             'source vs target accuracy (final row)')
        print(f'\nwrote {json_file} and {png_file}')
        print(json.dumps(summary, indent=2))
        return out


if __name__ == '__main__':
    main()
