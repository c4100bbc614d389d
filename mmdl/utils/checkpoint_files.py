# Copyright (c) mmdl contributors. All rights reserved.
"""A fast check that a file is a readable PyTorch checkpoint.

``torch.save`` writes a zip archive whose ``data.pkl`` holds the pickled
structure (tensors are separate entries), or, in its legacy format, a
sequence of pickles starting with a magic number. :func:`checkpoint_problem`
checks the container and reads only that structure, without resolving any
global, so a text file, an empty file, a truncated download or a file that
holds something other than a dict is reported with one line before
anything is built.
"""
import io
import os
import os.path as osp
import pickle
import tarfile
import zipfile
import zlib
from typing import Any, BinaryIO, Optional

from .config_checks import ConfigError

#: First pickle of a legacy ``torch.save`` file.
LEGACY_MAGIC_NUMBER = 0x1950a86a20f9469cfc6c

#: Builtin types that a checkpoint never is.
_NOT_CHECKPOINTS = (list, tuple, set, frozenset, str, bytes, bytearray, int,
                    float, complex, bool, type(None))


class CheckpointFileError(ConfigError):
    """A checkpoint file is empty, truncated, or not a checkpoint."""


class _Global:
    """Stands in for every global of the pickle: records its name, accepts
    any construction, state, items and appends, and resolves nothing."""

    name = ''

    def __new__(cls, *args: Any, **kwargs: Any) -> '_Global':
        return super().__new__(cls)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        pass

    def __setitem__(self, key: Any, value: Any) -> None:
        pass

    def append(self, value: Any) -> None:
        pass

    def extend(self, values: Any) -> None:
        pass


class _StructureUnpickler(pickle.Unpickler):
    """Unpickles the structure of a checkpoint with every global replaced
    by a :class:`_Global` subclass and every storage by None."""

    def find_class(self, module: str, name: str) -> type:
        return type(name, (_Global, ), {'name': f'{module}.{name}'})

    def persistent_load(self, pid: Any) -> None:
        return None


def _describe(obj: Any) -> Optional[str]:
    """What ``obj`` is, if it certainly is no checkpoint dict."""
    if isinstance(obj, dict):
        return None
    if isinstance(obj, _Global):
        if obj.name.startswith('torch._utils._rebuild'):
            return 'a tensor'
        # torch.nn modules and other torch objects; any other class may be
        # a dict subclass, which only the real load can tell
        return f'a {obj.name}' if obj.name.startswith('torch.') else None
    if isinstance(obj, _NOT_CHECKPOINTS):
        return f'a {type(obj).__name__}'
    return None


def _not_a_dict(structure: Any) -> Optional[str]:
    """The problem of a checkpoint whose structure is no dict, if so."""
    found = _describe(structure)
    return None if found is None else (
        f'holds {found}, not a checkpoint dict (a state_dict or a dict '
        "with 'state_dict')")


def _read_structure(stream: BinaryIO) -> Any:
    return _StructureUnpickler(stream).load()


def _zip_problem(path: str) -> Optional[str]:
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n.endswith('data.pkl')]
            if not names:
                return ('is a zip archive without data.pkl, not a PyTorch '
                        'checkpoint')
            data = archive.read(min(names, key=len))
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError,
            ValueError) as error:
        return ('is truncated or not a checkpoint (its zip archive is '
                f'damaged: {error})')
    try:
        structure = _read_structure(io.BytesIO(data))
    except (EOFError, pickle.UnpicklingError) as error:
        return ('is truncated or not a checkpoint (its data.pkl cannot be '
                f'read: {error or type(error).__name__})')
    except Exception:  # noqa: BLE001  (torch.load decides)
        return None
    return _not_a_dict(structure)


def _legacy_problem(path: str) -> Optional[str]:
    try:
        with open(path, 'rb') as f:
            unpickler = _StructureUnpickler(f)
            if unpickler.load() != LEGACY_MAGIC_NUMBER:
                return ('is a pickle but not a PyTorch checkpoint (no '
                        'torch.save magic number)')
            unpickler.load()  # protocol version
            unpickler.load()  # system information
            structure = unpickler.load()
    except (EOFError, pickle.UnpicklingError) as error:
        return ('is truncated or not a checkpoint (its legacy torch.save '
                f'pickle cannot be read: {error or type(error).__name__})')
    except Exception:  # noqa: BLE001  (torch.load decides)
        return None
    return _not_a_dict(structure)


def checkpoint_problem(path: str) -> Optional[str]:
    """What is wrong with a local checkpoint file, if anything.

    Checks the zip archive of ``torch.save`` (its central directory and
    ``data.pkl``) or the legacy format (non-zip ``torch.save``, and the
    tar archives of very old versions), and that the top-level object is
    not a list, tensor or other non-dict. Globals are not resolved and
    tensors are not read.

    Args:
        path (str): Path of an existing file.

    Returns:
        str or None: The problem, worded to follow ``checkpoint file 'X'``;
        None if the file looks like a checkpoint.
    """
    if os.path.getsize(path) == 0:
        return 'is empty (0 bytes), not a PyTorch checkpoint'
    with open(path, 'rb') as f:
        head = f.read(16)
    if zipfile.is_zipfile(path):
        return _zip_problem(path)
    if head.startswith(b'PK'):
        return ('is truncated or not a checkpoint (a zip archive without '
                'its central directory: cut short or damaged)')
    if head.startswith(b'\x80'):  # pickle protocol >= 2
        return _legacy_problem(path)
    if tarfile.is_tarfile(path):
        return None
    return ('is not a PyTorch checkpoint (neither the zip format of '
            f'torch.save nor its legacy format; it starts with {head!r})')


def check_checkpoint_file(path: str, what: Optional[str] = None) -> None:
    """Raise :class:`CheckpointFileError` if a local checkpoint file is
    empty, truncated or not a checkpoint (see :func:`checkpoint_problem`).

    Args:
        path (str): Path of an existing file.
        what (str, optional): How the user gave it (``'load_from'``,
            ``'--resume'``), the start of the message.

    Raises:
        CheckpointFileError: Naming the path and the problem.
    """
    problem = checkpoint_problem(osp.expanduser(path))
    if problem is not None:
        prefix = f'{what}: ' if what else ''
        raise CheckpointFileError(
            f"{prefix}checkpoint file '{path}' {problem}")
