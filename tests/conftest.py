# Copyright (c) mmdl contributors. All rights reserved.
import os
import os.path as osp
import subprocess
import sys

import pytest

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
QUICK_CONFIG = osp.join(REPO_ROOT, 'configs', 'quickstart',
                        'lenet5_1xb32-40e_digits.py')


def run_tool(args, cwd=REPO_ROOT, env=None, timeout=600):
    """Run a command (list) and return the CompletedProcess, text mode."""
    full_env = dict(os.environ)
    full_env.pop('MMDL_DEBUG', None)
    full_env.update(env or {})
    return subprocess.run(
        args,
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout)


def python_tool(name, *args, **kwargs):
    """Run ``tools/<name>`` with this interpreter."""
    return run_tool(
        [sys.executable, osp.join(REPO_ROOT, 'tools', name)] +
        [str(a) for a in args], **kwargs)


@pytest.fixture
def repo_root():
    return REPO_ROOT


@pytest.fixture
def quick_config():
    return QUICK_CONFIG
