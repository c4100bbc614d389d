# Copyright (c) mmdl contributors. All rights reserved.
import json
import os.path as osp
import runpy

import numpy as np
import pytest
from conftest import REPO_ROOT

from mmdl.evaluation.continual_table import continual_table


def _write(path, acc, bwt=-10.0, forgetting=None):
    path.mkdir()
    (path / 'continual_metrics.json').write_text(
        json.dumps(dict(tasks_learned=3, num_tasks=3, ACC=acc, BWT=bwt,
                        forgetting=forgetting)))


def test_single_runs_and_folder_names(tmp_path):
    _write(tmp_path / 'a', 50.0)
    _write(tmp_path / 'b', 75.125)
    text = continual_table([f'A={tmp_path / "a"}', str(tmp_path / 'b')])
    assert '| A | 1 | 3/3 | 50.00 | -10.00 | - |' in text
    assert '| b | 1 | 3/3 | 75.12 |' in text  # named after its folder


def test_repeated_name_gives_mean_and_sample_std(tmp_path):
    accs = [70.0, 74.5, 71.25]
    bwts = [-9.0, -7.0, -8.5]
    for seed, (acc, bwt) in enumerate(zip(accs, bwts)):
        _write(tmp_path / f's{seed}', acc, bwt)
    text = continual_table([f'X={tmp_path / f"s{s}"}' for s in range(3)])
    acc = f'{np.mean(accs):.2f} ± {np.std(accs, ddof=1):.2f}'
    bwt = f'{np.mean(bwts):.2f} ± {np.std(bwts, ddof=1):.2f}'
    assert f'| X | 3 | 3/3 | {acc} | {bwt} | - |' in text


def test_missing_run_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='continual_metrics.json'):
        continual_table([str(tmp_path / 'missing')])


def test_cli(tmp_path, capsys):
    # the thin CLI in-process (a subprocess would re-import mmdl: ~10 s)
    main = runpy.run_path(
        osp.join(REPO_ROOT, 'tools', 'analysis_tools',
                 'continual_table.py'))['main']
    _write(tmp_path / 'a', 50.0)
    out = tmp_path / 't.md'
    assert main([f'A={tmp_path / "a"}', '--out', str(out)]) == 0
    assert '| A | 1 | 3/3 | 50.00 |' in out.read_text()
    assert main([str(tmp_path / 'missing')]) == 1
    assert 'missing' in capsys.readouterr().err
