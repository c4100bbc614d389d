# Copyright (c) mmdl contributors. All rights reserved.
"""Safe checkpoint loading and plain-data message hubs for torch >= 2.6.

mmengine 0.10.7 loads local checkpoints with a bare ``torch.load``. Since
torch 2.6 that means ``weights_only=True``, which rejects the
``HistoryBuffer`` objects (and the numpy arrays inside them) that every
mmengine checkpoint carries in its ``message_hub`` entry, so ``--resume``
fails. The upstream fix (mmengine PR #1670, unreleased) switches to
``weights_only=False``, which executes whatever a downloaded file asks for.

mmdl keeps ``weights_only=True`` instead:

* :func:`load_checkpoint_file` replaces mmengine's local-file loader. It
  loads with an explicit allow-list of exactly the globals that mmengine
  checkpoints contain (:func:`checkpoint_allowlist`), applied only around
  that one ``torch.load`` call. ``builtins.getattr``, which old mmengine
  checkpoints need to rebuild ``HistoryBuffer``'s statistics methods, is
  mapped onto :func:`_history_buffer_getattr`, a ``getattr`` that resolves
  nothing but those four methods.
* Any other global makes loading fail with :class:`UntrustedCheckpointError`
  naming the global and the explicit, per-file way to trust the file
  (:func:`trust_checkpoint`, ``--trust-checkpoint`` of the tools, or the
  ``MMDL_TRUSTED_CHECKPOINTS`` environment variable).
* Checkpoints written by :class:`~mmdl.engine.runner.MMDLRunner` store the
  message hub as plain data (:func:`message_hub_to_plain`), so they contain
  no ``HistoryBuffer`` and no ``getattr`` at all;
  :func:`message_hub_from_plain` rebuilds the buffers on load.

``import mmdl`` calls :func:`install_checkpoint_loader`, which affects every
mmengine user in the process (a host project's runner too). Set
``MMDL_NO_CHECKPOINT_LOADER=1`` before the import to keep mmengine's loader,
or call :func:`uninstall_checkpoint_loader` afterwards.
"""
import logging
import os
import os.path as osp
import pickle
import re
from collections import OrderedDict
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

import numpy as np
import torch
from mmengine.logging import HistoryBuffer, print_log
from mmengine.runner.checkpoint import CheckpointLoader

from mmdl.utils.checkpoint_files import (CheckpointFileError,
                                         checkpoint_problem)

#: Environment variable holding checkpoint paths (separated by
#: ``os.pathsep``) that the user trusts to be unpickled without restriction.
TRUSTED_ENV = 'MMDL_TRUSTED_CHECKPOINTS'

#: Environment variable that, set to anything but ``''`` or ``'0'``, stops
#: ``import mmdl`` from installing :func:`load_checkpoint_file`.
NO_LOADER_ENV = 'MMDL_NO_CHECKPOINT_LOADER'

#: Marker key of a message hub written by :func:`message_hub_to_plain`.
PLAIN_FORMAT_KEY = 'mmdl_plain_format'
PLAIN_FORMAT_VERSION = 1

_trusted_paths = set()
#: The local loader that :func:`install_checkpoint_loader` replaced.
_replaced_loader: Optional[Callable] = None
_announced_use = False

_LOADER_NOTE = (
    "mmdl: mmengine's CheckpointLoader loads local files with "
    'mmdl.engine.runner.checkpoint.load_checkpoint_file (weights_only=True '
    'and an allow-list of the types in mmengine checkpoints), installed by '
    f'`import mmdl`. To keep mmengine\'s loader, set {NO_LOADER_ENV}=1 '
    'before importing mmdl or call '
    'mmdl.engine.runner.checkpoint.uninstall_checkpoint_loader().')


class UntrustedCheckpointError(pickle.UnpicklingError):
    """A checkpoint holds a global outside mmdl's checkpoint allow-list."""


def _norm(path: str) -> str:
    return osp.realpath(osp.expanduser(path))


