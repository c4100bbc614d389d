# Copyright (c) mmdl contributors. All rights reserved.
"""Tables of piggyback-learning runs: leakage from the references of
another run with the same PL seed, mean ± std over runs."""
import json

import pytest

from mmdl.evaluation.piggyback_table import (latest_run, load_groups,
                                             make_table)


def _run(seed, model, target, references=None):
    jobs = [dict(task='source', mode='finetune', subject='model', seed=seed,
                 accuracy=model)]
    for subject, value in (references or {}).items():
        jobs.append(dict(task='source', mode='finetune', subject=subject,
                         seed=seed, accuracy=value))
    return dict(jobs=jobs, metrics={'accuracy/top1': target})


def _write(tmp_path, name, run):
    folder = tmp_path / name / '20260101_000000'
    folder.mkdir(parents=True)
    (folder / 'piggyback.json').write_text(json.dumps(run))
    return str(tmp_path / name)


def test_table_means_and_borrowed_references(tmp_path):
    refs = {0: dict(pretrained=90.0, random=50.0),
            1: dict(pretrained=80.0, random=60.0)}
    pairs = []
    for seed in (0, 1):
        pairs.append('ft=' + _write(tmp_path, f'ft{seed}', _run(
            seed, 85.0 + seed, 96.0, refs[seed])))
        pairs.append('dtl=' + _write(tmp_path, f'dtl{seed}', _run(
            seed, 60.0 + 10 * seed, 94.0 + 2 * seed)))
    text, data = make_table(load_groups(pairs))
    # leakage of each DTL run from the fine-tuning run of its seed
    assert data['dtl']['leakage/source/finetune'] == pytest.approx(
        [(60 - 50) / 40, (70 - 60) / 20])
    assert data['ft']['pl/source/finetune'] == [85.0, 86.0]
    assert data['(pretrained weights)']['pl/source/finetune'] == [90.0, 80.0]
    assert '| dtl (2) | 95.00 ± 1.41 |' in text
    assert '65.00 ± 7.07' in text


def test_undefined_leakage_is_counted(tmp_path):
    pairs = [
        'ft=' + _write(tmp_path, f'ft{seed}', _run(
            seed, 80.0, 96.0, dict(pretrained=90.0, random=r)))
        for seed, r in ((0, 90.0), (1, 70.0))
    ]
    text, data = make_table(load_groups(pairs))
    assert '0.500 (1 undefined)' in text


def test_missing_runs_and_bad_pairs(tmp_path):
    with pytest.raises(FileNotFoundError, match='piggyback.json'):
        latest_run(str(tmp_path))
    with pytest.raises(ValueError, match='LABEL=WORK_DIR'):
        load_groups([str(tmp_path)])
