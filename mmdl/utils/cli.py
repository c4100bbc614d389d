# Copyright (c) mmdl contributors. All rights reserved.
"""Helpers shared by the command-line tools in ``tools/``."""
import argparse
import os
import os.path as osp
import sys
from types import TracebackType
from typing import Optional, Type

import torch
from mmengine.config import Config, ConfigDict, DictAction

from .config_checks import explain_error


class CfgOptionsAction(DictAction):
    """``DictAction`` for ``--cfg-options`` that rejects malformed items
    (no ``=``, empty key) with a message naming the item."""

    def __call__(self, parser, namespace, values, option_string=None):
        for item in values:
            if '=' not in item or not item.split('=', 1)[0]:
                parser.error(f'argument {option_string}: {item!r} is not of '
                             'the form KEY=VALUE')
        super().__call__(parser, namespace, values, option_string)


def add_launcher_args(parser: argparse.ArgumentParser) -> None:
    """Add ``--launcher`` and ``--local-rank`` (passed by the deprecated
    ``torch.distributed.launch``)."""
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def export_local_rank(args: argparse.Namespace) -> None:
    """Set ``LOCAL_RANK`` from ``--local-rank`` unless the launcher did."""
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)


def set_dataloader_defaults(cfg: Config,
                            field: str,
                            no_pin_memory: bool = False,
                            no_persistent_workers: bool = False) -> None:
    """Fill a dataloader config with the tools' defaults.

    ``pin_memory`` defaults to whether CUDA is available (pinning only
    helps a GPU) and ``persistent_workers`` to whether there are workers
    (PyTorch rejects it otherwise); values in the config win, the ``--no-*``
    flags win over both.

    Args:
        cfg (Config): The config, changed in place.
        field (str): ``'train_dataloader'``, ``'val_dataloader'`` or
            ``'test_dataloader'``; missing or None fields are skipped.
        no_pin_memory (bool): Force ``pin_memory=False``.
        no_persistent_workers (bool): Force ``persistent_workers=False``.
    """
    if cfg.get(field, None) is None:
        return
    loader = ConfigDict(
        pin_memory=torch.cuda.is_available(),
        persistent_workers=bool(cfg[field].get('num_workers', 0)),
        collate_fn=dict(type='default_collate'))
    loader.update(cfg[field])
    if no_pin_memory:
        loader.pin_memory = False
    if no_persistent_workers:
        loader.persistent_workers = False
    cfg[field] = loader


def build_runner(cfg: Config):
    """Build the runner named by ``runner_type`` (mmdl's configs name
    ``mmdl.MMDLRunner``), or :class:`~mmdl.engine.MMDLRunner`."""
    if 'runner_type' in cfg:
        from mmengine.registry import RUNNERS
        return RUNNERS.build(cfg)
    from mmdl.engine import MMDLRunner
    return MMDLRunner.from_cfg(cfg)


def load_config(path: str) -> Config:
    """Load a config file, with a one-line error when it does not exist.

    Args:
        path (str): Path of the config file.

    Returns:
        Config: The config.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f"config file '{path}' does not exist")
    return Config.fromfile(path)


class friendly_errors:
    """Context manager turning known configuration errors into one line.

    Known errors (see :func:`mmdl.utils.explain_error`) end the program with
    ``<prog>: error: <cause>`` and exit status 1; anything else propagates
    with its traceback. ``MMDL_DEBUG=1`` always shows the traceback.

    Args:
        prog (str): Program name used in the message.

    Attributes:
        cfg (Config, optional): Set it once loaded, so the message can name
            the offending key.
    """

    def __init__(self, prog: str) -> None:
        self.prog = prog
        self.cfg: Optional[Config] = None

    def __enter__(self) -> 'friendly_errors':
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]],
                 exc: Optional[BaseException],
                 tb: Optional[TracebackType]) -> bool:
        if exc is None or not isinstance(exc, Exception):
            return False
        message = explain_error(exc, self.cfg)
        if message is None or os.environ.get('MMDL_DEBUG'):
            return False
        sys.exit(f'{self.prog}: error: {message}')
