# Copyright (c) mmdl contributors. All rights reserved.
"""tools/analysis_tools/rescl_tradeoff.py on the quick configs, shrunk to
320 digits per task: PNG and JSON, criteria from the points, a second call
reuses the finished points."""
import json
import os.path as osp

import pytest
from conftest import REPO_ROOT
from PIL import Image
from tool_mains import exit_lines, tool_main

QUICK = osp.join(REPO_ROOT, 'configs', 'rescl',
                 '{}_mlp-bn_1xb32-2t_permuted-digits_quick.py')
SHRINK = """
train_dataloader = dict(dataset=dict(indices=320))
val_dataloader = dict(dataset=dict(indices=128))
train_cfg = dict(max_epochs=[1, 2])
default_hooks = dict(logger=dict(interval=5))
"""


def _small(tmp_path, method, extra=''):
    """The quick config of ``method`` on 320 digits, 1 + 2 epochs."""
    path = tmp_path / f'{method}.py'
    path.write_text(f'_base_ = [{QUICK.format(method)!r}]\n' + SHRINK + extra)
    return str(path)


@pytest.mark.slow
def test_tradeoff_tool_writes_png_and_json(tmp_path, monkeypatch):
    monkeypatch.setenv('LOCAL_RANK', '0')
    main = tool_main('analysis_tools/rescl_tradeoff.py')
    rescl = _small(
        tmp_path, 'rescl', "model = dict(l1_mode='proximal')\n"
        "custom_hooks = [dict(type='ResCLHook', finetune_epochs=1)]\n")
    argv = [
        '--work-dir',
        str(tmp_path / 'sweep'), '--method', 'rescl', rescl,
        'model.l1_weight', '1e-4,1e3', '--method', 'finetune',
        _small(tmp_path, 'finetune'), '--source-levels', '0'
    ]
    out = main(argv)
    saved = json.loads((tmp_path / 'sweep' / 'tradeoff.json').read_text())
    assert saved['summary'] == json.loads(json.dumps(out['summary']))
    points = saved['methods']['rescl']['points']
    assert [p['value'] for p in points] == [1e-4, 1e3]
    for p in points:  # the final row of each run's matrix
        assert p['source'] == p['matrix'][1][0]
        assert p['target'] == p['matrix'][1][1]
    # lambda 1e3 with proximal steps: the source network, unchanged
    assert points[1]['source'] == pytest.approx(points[1]['matrix'][0][0])
    best = max(points, key=lambda p: p['target'])
    assert saved['summary']['criteria']['best_target_at_source']['0'][
        'rescl'] == dict(value=best['value'], accuracy=best['target'])
    assert saved['summary']['dominated_by_reference']['points'][
        'finetune'].endswith('of 1')
    with Image.open(tmp_path / 'sweep' / 'tradeoff.png') as image:
        assert image.size[0] > 300 and image.size[1] > 300
    # finished points are read back, not trained again
    record = tmp_path / 'sweep' / 'rescl_0' / 'sweep_point.json'
    mtime = osp.getmtime(record)
    again = main(argv)
    assert osp.getmtime(record) == mtime
    assert again['methods']['rescl']['points'] == out['methods']['rescl'][
        'points']


def test_bad_method_is_named(tmp_path, capsys, monkeypatch):
    tool = 'analysis_tools/rescl_tradeoff.py'
    for args, message in (
        (('x', QUICK.format('rescl'), 'model.l1_weight'),
         'expected NAME CONFIG [KEY VALUES]'),
        (('x', 'nope.py'), "no config file 'nope.py'"),
        (('x', QUICK.format('rescl'), 'model.l1_weight', 'a,b'),
         "VALUES must be numbers separated by commas, got 'a,b'")):
        code, lines = exit_lines(capsys, monkeypatch, tool, '--work-dir',
                                 tmp_path, '--method', *args)
        assert code == 1 or isinstance(code, str)
        assert lines[-1].startswith('rescl_tradeoff.py: error: '), lines
        assert message in lines[-1]
