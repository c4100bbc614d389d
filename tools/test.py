# Copyright (c) mmdl contributors. All rights reserved.
"""Test (and evaluate) a checkpoint (same interface as mmpretrain's
test.py)."""
import argparse
import os.path as osp

import mmengine
from mmengine.evaluator import DumpResults

import mmdl  # noqa: F401  (installs mmdl's checkpoint loader)
from mmdl.engine import trust_checkpoint
from mmdl.engine.runner.state_match import check_checkpoint_fits
from mmdl.utils import check_cfg_options, check_checkpoint, check_config
from mmdl.utils.cli import (CfgOptionsAction, add_launcher_args,
                            add_runtime_args, apply_runtime_args,
                            build_runner, destroy_process_group,
                            export_local_rank, friendly_errors, load_config,
                            set_continual_test_cfg, set_dataloader_defaults)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='mmdl test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir',
        help='the directory to save the file containing evaluation metrics')
    parser.add_argument('--out', help='the file to output results.')
    parser.add_argument(
        '--out-item',
        choices=['metrics', 'pred'],
        help='To output whether metrics or predictions. '
        'Defaults to output predictions.')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=CfgOptionsAction,
        help='override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file.')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='enable automatic-mixed-precision test')
    parser.add_argument(
        '--no-pin-memory',
        action='store_true',
        help='whether to disable the pin_memory option in dataloaders.')
    parser.add_argument(
        '--trust-checkpoint',
        action='store_true',
        help='unpickle the checkpoint without mmdl\'s allow-list (only for '
        'files from a source you trust)')
    parser.add_argument(
        '--task',
        type=int,
        metavar='K',
        help='for a task-sequence config: test task K only (default: every '
        'task up to the one the checkpoint has finished)')
    add_runtime_args(parser)
    add_launcher_args(parser)
    args = parser.parse_args(argv)
    if args.out is None and args.out_item is not None:
        parser.error('--out-item needs --out (the file to write)')
    export_local_rank(args)
    return args


def merge_args(cfg, args):
    """Merge CLI arguments to config."""
    cfg.launcher = args.launcher

    # work_dir is determined in this priority: CLI > segment in file > filename
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])

    cfg.load_from = args.checkpoint
    cfg.resume = False
    # the config's load_strict is for the load_from of training (e.g. a
    # pretrained model without the target classifier); the checkpoint
    # tested must fit unless --non-strict
    cfg.load_strict = True

    if args.amp:
        cfg.test_cfg.fp16 = True

    if args.cfg_options is not None:
        check_cfg_options(cfg, args.cfg_options)
        cfg.merge_from_dict(args.cfg_options)

    set_dataloader_defaults(cfg, 'test_dataloader', args.no_pin_memory)
    apply_runtime_args(cfg, args)
    set_continual_test_cfg(cfg, args.task)
    return cfg


def main(argv=None):
    args = parse_args(argv)

    with friendly_errors(osp.basename(__file__), args.debug) as errors:
        check_checkpoint(args.checkpoint, 'checkpoint')
        if args.trust_checkpoint:
            trust_checkpoint(args.checkpoint)
        cfg = errors.cfg = load_config(args.config)
        cfg = merge_args(cfg, args)
        check_config(cfg, 'test')
        check_checkpoint_fits(cfg)
        runner = build_runner(cfg)

        if args.out and args.out_item in ['pred', None]:
            runner.test_evaluator.metrics.append(
                DumpResults(out_file_path=args.out))

        metrics = runner.test()
        destroy_process_group()

        if args.out and args.out_item == 'metrics':
            mmengine.dump(metrics, args.out)
    return metrics


if __name__ == '__main__':
    main()