def trust_checkpoint(path: str) -> None:
    """Allow one checkpoint file to be unpickled without restriction.

    Only do this for files whose origin you trust: unrestricted unpickling
    can execute arbitrary code.

    Args:
        path (str): Path of the checkpoint file.
    """
    _trusted_paths.add(_norm(path))


def is_trusted_checkpoint(path: str) -> bool:
    """Whether ``path`` was trusted by :func:`trust_checkpoint` or through
    the ``MMDL_TRUSTED_CHECKPOINTS`` environment variable."""
    env = [p for p in os.environ.get(TRUSTED_ENV, '').split(os.pathsep) if p]
    return _norm(path) in _trusted_paths | {_norm(p) for p in env}


def _history_buffer_getattr(obj: Any, name: str) -> Callable:
    """A ``getattr`` restricted to ``HistoryBuffer``'s statistics methods.

    Pickle protocol 2 stores the nested function ``HistoryBuffer.min`` as
    ``getattr(HistoryBuffer, 'min')``; this is the only use of ``getattr``
    that an mmengine checkpoint makes.
    """
    allowed = HistoryBuffer._statistics_methods
    if obj is HistoryBuffer and name in allowed:
        return getattr(obj, name)
    raise UntrustedCheckpointError(
        f'checkpoint asks for getattr({obj!r}, {name!r}); mmdl only resolves '
        f'HistoryBuffer statistics methods {sorted(allowed)}')


def _numpy_multiarray() -> Any:
    core = getattr(np, '_core', None) or np.core
    return core.multiarray


def checkpoint_allowlist() -> List[Union[Callable, Tuple[Callable, str]]]:
    """Exactly the globals found in checkpoints written by mmengine.

    Returns:
        list: Entries for :func:`torch.serialization.safe_globals`. Numpy
        globals are listed under both their numpy 1 (``numpy.core``) and
        numpy 2 (``numpy._core``) names, so checkpoints written with either
        load.
    """
    multiarray = _numpy_multiarray()
    allowed: List[Union[Callable, Tuple[Callable, str]]] = [
        (HistoryBuffer, 'mmengine.logging.history_buffer.HistoryBuffer'),
        (_history_buffer_getattr, 'builtins.getattr'),
        (np.ndarray, 'numpy.ndarray'),
        (np.dtype, 'numpy.dtype'),
    ]
    for core in ('numpy.core', 'numpy._core'):
        allowed.append(
            (multiarray._reconstruct, f'{core}.multiarray._reconstruct'))
        allowed.append((multiarray.scalar, f'{core}.multiarray.scalar'))
    # numpy >= 1.25 may pickle dtypes through their classes.
    for name in ('Float64DType', 'Float32DType', 'Float16DType', 'Int64DType',
                 'Int32DType', 'Int16DType', 'Int8DType', 'UInt8DType',
                 'BoolDType', 'StrDType', 'BytesDType'):
        dtype_cls = getattr(getattr(np, 'dtypes', None), name, None)
        if dtype_cls is not None:
            allowed.append((dtype_cls, f'numpy.dtypes.{name}'))
    return allowed


def _allowed_names() -> set:
    names = set()
    for entry in checkpoint_allowlist():
        names.add(entry[1] if isinstance(entry, tuple) else
                  f'{entry.__module__}.{entry.__qualname__}')
    return names


def _offending_globals(filename: str, error: Exception) -> List[str]:
    try:
        found = torch.serialization.get_unsafe_globals_in_checkpoint(filename)
        bad = sorted(set(found) - _allowed_names())
    except Exception:  # noqa: BLE001  (legacy formats cannot be scanned)
        bad = []
    if not bad:
        bad = re.findall(r'GLOBAL ([\w.]+)', str(error)) or [str(error)]
    return bad


