# Copyright (c) mmdl contributors. All rights reserved.
"""``import mmdl``: mmcv-lite's MultiScaleDeformableAttention warning is
hidden and no other warning; the README's config snippet for other
projects parses and uses the digits statistics of mmdl's configs."""
import os.path as osp
import re
import sys

import pytest
from mmengine.config import Config

from conftest import REPO_ROOT, run_tool

MMCV_WARNING = 'MultiScaleDeformableAttention'

# Run with -W default. ``warnings.warn`` is wrapped first to count the
# calls with the op's name (the control: this mmcv emits the warning at all;
# the wrapper passes the caller's frame on, so filters see mmcv's module).
# Then mmdl and mmdl.models (which imports mmcv's transformer module) are
# imported; the same text from another module, another text from mmcv's
# module and a plain UserWarning are still shown.
SCRIPT = f"""
import warnings
calls = []
original = warnings.warn
def counting_warn(message, category=None, stacklevel=1, source=None):
    calls.append('{MMCV_WARNING}' in str(message))
    original(message, category, stacklevel + 1, source)
warnings.warn = counting_warn
import mmdl, mmdl.models
import mmcv.cnn.bricks.transformer as transformer
warnings.warn = original
print('control:', sum(calls))
warnings.warn_explicit('Fail to import ``{MMCV_WARNING}`` from '
                       '``mmcv.ops.multi_scale_deform_attn``, elsewhere',
                       UserWarning, 'other.py', 1, module='other')
warnings.warn_explicit('mmdl-test: other mmcv warning', UserWarning,
                       transformer.__file__, 1,
                       module='mmcv.cnn.bricks.transformer')
warnings.warn('mmdl-test: plain warning')
"""


def test_import_hides_only_the_mmcv_lite_warning():
    result = run_tool([sys.executable, '-W', 'default', '-c', SCRIPT])
    assert result.returncode == 0, result.stderr[-3000:]
    control = re.search(r'control: (\d+)', result.stdout)
    if control is None or control.group(1) == '0':
        pytest.skip('this mmcv does not warn about ' + MMCV_WARNING)
    lines = [line for line in result.stderr.splitlines() if 'Warning' in line]
    # only the warning from another module mentions the op
    assert [line for line in lines if MMCV_WARNING in line] == [
        line for line in lines if line.startswith('other.py:1: UserWarning')
    ]
    assert len(lines) == 3, result.stderr
    assert 'UserWarning: mmdl-test: other mmcv warning' in result.stderr
    assert 'UserWarning: mmdl-test: plain warning' in result.stderr


def _readme_snippet() -> str:
    """The first Python block of the README section on other projects
    that holds a ``data_preprocessor``."""
    with open(osp.join(REPO_ROOT, 'README.md'), encoding='utf-8') as f:
        readme = f.read()
    section = readme.split('## Using mmdl from another OpenMMLab project',
                           1)[1].split('\n## ', 1)[0]
    blocks = re.findall(r'```python\n(.*?)```', section, re.S)
    return next(block for block in blocks if 'data_preprocessor' in block)


def test_readme_snippet_for_other_projects():
    cfg = Config.fromstring(_readme_snippet(), '.py')
    assert cfg.custom_imports == dict(
        imports=['mmdl'], allow_failed_imports=False)
    expected = dict(num_classes=10, mean=[77.9], std=[95.9], to_rgb=False)
    assert cfg.data_preprocessor == expected
    digits = Config.fromfile(
        osp.join(REPO_ROOT, 'configs', '_base_', 'datasets', 'digits_bs32.py'))
    assert digits.data_preprocessor == expected
    # the names resolve from mmpretrain's scope, as the snippet says
    from mmpretrain.registry import DATASETS, MODELS

    from mmdl.datasets import DigitsDataset
    assert DATASETS.get(cfg.train_dataloader.dataset.type) is DigitsDataset
    # (in mmpretrain's scope whatever scope an earlier in-process tool left)
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        preprocessor = MODELS.build(
            dict(type='ClsDataPreprocessor', **cfg.data_preprocessor))
    assert preprocessor.mean.flatten().tolist() == pytest.approx([77.9])
    assert preprocessor.std.flatten().tolist() == pytest.approx([95.9])
