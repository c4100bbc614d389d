# Copyright (c) mmdl contributors. All rights reserved.
"""Run ``tools/<name>``'s ``main(argv)`` in-process (a subprocess costs
seconds of imports) and read the error it ends with."""
import os.path as osp
import runpy
from typing import Any, Callable, List, Tuple

import pytest

from conftest import REPO_ROOT

_MAINS = {}


def tool_main(name: str) -> Callable:
    """The ``main`` function of ``tools/<name>`` (loaded once)."""
    if name not in _MAINS:
        _MAINS[name] = runpy.run_path(osp.join(REPO_ROOT, 'tools',
                                               name))['main']
    return _MAINS[name]


def exit_lines(capsys: Any, monkeypatch: Any, name: str, *args: Any) -> tuple:
    """Run the tool, expecting it to exit; return the exit code and the
    lines of stderr (with the message of ``sys.exit(<str>)`` last)."""
    monkeypatch.delenv('MMDL_DEBUG', raising=False)
    monkeypatch.setenv('LOCAL_RANK', '0')  # main exports it
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        tool_main(name)([str(a) for a in args])
    code = exit_info.value.code
    err = capsys.readouterr().err
    if isinstance(code, str):  # printed by the interpreter: status 1
        err += code + '\n'
    return code, err.strip().splitlines()


def error_line(capsys: Any, monkeypatch: Any, name: str, *args: Any) -> str:
    """Run the tool, expecting the one-line error of ``friendly_errors``
    (exit status 1, no traceback); return that last line."""
    code, lines = exit_lines(capsys, monkeypatch, name, *args)
    assert isinstance(code, str), (code, lines)  # sys.exit(<str>): status 1
    assert not any('Traceback' in line for line in lines), lines
    assert lines[-1].startswith(f'{name}: error: '), lines
    return lines[-1]