def load_checkpoint_file(filename: str,
                         map_location: Optional[Any] = None) -> Any:
    """Load a local checkpoint with ``weights_only=True`` and mmdl's
    allow-list.

    Args:
        filename (str): Local path of the checkpoint.
        map_location (optional): Same as :func:`torch.load`.

    Returns:
        The unpickled checkpoint; a plain-data message hub is rebuilt into
        ``HistoryBuffer`` objects.

    Raises:
        FileNotFoundError: If ``filename`` does not exist.
        CheckpointFileError: If the file is empty, truncated, or not a
            checkpoint dict.
        UntrustedCheckpointError: If the file holds a global that is not on
            the allow-list and the file was not trusted explicitly.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint file not found: {filename}')
    _announce_use()
    try:
        if is_trusted_checkpoint(filename):
            # Explicitly trusted by the user for this one file.
            checkpoint = torch.load(
                filename, map_location=map_location, weights_only=False)
        else:
            checkpoint = _load_allowed(filename, map_location)
    except Exception as error:  # noqa: BLE001  (re-raised unless explained)
        # read the file's structure only when loading failed: a damaged or
        # foreign file gets a message naming it
        problem = checkpoint_problem(filename)
        if problem is not None:
            raise CheckpointFileError(
                f"checkpoint file '{filename}' {problem}") from None
        if isinstance(error, EOFError) or (
                isinstance(error, RuntimeError)
                and 'PytorchStreamReader' in str(error)):
            raise CheckpointFileError(
                f"checkpoint file '{filename}' is truncated or not a "
                f'checkpoint ({(str(error) or "EOF").splitlines()[0]})'
            ) from None
        raise
    if not isinstance(checkpoint, dict):
        kind = ('tensor' if isinstance(checkpoint, torch.Tensor) else
                type(checkpoint).__name__)
        raise CheckpointFileError(
            f"checkpoint file '{filename}' holds a {kind}, not a checkpoint "
            "dict (a state_dict or a dict with 'state_dict')")
    if isinstance(checkpoint.get('message_hub'), dict):
        checkpoint['message_hub'] = message_hub_from_plain(
            checkpoint['message_hub'])
    return checkpoint


def _load_allowed(filename: str, map_location: Optional[Any]) -> Any:
    """``torch.load`` with ``weights_only=True`` and the allow-list; a
    global off the list raises :class:`UntrustedCheckpointError`."""
    try:
        with torch.serialization.safe_globals(checkpoint_allowlist()):
            return torch.load(
                filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        bad = ', '.join(_offending_globals(filename, error))
        raise UntrustedCheckpointError(
            f'{filename}: refusing to unpickle {bad}, which is not on '
            "mmdl's checkpoint allow-list. If you trust this file, pass "
            f'--trust-checkpoint {filename} to tools/train.py or '
            f'tools/test.py (or add it to ${TRUSTED_ENV}, or call '
            'mmdl.engine.trust_checkpoint(path)).') from None


def _announce_use() -> None:
    """Log, once per process, that mmdl's loader is in use."""
    global _announced_use
    if not _announced_use:
        _announced_use = True
        print_log(_LOADER_NOTE, logger='current', level=logging.INFO)


def _local_loader() -> Optional[Callable]:
    # mmengine has no public getter for a registered scheme.
    return CheckpointLoader._schemes.get('')


def checkpoint_loader_disabled() -> bool:
    """Whether ``MMDL_NO_CHECKPOINT_LOADER`` asks ``import mmdl`` not to
    install :func:`load_checkpoint_file`."""
    return os.environ.get(NO_LOADER_ENV, '').strip() not in ('', '0')


def install_checkpoint_loader() -> None:
    """Make :func:`load_checkpoint_file` mmengine's loader for local paths.

    Affects ``Runner.resume``, ``load_from`` and ``init_cfg=dict(
    type='Pretrained')`` of every runner in the process. ``import mmdl``
    calls it unless ``MMDL_NO_CHECKPOINT_LOADER`` is set. Idempotent;
    :func:`uninstall_checkpoint_loader` undoes it.
    """
    global _replaced_loader
    current = _local_loader()
    if current is load_checkpoint_file:
        return
    _replaced_loader = current
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_checkpoint_file, force=True)
    # A plain logger: no MMLogger is created at import time.
    print_log(
        "mmdl: replaced mmengine's local-file checkpoint loader "
        f'({getattr(current, "__qualname__", current)}) with '
        f'load_checkpoint_file; set {NO_LOADER_ENV}=1 to opt out.',
        logger=logging.getLogger(__name__),
        level=logging.DEBUG)


