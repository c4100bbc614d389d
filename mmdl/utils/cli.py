# Copyright (c) mmdl contributors. All rights reserved.
"""Helpers shared by the command-line tools in ``tools/``."""
import os
import os.path as osp
import sys
from types import TracebackType
from typing import Optional, Type

from mmengine.config import Config, DictAction

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
