# Copyright (c) mmdl contributors. All rights reserved.
"""mmdl.benchmarks.non_local: the module list, the shared-layers stand-in,
memory of the N x N maps, the summary and its ceiling (not the timing
targets)."""
import pytest
import torch
import torch.nn.functional as F

from mmdl.benchmarks import non_local as bench
from mmdl.models.plugins import ScaledNonLocal2d

VARIANTS = [
    'mmcv', 'scaled_map', 'scaled_auto_h1', 'scaled_auto_h8', 'shared_layers'
]


@pytest.fixture(scope='module')
def tiny_report():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return bench.run_benchmark(
            bench.NonLocalBenchmarkConfig(
                sizes=[8, 16], channels=32, repeats=2, warmup=0),
            log=None)
    finally:
        torch.set_num_threads(threads)


def test_estimate_and_order():
    variants = {v.key: v for v in bench.make_variants(256)}
    assert list(variants) == VARIANTS
    assert [v.width for v in variants.values()] == [128] * 5
    h8 = variants['scaled_auto_h8']
    assert (h8.num_heads, h8.embed_channels) == (8, 16)
    gib = 2**30
    assert bench.estimate_map_bytes(variants['mmcv'], 128, 2) == 6 * gib
    assert bench.estimate_map_bytes(variants['scaled_map'], 128, 2) == 4 * gib
    assert bench.estimate_map_bytes(variants['scaled_auto_h1'], 128, 2) == 0
    assert bench.estimate_map_bytes(variants['shared_layers'], 128, 2) == 0
    assert bench.resolved_order(variants['scaled_auto_h1'], 16 * 16) == \
        'channel'
    # Fewer positions than embedding channels: the map is cheaper.
    assert bench.resolved_order(variants['scaled_auto_h1'], 8 * 8) == 'map'
    with pytest.raises(ValueError):
        bench.make_variants(256, heads=3)


def test_shared_layers_runs_the_four_convolutions_and_the_norm():
    torch.manual_seed(0)
    block = ScaledNonLocal2d(8, embed_channels=4).train()
    for p in block.parameters():  # non-zero gamma/beta and weights
        torch.nn.init.normal_(p)
    layers = bench.SharedLayers(block)
    x = torch.randn(2, 8, 5, 5, requires_grad=True)
    out = layers(x)
    w = lambda conv: conv.weight  # noqa: E731
    g = F.conv2d(x, w(block.g))
    z = F.batch_norm(
        F.conv2d(g, w(block.conv_out)),
        None,
        None,
        block.norm.weight,
        block.norm.bias,
        training=True,
        eps=block.norm.eps)
    tie = F.conv2d(x, w(block.theta)).sum() + F.conv2d(x, w(block.phi)).sum()
    torch.testing.assert_close(out, x + z + tie)
    out.sum().backward()
    for module in (block.theta, block.phi, block.g, block.conv_out,
                   block.norm):
        assert module.weight.grad is not None
        assert module.weight.grad.abs().sum() > 0
    assert x.grad is not None
    # the layers are shared with the block, not copied
    assert layers.theta is block.theta and layers.norm is block.norm