def uninstall_checkpoint_loader() -> bool:
    """Give mmengine back the local loader that
    :func:`install_checkpoint_loader` replaced.

    Nothing changes when mmdl's loader is not installed or when another
    loader has been registered since.

    Returns:
        bool: Whether the previous loader was restored.
    """
    global _replaced_loader
    if _local_loader() is not load_checkpoint_file or \
            _replaced_loader is None:
        return False
    CheckpointLoader.register_scheme(
        prefixes='', loader=_replaced_loader, force=True)
    _replaced_loader = None
    return True


def _to_plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return type(value)((k, _to_plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return type(value)(_to_plain(v) for v in value)
    return value


def message_hub_to_plain(state: Dict) -> Dict:
    """Convert ``MessageHub.state_dict()`` into builtin types only.

    Each ``HistoryBuffer`` becomes ``dict(log_history=[...],
    count_history=[...], max_length=int)`` and numpy values in the runtime
    information become Python numbers or lists.

    Args:
        state (dict): The output of ``MessageHub.state_dict()``.

    Returns:
        dict: A state that :func:`message_hub_from_plain` turns back.
    """
    if state.get(PLAIN_FORMAT_KEY):
        return state
    scalars = OrderedDict()
    for key, buffer in state.get('log_scalars', {}).items():
        log, count = buffer.data
        scalars[key] = dict(
            log_history=np.asarray(log).tolist(),
            count_history=np.asarray(count).tolist(),
            max_length=int(buffer.max_length))
    return {
        PLAIN_FORMAT_KEY: PLAIN_FORMAT_VERSION,
        'log_scalars': scalars,
        'runtime_info': _to_plain(state.get('runtime_info', {})),
        'resumed_keys': dict(state.get('resumed_keys', {})),
    }


def message_hub_from_plain(state: Dict) -> Dict:
    """Inverse of :func:`message_hub_to_plain`; other states pass through.

    Args:
        state (dict): A message-hub state, plain or from mmengine.

    Returns:
        dict: A state accepted by ``MessageHub.load_state_dict``.
    """
    if not state.get(PLAIN_FORMAT_KEY):
        return state
    scalars = OrderedDict(
        (key,
         HistoryBuffer(value['log_history'], value['count_history'],
                       value['max_length']))
        for key, value in state['log_scalars'].items())
    return dict(
        log_scalars=scalars,
        runtime_info=OrderedDict(state['runtime_info']),
        resumed_keys=OrderedDict(state['resumed_keys']))


def find_latest_checkpoint(work_dir: str) -> Optional[str]:
    """Find the checkpoint to resume from in ``work_dir``.

    Reads the ``last_checkpoint`` pointer written by ``CheckpointHook``;
    if it is missing, empty (a kill while it was being written) or points
    to a file that no longer exists, falls back to the ``epoch_N.pth`` /
    ``iter_N.pth`` with the largest ``N``.

    Args:
        work_dir (str): The work directory.

    Returns:
        str or None: Path of the checkpoint, None if there is none.
    """
    pointer = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(pointer):
        with open(pointer) as f:
            last = f.read().strip()
        if last and osp.isfile(last):
            return last
    if not osp.isdir(work_dir):
        return None
    candidates = []
    for name in os.listdir(work_dir):
        match = re.fullmatch(r'(epoch|iter)_(\d+)\.pth', name)
        if match:
            candidates.append((int(match.group(2)), name))
    if not candidates:
        return None
    return osp.join(work_dir, max(candidates)[1])
