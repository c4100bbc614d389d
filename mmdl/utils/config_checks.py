# Copyright (c) mmdl contributors. All rights reserved.
"""Pre-flight checks of configs and one-line explanations of build errors.

The tools call these so that the common mistakes (an unknown ``type``, a
missing data root or checkpoint, a mistyped ``--cfg-options`` key) end with
one line that names the key or path, instead of a traceback through the
registry. Set ``MMDL_DEBUG=1`` to get the full traceback instead.
"""
import difflib
import os.path as osp
import re
from typing import Any, Iterator, Mapping, Optional, Sequence, Tuple

from mmengine.config import Config

from .registry_lookup import root_registry, unknown_type_message

#: Config keys holding dataloaders whose datasets are checked.
DATALOADER_KEYS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


class ConfigError(ValueError):
    """A config value is wrong; the message names the key."""


def _as_mapping(cfg: Any) -> Any:
    """The dict behind an mmengine ``Config`` (which is no ``Mapping``)."""
    return cfg._cfg_dict if isinstance(cfg, Config) else cfg


def iter_items(node: Any, prefix: str = '') -> Iterator[Tuple[str, Any]]:
    """Yield ``(dotted.path, value)`` for every entry of nested dicts and
    lists (list items as ``key.0``, ``key.1``, ...)."""
    if isinstance(node, Mapping):
        children = node.items()
    elif isinstance(node, (list, tuple)):
        children = enumerate(node)
    else:
        return
    for key, value in children:
        path = f'{prefix}.{key}' if prefix else str(key)
        yield path, value
        yield from iter_items(value, path)


def check_cfg_options(cfg: Mapping, options: Optional[Mapping]) -> None:
    """Check that every ``--cfg-options`` key extends an existing entry.

    The last component of a key may be new (``randomness.seed=0`` adds a
    seed), but everything before it must exist and be a dict or a list.

    Args:
        cfg (Mapping): The loaded config (before merging the options).
        options (Mapping, optional): Parsed ``--cfg-options``.

    Raises:
        ConfigError: Naming the option and the missing part of its key.
    """
    for full_key in options or {}:
        node: Any = _as_mapping(cfg)
        parts = full_key.split('.')
        for depth, part in enumerate(parts):
            where = '.'.join(parts[:depth]) or 'the config'
            if depth == len(parts) - 1:
                # the leaf may be new, but its parent must hold keys
                if not isinstance(node, (Mapping, list, tuple)):
                    raise ConfigError(
                        f"--cfg-options {full_key}: {where} is a "
                        f"{type(node).__name__}, not a dict, so it has no "
                        f"key '{part}'")
                break
            if isinstance(node, Mapping):
                if part not in node:
                    close = difflib.get_close_matches(part, list(node), 1)
                    hint = f"; did you mean '{close[0]}'?" if close else ''
                    raise ConfigError(
                        f"--cfg-options {full_key}: {where} has no key "
                        f"'{part}'{hint}")
                node = node[part]
            elif isinstance(node, (list, tuple)) and part.isdigit():
                if int(part) >= len(node):
                    raise ConfigError(
                        f'--cfg-options {full_key}: {where} has only '
                        f'{len(node)} items')
                node = node[int(part)]
            else:
                raise ConfigError(
                    f"--cfg-options {full_key}: {where} is a "
                    f"{type(node).__name__}, not a dict, so it has no "
                    f"key '{part}'")


def _iter_datasets(cfg: Any, path: str) -> Iterator[Tuple[str, Mapping]]:
    if not isinstance(cfg, Mapping):
        return
    yield path, cfg
    inner = cfg.get('dataset')
    if isinstance(inner, Mapping):
        yield from _iter_datasets(inner, f'{path}.dataset')
    elif isinstance(inner, (list, tuple)):  # TaskDataset: one per task
        for i, sub in enumerate(inner):
            yield from _iter_datasets(sub, f'{path}.dataset.{i}')
    for i, sub in enumerate(cfg.get('datasets') or []):
        yield from _iter_datasets(sub, f'{path}.datasets.{i}')


