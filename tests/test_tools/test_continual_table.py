# Copyright (c) mmdl contributors. All rights reserved.
import importlib.util
import json
import os.path as osp

from conftest import REPO_ROOT

spec = importlib.util.spec_from_file_location(
    'continual_table',
    osp.join(REPO_ROOT, 'tools', 'analysis_tools', 'continual_table.py'))
tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tool)


def test_table(tmp_path, capsys):
    for name, acc in (('a', 50.0), ('b', 75.125)):
        (tmp_path / name).mkdir()
        (tmp_path / name / 'continual_metrics.json').write_text(
            json.dumps(
                dict(
                    tasks_learned=3,
                    num_tasks=3,
                    ACC=acc,
                    BWT=-10.0,
                    forgetting=None)))
    out = tmp_path / 't.md'
    assert tool.main([f'A={tmp_path / "a"}', str(tmp_path / 'b'), '--out',
                      str(out)]) == 0
    text = out.read_text()
    assert '| A | 3/3 | 50.00 | -10.00 | - |' in text
    assert '| b | 3/3 | 75.12 |' in text  # run named after its folder
    assert tool.main([str(tmp_path / 'missing')]) == 1
    assert 'missing' in capsys.readouterr().err
