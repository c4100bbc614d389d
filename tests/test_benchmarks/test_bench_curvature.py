# Copyright (c) mmdl contributors. All rights reserved.
"""mmdl.benchmarks.curvature: structure of the result, skipping of missing
peers, the factor cross-check and the summary's selection of the worst
configuration (not the timing targets). Passes without the optional peers
(curvlinops, BackPACK)."""
import sys

import pytest
import torch
from torch import nn

from mmdl.benchmarks import curvature as bench

TINY = dict(
    batches=2,
    batch_size=8,
    width=16,
    channels=4,
    repeats=2,
    warmup=0,
    min_time=0.0,
    skip_resnet=True)
CONFIGS = {'mlp/true', 'mlp/empirical', 'cnn/true', 'cnn/empirical'}


@pytest.fixture(autouse=True)
def one_thread():
    """One thread, as the benchmark by default: on a loaded 2-core machine
    two threads that wait for each other make tiny kernels very slow."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope='module')
def tiny_result():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return bench.run_benchmark(bench.CurvatureBenchmarkConfig(**TINY))
    finally:
        torch.set_num_threads(threads)


def _hide(monkeypatch, *names):
    """Make ``import name`` raise ImportError, as if not installed."""
    for name in names:
        monkeypatch.setitem(sys.modules, name, None)


def _check_ratio(r):
    assert r['min'] <= r['q25'] <= r['q75'] <= r['max']
    lo, hi = r['ci']
    assert lo <= r['value'] <= hi


def test_result_structure(tiny_result):
    result = tiny_result
    assert result['config']['device'] == 'cpu'
    assert result['config']['threads'] == 1
    summary = result['summary']
    for key in ('collect_over_peer', 'xkfac_over_kfac', 'penalty_over_matmul',
                'penalty_step_overhead'):
        assert key in summary and key in summary['intervals']
    assert summary['penalty_step_overhead'] is None  # skip_resnet
    assert summary['intervals']['penalty_step_overhead'] is None
    assert result['resnet50'] == {'skipped': '--skip-resnet'}
    assert summary['targets'] == bench.TARGETS
    for key, target in bench.TARGETS.items():
        value = summary[key]
        expected = ('SKIP' if value is None else
                    'PASS' if value <= target else 'FAIL')
        assert summary['verdicts'][key] == expected
    rows = result['collect']['rows']
    assert {r['config'] for r in rows if r['library'] == 'mmdl'} == CONFIGS
    for row in rows:
        assert 0 < row['min'] <= row['q25'] <= row['median'] <= row['q75'] \
            <= row['max']
        assert len(row['times']) == TINY['repeats']
    assert set(result['xkfac']) == {'mlp_bn', 'cnn_bn'}
    for r in result['xkfac'].values():
        _check_ratio(r['ratio'])
        assert r['ratio']['value'] == pytest.approx(r['xkfac']['median'] /
                                                    r['kfac']['median'])
    pen = result['penalty']
    for key in ('matmul', 'kfac', 'xkfac_matmul', 'xkfac'):
        assert pen[key]['median'] > 0
    assert pen['kfac_over_matmul']['value'] == pytest.approx(
        pen['kfac']['median'] / pen['matmul']['median'])
    assert pen['layers'] == 3
    # 784-16-16-10 with biases: 2 * C_out * D_in * (C_out + D_in) per layer
    dims = [(16, 785), (16, 17), (10, 17)]
    assert pen['gflop'] == pytest.approx(
        sum(2 * c * d * (c + d) for c, d in dims) / 1e9)
    assert set(result['peers']) == set(bench.PEERS)
    assert 'Summary' in bench.format_report(result)


def test_summary_takes_the_worst_configuration():

    def ratio(value):
        return dict(
            value=value,
            min=value,
            q25=value,
            q75=value,
            max=value,
            ci=[value - 0.1, value + 0.1])

    result = dict(
        collect=dict(
            ratios={
                'mlp/true': dict(ratio(0.8), best_peer='curvlinops'),
                'cnn/true': dict(ratio(0.95), best_peer='curvlinops')
            }),
        xkfac=dict(
            mlp_bn=dict(ratio=ratio(1.2)), cnn_bn=dict(ratio=ratio(1.0))),
        penalty=dict(kfac_over_matmul=ratio(1.1)),
        resnet50=dict(
            penalty=dict(kfac_over_matmul=ratio(1.4)),
            step=dict(overhead=ratio(0.05))))
    summary = bench.summarize(result)
    assert summary['collect_over_peer'] == 0.95
    assert summary['collect_over_peer_config'] == 'cnn/true'
    assert summary['xkfac_over_kfac'] == 1.2
    assert summary['xkfac_over_kfac_config'] == 'mlp_bn'
    assert summary['penalty_over_matmul'] == 1.4
    assert summary['penalty_over_matmul_config'] == 'resnet50'
    assert summary['penalty_step_overhead'] == 0.05
    assert summary['intervals']['xkfac_over_kfac'] == pytest.approx([1.1, 1.3])
    assert summary['verdicts'] == dict(
        collect_over_peer='PASS',
        xkfac_over_kfac='FAIL',
        penalty_over_matmul='FAIL')


def test_missing_peers_are_skipped(monkeypatch):
    _hide(monkeypatch, 'curvlinops', 'backpack')
    assert bench.peer_versions() == {'curvlinops': None, 'backpack': None}
    cfg = bench.CurvatureBenchmarkConfig(**TINY)
    collect = bench.bench_collect(cfg)
    assert {r['library'] for r in collect['rows']} == {'mmdl'}
    assert collect['ratios'] == {}
    assert set(collect['skipped']) == {'curvlinops', 'backpack'}
    for peer, check in bench.cross_check().items():
        assert 'skipped' in check
    result = dict(
        collect=collect,
        xkfac=dict(mlp_bn=dict(ratio=dict(value=1.0, ci=[1.0, 1.0]))),
        penalty=dict(kfac_over_matmul=dict(value=1.0, ci=[1.0, 1.0])),
        resnet50=dict(skipped='--skip-resnet'))
    summary = bench.summarize(result)
    assert summary['collect_over_peer'] is None
    assert summary['verdicts']['collect_over_peer'] == 'SKIP'
    assert 'skipped' in summary['collect_over_peer_config']


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


def test_peer_ratio_uses_like_for_like_peers(tiny_result):
    pytest.importorskip('curvlinops')
    pytest.importorskip('backpack')
    ratios = tiny_result['collect']['ratios']
    assert set(ratios) == CONFIGS
    # BackPACK's convolution factors are another approximation
    assert ratios['cnn/true']['peers'] == ['curvlinops']
    assert sorted(ratios['mlp/true']['peers']) == ['backpack', 'curvlinops']
    assert tiny_result['summary']['collect_over_peer'] == max(
        r['value'] for r in ratios.values())
    for r in ratios.values():
        _check_ratio(r)
        assert r['value'] == pytest.approx(r['mmdl'] / r['best_peer_time'])


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
        repeats=3,
        warmup=0,
        factors=factors)
    plain, pen = out['plain'], out['penalty']
    assert plain['median'] > 0 and pen['median'] > 0
    overhead = out['overhead']
    assert overhead['value'] == pytest.approx(pen['median'] / plain['median'] -
                                              1)
    rounds = [p / q - 1 for p, q in zip(pen['times'], plain['times'])]
    assert overhead['min'] == pytest.approx(min(rounds))
    assert overhead['max'] == pytest.approx(max(rounds))
    assert overhead['ci'][0] <= overhead['value'] <= overhead['ci'][1]
    assert not torch.equal(before, model[0].weight)
