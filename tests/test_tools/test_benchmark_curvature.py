# Copyright (c) mmdl contributors. All rights reserved.
"""Smoke test of tools/analysis_tools/benchmark_curvature.py (structure,
skipping of missing peers and the factor cross-check; not the timing
targets). Passes without the optional peers (curvlinops, BackPACK)."""
import importlib.util
import json
import os.path as osp
import sys

import pytest
import torch
from conftest import REPO_ROOT
from torch import nn

spec = importlib.util.spec_from_file_location(
    'benchmark_curvature',
    osp.join(REPO_ROOT, 'tools', 'analysis_tools', 'benchmark_curvature.py'))
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)

TINY = [
    '--batches', '2', '--batch-size', '8', '--width', '16', '--channels', '4',
    '--repeats', '1', '--warmup', '0', '--skip-resnet'
]
SUMMARY_KEYS = ('collect_over_peer', 'xkfac_over_kfac', 'penalty_over_matmul',
                'penalty_step_overhead')
CONFIGS = {'mlp/true', 'mlp/empirical', 'cnn/true', 'cnn/empirical'}


@pytest.fixture(autouse=True)
def one_thread():
    """One thread, as the benchmark by default: on a loaded 2-core machine
    two threads made a tiny unfold take 0.1 s instead of 30 us."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _hide(monkeypatch, *names):
    """Make ``import name`` raise ImportError, as if not installed."""
    for name in names:
        monkeypatch.setitem(sys.modules, name, None)


def test_main_writes_json_with_summary(tmp_path):
    path = str(tmp_path / 'bench.json')
    torch.set_num_threads(2)
    result = bench.main(TINY + ['--json', path])
    assert result['config']['threads'] == 1
    assert torch.get_num_threads() == 2  # restored
    with open(path) as f:
        loaded = json.load(f)
    assert loaded == json.loads(json.dumps(result))
    summary = loaded['summary']
    for key in SUMMARY_KEYS:
        assert key in summary
    assert summary['penalty_step_overhead'] is None  # --skip-resnet
    assert loaded['resnet50'] == {'skipped': '--skip-resnet'}
    assert summary['targets'] == bench.TARGETS
    for key, target in bench.TARGETS.items():
        value = summary[key]
        expected = ('SKIP' if value is None else
                    'PASS' if value <= target else 'FAIL')
        assert summary['verdicts'][key] == expected
    assert summary['xkfac_over_kfac'] > 0
    assert summary['penalty_over_matmul'] > 0
    rows = loaded['collect']['rows']
    assert {r['config'] for r in rows if r['library'] == 'mmdl'} == CONFIGS
    for row in rows:
        assert 0 < row['min'] <= row['median'] <= row['max']
    assert set(loaded['xkfac']) == {'mlp_bn', 'cnn_bn'}
    for key in ('matmul', 'kfac', 'xkfac_matmul', 'xkfac'):
        assert loaded['penalty'][key]['median'] > 0
    assert loaded['penalty']['layers'] == 3
    assert set(loaded['peers']) == set(bench.PEERS)


def test_missing_peers_are_skipped(monkeypatch, capsys):
    _hide(monkeypatch, 'curvlinops', 'backpack')
    result = bench.main(TINY)
    assert result['peers'] == {'curvlinops': None, 'backpack': None}
    assert {r['library'] for r in result['collect']['rows']} == {'mmdl'}
    assert result['collect']['ratios'] == {}
    assert set(result['collect']['skipped']) == {'curvlinops', 'backpack'}
    for peer in ('curvlinops', 'backpack'):
        assert 'skipped' in result['cross_check'][peer]
    summary = result['summary']
    assert summary['collect_over_peer'] is None
    assert summary['verdicts']['collect_over_peer'] == 'SKIP'
    assert 'skipped' in summary['collect_over_peer_config']
    # the mmdl-only measurements still run
    assert summary['xkfac_over_kfac'] > 0
    assert summary['penalty_over_matmul'] > 0
    assert 'SKIP' in capsys.readouterr().out


def test_one_missing_peer_is_skipped(monkeypatch):
    _hide(monkeypatch, 'backpack')
    result = bench.main(TINY + ['--peers', 'backpack'])
    assert result['peers'] == {'backpack': None}
    assert {r['library'] for r in result['collect']['rows']} == {'mmdl'}
    assert result['summary']['collect_over_peer'] is None


def test_cross_check_matches_curvlinops():
    pytest.importorskip('curvlinops')
    check = bench.cross_check(['curvlinops'])['curvlinops']
    assert set(check) == {'true_A', 'true_G', 'empirical_A', 'empirical_G'}
    for value in check.values():
        assert value < 1e-10


def test_cross_check_matches_backpack():
    pytest.importorskip('backpack')
    check = bench.cross_check(['backpack'])['backpack']
    assert check['true_A'] < 1e-10


def test_peer_ratio_uses_like_for_like_peers():
    pytest.importorskip('curvlinops')
    pytest.importorskip('backpack')
    result = bench.main(TINY)
    ratios = result['collect']['ratios']
    assert set(ratios) == CONFIGS
    # BackPACK's convolution factors are another approximation
    assert ratios['cnn/true']['peers'] == ['curvlinops']
    assert sorted(ratios['mlp/true']['peers']) == ['backpack', 'curvlinops']
    assert result['summary']['collect_over_peer'] == max(
        r['value'] for r in ratios.values())


def test_time_round_robin_rotates_and_extends():
    calls = []
    fns = {name: (lambda name=name: calls.append(name)) for name in 'abc'}
    times, _ = bench.time_round_robin(fns, repeats=3, warmup=0)
    assert calls == list('abcbcacab')
    assert all(len(t) == 3 for t in times.values())
    times, _ = bench.time_round_robin(
        fns, repeats=1, warmup=1, min_time=1e3, max_repeats=5)
    assert all(len(t) == 5 for t in times.values())


def test_random_factors_and_step_overhead():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 4, 3, bias=False), nn.ReLU(), nn.Flatten(),
        nn.Linear(4 * 4 * 4, 5))
    factors = bench.random_factors(model)
    assert factors['0'].a.shape == (27, 27)  # no bias
    assert factors['3'].a.shape == (65, 65)
    assert factors['3'].g.shape == (5, 5)
    for f in factors.values():
        assert torch.linalg.eigvalsh(f.a).min() > 0
    before = model[0].weight.detach().clone()
    out = bench.measure_step_overhead(
        model,
        torch.randn(2, 3, 6, 6),
        torch.tensor([0, 1]),
        repeats=1,
        warmup=0,
        factors=factors)
    assert out['plain']['median'] > 0 and out['penalty']['median'] > 0
    assert out['overhead']['value'] == pytest.approx(out['penalty']['median'] /
                                                     out['plain']['median'] -
                                                     1)
    assert not torch.equal(before, model[0].weight)
