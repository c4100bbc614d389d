# Copyright (c) mmdl contributors. All rights reserved.
import importlib.util
import os.path as osp

import pytest
from conftest import REPO_ROOT

spec = importlib.util.spec_from_file_location(
    'install_mmcv', osp.join(REPO_ROOT, 'tools', 'misc', 'install_mmcv.py'))
install_mmcv = importlib.util.module_from_spec(spec)
spec.loader.exec_module(install_mmcv)
decide = install_mmcv.decide


def test_nothing_installed_installs_lite():
    requirement, reason = decide({})
    assert requirement == 'mmcv-lite==2.2.0'
    assert 'no mmcv' in reason


@pytest.mark.parametrize('installed', [{
    'mmcv': '2.1.0'
}, {
    'mmcv': '2.2.0'
}, {
    'mmcv-lite': '2.2.0'
}, {
    'mmcv': '2.0.0rc4'
}])
def test_existing_compatible_mmcv_is_kept(installed):
    requirement, reason = decide(installed)
    assert requirement is None
    assert 'already installed' in reason


def test_compiled_mmcv_never_replaced_even_with_full_leftover():
    # a user's compiled mmcv next to an old mmcv-full record: keep mmcv
    assert decide({'mmcv': '2.1.0', 'mmcv-full': '1.7.0'})[0] is None


@pytest.mark.parametrize('installed,match', [
    ({
        'mmcv-full': '1.7.2'
    }, 'mmcv-full'),
    ({
        'mmcv': '1.7.0'
    }, 'mmcv==1.7.0'),
    ({
        'mmcv': '2.4.1'
    }, '>=2.0.0,<2.4.0'),
    ({
        'mmcv': '2.1.0',
        'mmcv-lite': '2.2.0'
    }, 'both'),
])
def test_incompatible_environments_are_refused(installed, match):
    with pytest.raises(RuntimeError, match=match):
        decide(installed)


def test_this_environment_needs_nothing(capsys):
    # the test environment was set up by this very script
    assert install_mmcv.main(['--dry-run']) == 0
    assert 'nothing to install' in capsys.readouterr().out
