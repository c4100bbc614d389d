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

from .config_checks import ConfigError, explain_error

#: Environment variable that, set to anything, makes :class:`friendly_errors`
#: show tracebacks.
DEBUG_ENV = 'MMDL_DEBUG'


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
    """Add ``--launcher``, ``--local-rank`` (passed by the deprecated
    ``torch.distributed.launch``) and ``--debug`` (for
    :class:`friendly_errors`)."""
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    parser.add_argument(
        '--debug',
        action='store_true',
        help='show the full traceback of configuration errors instead of '
        f'one line (same as {DEBUG_ENV}=1)')


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


def destroy_process_group() -> None:
    """Tear down the default process group of a distributed run, if one
    was initialised (nothing otherwise).

    mmengine's runner never does it. A process that exits with a live gloo
    group can abort while the interpreter finalises (SIGABRT, "terminate
    called without an active exception": gloo's worker threads still hold
    tensors; pytorch/pytorch#190489), failing a run that had finished, so
    ``tools/train.py`` and ``tools/test.py`` call this at the end, after a
    barrier that lets every rank finish its collectives first.
    """
    import torch.distributed as torch_dist
    if torch_dist.is_available() and torch_dist.is_initialized():
        # every rank has finished its collectives before any tears down
        torch_dist.barrier()
        torch_dist.destroy_process_group()


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
    with its traceback. A message of several lines is printed as it is to
    stderr, the prefix going to its last line, so the last line of the
    output is always the error line. ``debug=True`` (the tools'
    ``--debug``) or ``MMDL_DEBUG=1`` always shows the traceback.

    Args:
        prog (str): Program name used in the message.
        debug (bool): Let every error propagate. Defaults to False.

    Attributes:
        cfg (Config, optional): Set it once loaded, so the message can name
            the offending key.
    """

    def __init__(self, prog: str, debug: bool = False) -> None:
        self.prog = prog
        self.debug = debug
        self.cfg: Optional[Config] = None

    def __enter__(self) -> 'friendly_errors':
        return self

    def __exit__(self, exc_type: Optional[Type[BaseException]],
                 exc: Optional[BaseException],
                 tb: Optional[TracebackType]) -> bool:
        if exc is None or not isinstance(exc, Exception):
            return False
        if self.debug or os.environ.get(DEBUG_ENV):
            return False
        message = explain_error(exc, self.cfg)
        if message is None:
            return False
        lines = message.splitlines() or ['']
        for line in lines[:-1]:
            print(line, file=sys.stderr)
        sys.stderr.flush()
        sys.exit(f'{self.prog}: error: {lines[-1]}')


def add_runtime_args(parser: argparse.ArgumentParser) -> None:
    """Add ``--threads`` and ``--non-strict`` (see
    :func:`apply_runtime_args`)."""
    parser.add_argument(
        '--threads',
        type=int,
        metavar='N',
        help='intra-op threads of torch (config env_cfg.num_threads; '
        "default: torch's own, one per core); results and timings depend "
        'on it')
    parser.add_argument(
        '--non-strict',
        action='store_true',
        help='load a checkpoint whose keys do not all match the model '
        '(config load_strict=False); the mismatch is logged')


def apply_runtime_args(cfg: Config, args: argparse.Namespace) -> None:
    """Write ``--threads`` into ``env_cfg.num_threads`` and
    ``--non-strict`` into ``load_strict`` (read by
    :class:`~mmdl.engine.MMDLRunner`)."""
    if args.threads is not None:
        if args.threads < 1:
            raise ConfigError(f'--threads {args.threads}: expected a '
                              'positive number of threads')
        cfg.setdefault('env_cfg', ConfigDict())
        cfg.env_cfg.num_threads = args.threads
    if args.non_strict:
        cfg.load_strict = False


def is_task_sequence(cfg: Config) -> bool:
    """Whether ``train_cfg`` is a :class:`TaskSequenceTrainLoop`."""
    train_cfg = cfg.get('train_cfg') or {}
    loop = str(train_cfg.get('type', ''))
    return loop.split('.')[-1] == 'TaskSequenceTrainLoop'


def set_continual_test_cfg(cfg: Config, task: Optional[int] = None) -> None:
    """Make ``test_cfg`` a :class:`~mmdl.engine.loops.ContinualTestLoop`
    for a task-sequence config, with the sequence of ``train_cfg`` (unless
    ``test_cfg`` names a loop type itself).

    Args:
        cfg (Config): The config, changed in place.
        task (int, optional): Test this task only (``--task``).

    Raises:
        ConfigError: ``task`` is given for a config without task sequence.
    """
    if not is_task_sequence(cfg):
        if task is not None:
            raise ConfigError(f'--task {task}: the config trains no task '
                              'sequence (train_cfg is not a '
                              'TaskSequenceTrainLoop)')
        return
    test_cfg = dict(cfg.get('test_cfg') or {})
    if 'type' in test_cfg:
        return
    train_cfg = cfg.train_cfg
    test_cfg.update(
        type='mmdl.ContinualTestLoop',
        num_tasks=train_cfg.num_tasks,
        max_epochs=train_cfg.max_epochs,
        task=task,
        task_key=train_cfg.get('task_key', 'task_id'),
        metric_key=train_cfg.get('metric_key', 'accuracy/top1'))
    cfg.test_cfg = test_cfg
