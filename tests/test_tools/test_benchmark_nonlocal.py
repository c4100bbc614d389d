# Copyright (c) mmdl contributors. All rights reserved.
"""Smoke test of tools/analysis_tools/benchmark_nonlocal.py (structure and
the memory measurement, not the timing targets)."""
import importlib.util
import json
import os.path as osp

import pytest
import torch
from conftest import REPO_ROOT

spec = importlib.util.spec_from_file_location(
    'benchmark_nonlocal',
    osp.join(REPO_ROOT, 'tools', 'analysis_tools', 'benchmark_nonlocal.py'))
bench = importlib.util.module_from_spec(spec)
spec.loader.exec_module(bench)

VARIANTS = ['mmcv', 'scaled_map', 'scaled_auto_h1', 'scaled_auto_h8']
TINY = ['--channels', '32', '--repeats', '1', '--warmup', '0']
MB4 = 1000 * 1000 * 4  # bytes of a 1000 x 1000 float32 tensor


def _ones():
    torch.ones(1000, 1000)


def _two_alive():
    a = torch.ones(1000, 1000)
    b = a * 2
    return b


def _one_at_a_time():
    for _ in range(5):
        torch.ones(1000, 1000)


def test_peak_cpu_memory_known_cases():
    assert MB4 <= bench.peak_cpu_memory(_ones) < MB4 + 10000
    assert 2 * MB4 <= bench.peak_cpu_memory(_two_alive) < 2 * MB4 + 10000
    # Frees are accounted for: five tensors in turn peak at one.
    assert MB4 <= bench.peak_cpu_memory(_one_at_a_time) < MB4 + 10000
    assert bench.peak_cpu_memory(lambda: None) < 10000


def test_peak_cpu_memory_ignores_blocks_from_before():
    held = [torch.ones(2000, 2000)]  # 16 MB, freed inside the window

    def free_then_allocate():
        held.clear()
        torch.ones(1000, 1000)

    assert MB4 <= bench.peak_cpu_memory(free_then_allocate) < MB4 + 10000


def test_peak_cpu_memory_counts_autograd():
    x = torch.ones(1000, 1000, requires_grad=True)

    def step():
        y = x * 2  # 4 MB, alive during backward
        y.sum().backward()  # x.grad: 4 MB

    peak = bench.peak_cpu_memory(step)
    assert 2 * MB4 <= peak < 2 * MB4 + 10000
    assert x.grad is not None


def test_estimate_and_order():
    variants = {v.key: v for v in bench.make_variants(256)}
    assert [v.width for v in variants.values()] == [128] * 4
    h8 = variants['scaled_auto_h8']
    assert (h8.num_heads, h8.embed_channels) == (8, 16)
    gib = 2**30
    assert bench.estimate_map_bytes(variants['mmcv'], 128, 2) == 6 * gib
    assert bench.estimate_map_bytes(variants['scaled_map'], 128, 2) == 4 * gib
    assert bench.estimate_map_bytes(variants['scaled_auto_h1'], 128, 2) == 0
    assert bench.resolved_order(variants['scaled_auto_h1'], 16 * 16) == \
        'channel'
    # Fewer positions than embedding channels: the map is cheaper.
    assert bench.resolved_order(variants['scaled_auto_h1'], 8 * 8) == 'map'


def test_main_tiny_grid(tmp_path, capsys):
    path = tmp_path / 'sub' / 'bench.json'
    report = bench.main(['--sizes', '8', '16', '--json', str(path)] + TINY)
    out = capsys.readouterr().out

    with open(path) as f:
        saved = json.load(f)
    assert saved == json.loads(json.dumps(report))
    for key in ('device', 'torch', 'threads', 'batch', 'channels', 'results',
                'summary', 'memory_method', 'timing_spread'):
        assert key in saved
    assert saved['batch'] == 2 and saved['channels'] == 32
    assert saved['threads'] == torch.get_num_threads()

    results = saved['results']
    assert [(r['size'], r['variant']) for r in results] == \
        [(s, v) for s in (8, 16) for v in VARIANTS]
    for r in results:
        assert r['skipped'] is None
        assert r['time_ms'] > 0 and len(r['times_ms']) == 1
        assert r['min_ms'] == r['time_ms'] == r['times_ms'][0]
        assert r['peak_bytes'] > 0
        assert r['total_width'] == 16
        assert r['positions'] == r['size']**2
    at16 = {r['variant']: r for r in results if r['size'] == 16}
    assert at16['mmcv']['speedup_vs_mmcv'] == pytest.approx(1.0)
    assert at16['mmcv']['memory_ratio_vs_mmcv'] == pytest.approx(1.0)
    assert (at16['scaled_auto_h8']['num_heads'],
            at16['scaled_auto_h8']['embed_channels']) == (8, 2)
    assert [at16[v]['order'] for v in VARIANTS] == \
        ['map', 'map', 'channel', 'channel']
    # Memory is deterministic: mmcv keeps 3 maps of 2 x 256 x 256 floats.
    maps = 2 * 256 * 256 * 4
    assert at16['mmcv']['peak_bytes'] >= 3 * maps
    assert at16['scaled_map']['peak_bytes'] >= 2 * maps
    assert at16['scaled_auto_h1']['peak_bytes'] < \
        at16['mmcv']['peak_bytes'] / 2

    # The 64 x 64 summary was not measured: N/A and targets not met.
    summary = saved['summary']
    for key in ('speedup_64', 'memory_ratio_64', 'heads8_over_heads1'):
        assert summary[key] is None and summary['checks'][key] is None
    assert summary['targets_met'] is False
    at16_summary = bench.summarize(results, size=16)
    assert at16_summary['speedup_64'] == pytest.approx(
        at16['mmcv']['time_ms'] / at16['scaled_auto_h1']['time_ms'])
    assert at16_summary['memory_ratio_64'] == pytest.approx(
        at16['scaled_auto_h1']['peak_bytes'] / at16['mmcv']['peak_bytes'])
    assert at16_summary['heads8_over_heads1'] == pytest.approx(
        at16['scaled_auto_h8']['time_ms'] / at16['scaled_auto_h1']['time_ms'])
    assert at16_summary['checks']['memory_ratio_64'] is (
        at16_summary['memory_ratio_64'] <= 0.1)

    for text in ('time ms', 'peak MiB', 'speedup', 'mem ratio',
                 'mmcv NonLocal2d embedded_gaussian', "order='map'",
                 '1 x 16 = 16', '8 x 2 = 16',
                 'equal width 16: 8 heads over 1 head',
                 'summary at 64x64, C=32, batch 2', 'speedup_64',
                 'memory_ratio_64', 'heads8_over_heads1', 'N/A',
                 'targets met: NO', f'wrote {path}'):
        assert text in out, text


def test_main_skips_large_maps(capsys):
    report = bench.main(['--sizes', '16', '--max-mem-gib', '0.0001'] + TINY)
    out = capsys.readouterr().out
    by_key = {r['variant']: r for r in report['results']}
    for key in ('mmcv', 'scaled_map'):
        assert by_key[key]['skipped'].startswith('skipped: estimated memory')
        assert by_key[key]['time_ms'] is None
    for key in ('scaled_auto_h1', 'scaled_auto_h8'):
        assert by_key[key]['skipped'] is None
        assert by_key[key]['time_ms'] > 0
        assert by_key[key]['speedup_vs_mmcv'] is None
    assert 'skipped: estimated memory' in out
    assert '> --max-mem-gib 0.0001' in out
