# Copyright (c) mmdl contributors. All rights reserved.
"""tools/attack/poison_report.py: changes and their mean ± std over seeds
against numbers worked out here; the chart; clear errors."""
import json
import re

import pytest
from tool_mains import exit_lines, tool_main


def _run(path, rows):
    path.mkdir(parents=True)
    matrix = [row + [None] * (3 - len(row)) for row in rows]
    (path / 'continual_metrics.json').write_text(
        json.dumps(dict(accuracy_matrix=matrix)))
    return str(path)


def _pairs(tmp_path):
    before = [[90.0], [85.0, 92.0]]
    runs = []
    for seed, (target, other, new) in enumerate(((40.0, 89.0, 95.0),
                                                 (50.0, 91.0, 93.0))):
        clean = _run(tmp_path / f'ewc_s{seed}' / 'clean',
                     before + [[80.0, 90.0, 96.0]])
        poisoned = _run(tmp_path / f'ewc_s{seed}' / 'poisoned',
                        before + [[target, other, new]])
        runs += ['--pair', 'ewc', clean, poisoned]
    return runs


def test_report_numbers_and_chart(tmp_path, capsys):
    out = tmp_path / 'out'
    report = tool_main('attack/poison_report.py')(
        _pairs(tmp_path) + [
            '--target-task', '0', '--out-json',
            str(out / 'r.json'), '--out-png',
            str(out / 'r.png')
        ])
    summary = report['methods']['ewc']['summary']
    # target: 40 - 80 and 50 - 80; other task 1: |89 - 90|, |91 - 90|;
    # new task: 95 - 96, 93 - 96
    assert summary['target_change']['mean'] == pytest.approx(-35.0)
    assert summary['target_change']['std'] == pytest.approx(50**0.5)
    assert summary['max_other_change']['mean'] == pytest.approx(1.0)
    assert summary['new_task_change']['mean'] == pytest.approx(-2.0)
    assert [s['mean'] for s in summary['before']] == [85.0, 92.0]
    assert json.loads((out / 'r.json').read_text())['target_task'] == 0
    assert (out / 'r.png').stat().st_size > 1000
    assert '| ewc | 2 |' in capsys.readouterr().out


@pytest.mark.parametrize('extra,match', [
    (['--target-task', '2'], 'not an earlier task'),
    (['--target-task', '0', '--pair', 'si', 'missing', 'missing'],
     'continual_metrics.json does not exist'),
])
def test_report_errors(tmp_path, capsys, monkeypatch, extra, match):
    code, lines = exit_lines(capsys, monkeypatch, 'attack/poison_report.py',
                             *(_pairs(tmp_path) + extra +
                               ['--out-json', str(tmp_path / 'r.json')]))
    err = lines[-1]
    assert isinstance(code, str) and not any('Traceback' in x for x in lines)
    assert err.startswith('poison_report.py: error: ')
    assert re.search(match, err), err