def test_tiny_grid(tiny_report):
    report = tiny_report
    for key in ('device', 'torch', 'threads', 'batch', 'channels', 'results',
                'summary', 'memory_method', 'timing_spread', 'load_before',
                'load_after'):
        assert key in report
    assert report['batch'] == 2 and report['channels'] == 32
    assert report['threads'] == 1
    results = report['results']
    assert [(r['size'], r['variant']) for r in results] == \
        [(s, v) for s in (8, 16) for v in VARIANTS]
    for r in results:
        assert r['skipped'] is None
        assert len(r['times_ms']) == 2
        assert r['min_ms'] <= r['q25_ms'] <= r['time_ms'] <= r['q75_ms']
        assert r['time_ms'] == pytest.approx(sum(r['times_ms']) / 2)
        assert r['peak_bytes'] > 0
        assert r['total_width'] == 16
        assert r['positions'] == r['size']**2
    at16 = {r['variant']: r for r in results if r['size'] == 16}
    assert at16['mmcv']['speedup_vs_mmcv'] == pytest.approx(1.0)
    assert at16['mmcv']['memory_ratio_vs_mmcv'] == pytest.approx(1.0)
    assert (at16['scaled_auto_h8']['num_heads'],
            at16['scaled_auto_h8']['embed_channels']) == (8, 2)
    assert [at16[v]['order'] for v in VARIANTS] == \
        ['map', 'map', 'channel', 'channel', 'none']
    # Memory is deterministic: mmcv keeps 3 maps of 2 x 256 x 256 floats.
    maps = 2 * 256 * 256 * 4
    assert at16['mmcv']['peak_bytes'] >= 3 * maps
    assert at16['scaled_map']['peak_bytes'] >= 2 * maps
    assert at16['scaled_auto_h1']['peak_bytes'] < \
        at16['mmcv']['peak_bytes'] / 2
    # The shared layers hold at least the input of BN and the output:
    # 2 x 32 x 256 floats each; no more than the block that also has them.
    assert at16['shared_layers']['peak_bytes'] >= 2 * (2 * 32 * 256 * 4)
    assert at16['shared_layers']['peak_bytes'] <= \
        at16['scaled_auto_h1']['peak_bytes']

    # The 64 x 64 summary was not measured: N/A and targets not met.
    summary = report['summary']
    for key in bench.TARGETS:
        assert summary[key] is None and summary['checks'][key] is None
    assert summary['targets_met'] is False
    assert summary['reachable_targets_met'] is False

    s16 = bench.summarize(results, size=16)
    t = {k: r['time_ms'] for k, r in at16.items()}
    m = {k: r['peak_bytes'] for k, r in at16.items()}
    assert s16['speedup_64'] == pytest.approx(t['mmcv'] / t['scaled_auto_h1'])
    assert s16['memory_ratio_64'] == pytest.approx(m['scaled_auto_h1'] /
                                                   m['mmcv'])
    assert s16['heads8_over_heads1'] == pytest.approx(t['scaled_auto_h8'] /
                                                      t['scaled_auto_h1'])
    assert s16['ceiling_64'] == pytest.approx(t['mmcv'] / t['shared_layers'])
    assert s16['share_of_ceiling_64'] == pytest.approx(t['shared_layers'] /
                                                       t['scaled_auto_h1'])
    assert s16['mem_ceiling_64'] == pytest.approx(m['shared_layers'] /
                                                  m['mmcv'])
    assert s16['share_of_mem_ceiling_64'] == pytest.approx(m['shared_layers'] /
                                                           m['scaled_auto_h1'])
    for key, (lo, hi) in s16['intervals'].items():
        assert lo <= s16[key] * (1 + 1e-9) and s16[key] <= hi * (1 + 1e-9)
    assert s16['checks']['memory_ratio_64'] is (s16['memory_ratio_64'] <= 0.1)

    table = bench.format_table(results)
    text = bench.format_summary(summary, 2, 32)
    for piece in ('time ms', 'IQR ms', 'peak MiB', 'speedup', 'mem ratio',
                  'mmcv NonLocal2d embedded_gaussian', "order='map'",
                  '1 x 16 = 16', '8 x 2 = 16', '4 1x1 convs + BN',
                  'equal width 16: 8 heads over 1 head'):
        assert piece in table, piece
    for piece in ('summary at 64x64, C=32, batch 2', 'speedup_64',
                  'share_of_ceiling_64', 'share_of_mem_ceiling_64', 'N/A',
                  'targets met: NO'):
        assert piece in text, piece


def _record(variant, time_ms, peak):
    return dict(
        size=64,
        variant=variant,
        time_ms=time_ms,
        times_ms=[time_ms] * 3,
        peak_bytes=peak,
        skipped=None)


def test_summary_against_the_ceiling():
    """Known numbers: mmcv 600 ms / 400 MB, the 1-head block 75 ms /
    56 MB, 8 heads 60 ms, the shared layers 60 ms / 48 MB."""
    results = [
        _record('mmcv', 600.0, 400e6),
        _record('scaled_auto_h1', 75.0, 56e6),
        _record('scaled_auto_h8', 60.0, 56e6),
        _record('shared_layers', 60.0, 48e6)
    ]
    s = bench.summarize(results)
    assert s['speedup_64'] == pytest.approx(8.0)
    assert s['ceiling_64'] == pytest.approx(10.0)
    assert s['share_of_ceiling_64'] == pytest.approx(0.8)
    assert s['memory_ratio_64'] == pytest.approx(0.14)
    assert s['mem_ceiling_64'] == pytest.approx(0.12)
    assert s['share_of_mem_ceiling_64'] == pytest.approx(0.12 / 0.14)
    assert s['heads8_over_heads1'] == pytest.approx(0.8)
    assert s['checks'] == dict(
        speedup_64=False,
        memory_ratio_64=False,
        heads8_over_heads1=True,
        share_of_ceiling_64=True,
        share_of_mem_ceiling_64=True)
    assert s['targets_met'] is False
    assert s['reachable_targets_met'] is True
    assert s['intervals']['share_of_ceiling_64'] == pytest.approx([0.8, 0.8])
    assert s['targets']['share_of_ceiling_64'] == '>= 0.75'
    # a block at 70 % of what is reachable fails the ceiling target
    results[1] = _record('scaled_auto_h1', 60.0 / 0.7, 56e6)
    s = bench.summarize(results)
    assert s['share_of_ceiling_64'] == pytest.approx(0.7)
    assert s['checks']['share_of_ceiling_64'] is False
    assert s['reachable_targets_met'] is False


def test_skips_large_maps():
    variants = bench.make_variants(32)
    records = bench.benchmark_size(
        variants,
        16,
        2,
        32,
        torch.device('cpu'),
        warmup=0,
        repeats=1,
        max_mem_gib=0.0001)
    by_key = {r['variant']: r for r in records}
    for key in ('mmcv', 'scaled_map'):
        assert by_key[key]['skipped'].startswith('skipped: estimated memory')
        assert '> --max-mem-gib 0.0001' in by_key[key]['skipped']
        assert by_key[key]['time_ms'] is None
    for key in ('scaled_auto_h1', 'scaled_auto_h8', 'shared_layers'):
        assert by_key[key]['skipped'] is None
        assert by_key[key]['time_ms'] > 0
        assert by_key[key]['speedup_vs_mmcv'] is None
