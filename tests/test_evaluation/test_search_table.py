# Copyright (c) mmdl contributors. All rights reserved.
"""search_table: mean ± std over runs of one name, the gap, the size of
the genotype's CIFAR network, empty cells for missing files."""
import json
import statistics

import pytest

from mmdl.evaluation.search_table import (evaluation_params, mean_std,
                                          read_search_run, search_table)
from mmdl.models.nas import DARTS_V2, dump_genotype


def _run(folder, one_shot, derived, seconds=None, retrained=None):
    folder.mkdir()
    for name, value in (('one_shot', one_shot), ('derived', derived),
                        ('retrain', retrained)):
        if value is not None:
            (folder / f'{name}.json').write_text(
                json.dumps({'accuracy/top1': value}))
    if seconds is not None:
        (folder / 'search_seconds').write_text(f'{seconds}\n')
    dump_genotype(DARTS_V2, str(folder / 'genotype.json'))
    return str(folder)


def test_read_run_and_table(tmp_path):
    a = _run(tmp_path / 'a', 90.0, 80.0, 100, 95.0)
    b = _run(tmp_path / 'b', 92.0, 86.0, 120)
    values = read_search_run(a)
    assert values['gap'] == 10.0 and values['search (s)'] == 100
    # DARTS_V2: the 3.3M-parameter CIFAR network, 2 skip connections
    assert values['params (M)'] == pytest.approx(3.349, abs=1e-3)
    assert values['skip (normal)'] == 2
    table = search_table([f'darts={a}', f'darts={b}', f'one={a}'])
    rows = table.splitlines()
    assert rows[0].startswith('| run | runs | search (s) | one-shot')
    darts = rows[2].split(' | ')
    gap = f'{statistics.mean([10, 6]):.2f} ± {statistics.stdev([10, 6]):.2f}'
    assert darts[1] == '2' and gap in darts
    assert '95.00' in darts  # one retrained run: its value alone
    assert rows[3].startswith('| one | 1 | 100 | 90.00 | 80.00 | 10.00')


def test_helpers(tmp_path):
    assert mean_std([None, None]) == '-'
    assert mean_std([1.0, None, 3.0], 1) == '2.0 ± 1.4'
    empty = tmp_path / 'empty'
    empty.mkdir()
    assert set(read_search_run(str(empty)).values()) == {None}
    assert evaluation_params(DARTS_V2, 100) > evaluation_params(DARTS_V2)
    with pytest.raises(ValueError, match='NAME=WORK_DIR'):
        search_table([str(empty)])
