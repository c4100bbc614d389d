# Copyright (c) mmdl contributors. All rights reserved.
"""Test (and evaluate) a checkpoint (same interface as mmpretrain's
test.py)."""
import argparse
import os
import os.path as osp
from copy import deepcopy

import mmengine
import torch
from mmengine.config import ConfigDict
from mmengine.evaluator import DumpResults
from mmengine.registry import RUNNERS

import mmdl  # noqa: F401  (installs mmdl's checkpoint loader)
from mmdl.engine import MMDLRunner, trust_checkpoint
from mmdl.utils import check_cfg_options, check_checkpoint, check_data_roots
from mmdl.utils.cli import CfgOptionsAction, friendly_errors, load_config


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
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
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

    if args.amp:
        cfg.test_cfg.fp16 = True

    default_dataloader_cfg = ConfigDict(
        pin_memory=torch.cuda.is_available(),
        collate_fn=dict(type='default_collate'),
    )
    if cfg.get('test_dataloader', None) is not None:
        dataloader_cfg = deepcopy(default_dataloader_cfg)
        dataloader_cfg.update(cfg.test_dataloader)
        cfg.test_dataloader = dataloader_cfg
        if args.no_pin_memory:
            cfg.test_dataloader.pin_memory = False

    if args.cfg_options is not None:
        check_cfg_options(cfg, args.cfg_options)
        cfg.merge_from_dict(args.cfg_options)
    return cfg


def main(argv=None):
    args = parse_args(argv)
    if args.out is None and args.out_item is not None:
        raise ValueError('Please use `--out` argument to specify the '
                         'path of the output file before using `--out-item`.')

    with friendly_errors(osp.basename(__file__)) as errors:
        check_checkpoint(args.checkpoint, 'checkpoint')
        if args.trust_checkpoint:
            trust_checkpoint(args.checkpoint)
        cfg = errors.cfg = load_config(args.config)
        cfg = merge_args(cfg, args)
        check_data_roots(cfg)
        if 'runner_type' in cfg:
            runner = RUNNERS.build(cfg)
        else:
            runner = MMDLRunner.from_cfg(cfg)

        if args.out and args.out_item in ['pred', None]:
            runner.test_evaluator.metrics.append(
                DumpResults(out_file_path=args.out))

        metrics = runner.test()

        if args.out and args.out_item == 'metrics':
            mmengine.dump(metrics, args.out)
    return metrics


if __name__ == '__main__':
    main()