def check_data_roots(cfg: Mapping,
                     keys: Sequence[str] = DATALOADER_KEYS) -> None:
    """Check that every local ``data_root`` of the dataloaders' datasets is
    an existing directory (unless the dataset has a ``prepare`` step that
    writes it on first use).

    Args:
        cfg (Mapping): The config.
        keys (Sequence[str]): The dataloaders to check (training checks the
            train and val loaders, testing the test loader). Defaults to all
            three.

    Raises:
        ConfigError: Naming the key and the missing directory.
    """
    for key in keys:
        loader = _as_mapping(cfg).get(key)
        if not isinstance(loader, Mapping) or not isinstance(
                loader.get('dataset'), Mapping):
            continue
        for path, dataset in _iter_datasets(loader['dataset'],
                                            f'{key}.dataset'):
            root = dataset.get('data_root')
            if dataset.get('prepare') is not None:
                continue
            if (isinstance(root, str) and root and '://' not in root
                    and not osp.isdir(osp.expanduser(root))):
                raise ConfigError(
                    f"{path}.data_root: directory '{root}' does not exist "
                    f'(dataset {dataset.get("type")})')


def check_checkpoint(path: Optional[str], what: str) -> None:
    """Check that a local checkpoint file exists and is a readable
    checkpoint (not empty, truncated, another kind of file or a non-dict;
    see :func:`mmdl.utils.checkpoint_files.checkpoint_problem`).

    Args:
        path (str, optional): The checkpoint path; URLs are not checked.
        what (str): How the user gave it (``'checkpoint'``, ``'load_from'``,
            ``'--resume'``), used in the message.

    Raises:
        ConfigError: If the file does not exist.
        CheckpointFileError: If it is no readable checkpoint.
    """
    if not path or '://' in path:
        return
    if not osp.isfile(osp.expanduser(path)):
        raise ConfigError(f"{what}: checkpoint file '{path}' does not exist")
    from .checkpoint_files import check_checkpoint_file
    check_checkpoint_file(path, what)


_UNKNOWN_TYPE = re.compile(r'`?([\w.]+)`? is not in the ([\w-]+)::([\w ]+) '
                           r'registry')
_BAD_KWARG = re.compile(r"([\w.]+)\(\) got an unexpected keyword argument "
                        r"'(\w+)'")


def explain_error(error: BaseException,
                  cfg: Optional[Mapping] = None) -> Optional[str]:
    """Turn a known configuration error into one line naming the key.

    Args:
        error (BaseException): The error raised while building or running.
        cfg (Mapping, optional): The config, to locate the offending key.

    Returns:
        str or None: The one-line explanation, or None if the error is not
        a known configuration error (the caller should then re-raise it).
    """
    from mmdl.engine.runner.checkpoint import UntrustedCheckpointError
    if isinstance(error, (ConfigError, UntrustedCheckpointError)):
        return str(error)
    if isinstance(error, FileNotFoundError):
        return str(error)
    text = error.args[0] if error.args else ''
    text = text if isinstance(text, str) else str(text)
    match = _UNKNOWN_TYPE.search(text)
    if isinstance(error, KeyError) and match:
        name, scope, registry_name = match.groups()
        paths = [
            p for p, v in iter_items(_as_mapping(cfg) or {})
            if p.endswith('type') and v == name
        ]
        where = f' at {paths[0]}' if paths else ''
        root = root_registry(registry_name)
        if root is None:
            return (f"unknown type '{name}'{where}: not in the "
                    f"{registry_name} registry (scope '{scope}')")
        return unknown_type_message(name, root, scope, where)
    match = _BAD_KWARG.search(text)
    if isinstance(error, TypeError) and match:
        owner, key = match.groups()
        paths = [
            p for p, _ in iter_items(_as_mapping(cfg) or {})
            if p.split('.')[-1] == key
        ]
        where = f' (config key {paths[0]})' if paths else ''
        return (f"unknown argument '{key}' for {owner.split('.')[0]}"
                f'{where}')
    return None
