# Copyright (c) mmdl contributors. All rights reserved.
"""Train a model from a config (same interface as mmpretrain's train.py)."""
import argparse
import os.path as osp

import torch

import mmdl  # noqa: F401  (installs mmdl's checkpoint loader)
from mmdl.engine import trust_checkpoint
from mmdl.engine.runner.state_match import check_checkpoint_fits
from mmdl.utils import (ConfigError, check_cfg_options, check_checkpoint,
                        check_config)
from mmdl.utils.cli import (CfgOptionsAction, add_launcher_args,
                            add_runtime_args, apply_runtime_args,
                            build_runner, destroy_process_group,
                            export_local_rank, friendly_errors, load_config,
                            set_dataloader_defaults)


#: Optimiser wrappers and their mixed-precision counterparts (``--amp``).
AMP_WRAPPERS = {
    'OptimWrapper': 'AmpOptimWrapper',
    'AmpOptimWrapper': 'AmpOptimWrapper',
    'SelectiveClipOptimWrapper': 'SelectiveClipAmpOptimWrapper',
    'SelectiveClipAmpOptimWrapper': 'SelectiveClipAmpOptimWrapper',
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='If specify checkpoint path, resume from it, while if not '
        'specify, try to auto resume from the latest checkpoint '
        'in the work directory.')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='enable automatic-mixed-precision training')
    parser.add_argument(
        '--no-validate',
        action='store_true',
        help='Not suggested: disable checkpoint evaluation during training.')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='whether to auto scale the learning rate according to the '
        'actual batch size and the original batch size.')
    parser.add_argument(
        '--no-pin-memory',
        action='store_true',
        help='whether to disable the pin_memory option in dataloaders.')
    parser.add_argument(
        '--no-persistent-workers',
        action='store_true',
        help='whether to disable the persistent_workers option in '
        'dataloaders.')
    parser.add_argument(
        '--trust-checkpoint',
        action='append',
        default=[],
        metavar='PATH',
        help='unpickle this checkpoint without mmdl\'s allow-list (only for '
        'files from a source you trust); may be repeated')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=CfgOptionsAction,
        help='override some settings in the used config, the key-value pair '
        'in xxx=yyy format will be merged into config file. If the value to '
        'be overwritten is a list, it should be like key="[a,b]" or key=a,b '
        'It also allows nested list/tuple values, e.g. key="[(a,b),(c,d)]" '
        'Note that the quotation marks are necessary and that no white space '
        'is allowed.')
    add_runtime_args(parser)
    add_launcher_args(parser)
    args = parser.parse_args(argv)
    export_local_rank(args)
    return args


def merge_args(cfg, args):
    """Merge CLI arguments to config."""
    if args.no_validate:
        cfg.val_cfg = None
        cfg.val_dataloader = None
        cfg.val_evaluator = None

    cfg.launcher = args.launcher

    # work_dir is determined in this priority: CLI > segment in file > filename
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])

    # enable automatic-mixed-precision training
    if args.amp is True:
        if not torch.cuda.is_available():
            raise ConfigError('--amp: mixed precision training needs a GPU '
                              "(mmengine's AmpOptimWrapper); this machine "
                              'has no CUDA device')
        optim_wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if optim_wrapper not in AMP_WRAPPERS:
            raise ConfigError(f'--amp: optim_wrapper.type {optim_wrapper!r} '
                              'has no mixed-precision counterpart; expected '
                              f'one of {sorted(AMP_WRAPPERS)}')
        cfg.optim_wrapper.type = AMP_WRAPPERS[optim_wrapper]
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')

    # resume training
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume

    # enable auto scale learning rate
    if args.auto_scale_lr:
        cfg.auto_scale_lr.enable = True

    if args.cfg_options is not None:
        check_cfg_options(cfg, args.cfg_options)
        cfg.merge_from_dict(args.cfg_options)

    # after the options, so that defaults follow e.g. num_workers=0
    for field in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        set_dataloader_defaults(cfg, field, args.no_pin_memory,
                                args.no_persistent_workers)
    apply_runtime_args(cfg, args)

    return cfg


def main(argv=None):
    args = parse_args(argv)
    with friendly_errors(osp.basename(__file__), args.debug) as errors:
        for path in args.trust_checkpoint:
            trust_checkpoint(path)
        cfg = errors.cfg = load_config(args.config)
        cfg = merge_args(cfg, args)
        if cfg.get('load_from'):
            check_checkpoint(cfg.load_from,
                             '--resume' if cfg.get('resume') else 'load_from')
        check_config(cfg, 'train')
        check_checkpoint_fits(cfg)
        runner = build_runner(cfg)
        runner.train()
        destroy_process_group()


if __name__ == '__main__':
    main()
