# Copyright (c) mmdl contributors. All rights reserved.
"""mmdl.utils.benchmark: interleaving order and times (fake clock and fake
work of known cost), statistics against numpy and an exact bootstrap
enumeration, the memory probe against known allocation sizes, CLI helpers
and the JSON writer. Nothing here depends on the real speed of the
machine."""
import argparse
import gc
import itertools
import json

import numpy as np
import pytest
import torch

from mmdl.utils import benchmark as bm

MB4 = 1000 * 1000 * 4  # bytes of a 1000 x 1000 float32 tensor
SLACK = 10000  # allocator bookkeeping of the profiler window


class FakeClock:
    """A clock that only moves when the fake work says so."""

    def __init__(self):
        self.now = 0.0
        self.load = 1.0  # a noisy neighbour multiplies every cost

    def __call__(self):
        return self.now

    def work(self, cost, log=None, name=None):

        def fn():
            self.now += cost * self.load
            if log is not None:
                log.append(name)
            return name

        return fn


def test_interleaved_order_and_times():
    clock, log = FakeClock(), []
    costs = dict(a=0.5, b=2.0, c=0.25)
    fns = {k: clock.work(c, log, k) for k, c in costs.items()}
    run = bm.time_interleaved(
        fns, repeats=4, warmup=1, clock=clock, collect_garbage=False)
    assert log[:3] == ['a', 'b', 'c']  # warm-up round, untimed
    assert run.order == list('abc'
                             'bca'
                             'cab'
                             'abc')
    assert log[3:] == run.order
    for name, cost in costs.items():
        assert run.times[name] == pytest.approx([cost] * 4)
    assert run.results == dict(a='a', b='b', c='c')


def test_two_variants_alternate():
    clock = FakeClock()
    run = bm.time_interleaved(
        dict(a=clock.work(1.0), b=clock.work(1.0)),
        repeats=5,
        warmup=0,
        clock=clock,
        collect_garbage=False)
    assert run.order == list('abbaabbaab')


def test_noisy_neighbour_hits_all_variants_alike():
    """The load changes from round to round: the times drift, the
    per-round ratio does not, and the bootstrap interval collapses onto
    it."""
    clock = FakeClock()
    loads = iter([1.0, 4.0, 2.0, 8.0, 1.5, 3.0])
    calls = {'n': 0}

    def setup():  # the first call of every round changes the load
        if calls['n'] % 2 == 0:
            clock.load = next(loads)
        calls['n'] += 1

    run = bm.time_interleaved(
        dict(a=clock.work(2.0), b=clock.work(3.0)),
        repeats=6,
        warmup=0,
        clock=clock,
        collect_garbage=False,
        setup=dict(a=setup, b=setup))
    assert run.times['a'] == pytest.approx([2.0, 8.0, 4.0, 16.0, 3.0, 6.0])
    per_round = np.array(run.times['b']) / np.array(run.times['a'])
    np.testing.assert_allclose(per_round, 1.5)
    stats = run.ratio('b', 'a')
    assert stats['value'] == pytest.approx(
        np.median(run.times['b']) / np.median(run.times['a']))
    assert stats['value'] == pytest.approx(1.5)
    assert stats['min'] == pytest.approx(1.5)
    assert stats['max'] == pytest.approx(1.5)
    assert stats['ci'] == pytest.approx([1.5, 1.5])


def test_garbage_collector_is_off_during_rounds():
    seen = []
    enabled = gc.isenabled()
    bm.time_interleaved(
        dict(a=lambda: seen.append(gc.isenabled())), repeats=2, warmup=0)
    assert seen == [False, False]
    assert gc.isenabled() == enabled


def test_setup_is_not_timed():
    clock, log = FakeClock(), []

    def setup():
        log.append('setup')
        clock.now += 100.0

    run = bm.time_interleaved(
        dict(a=clock.work(1.0, log, 'a')),
        repeats=3,
        warmup=1,
        setup=dict(a=setup),
        clock=clock,
        collect_garbage=False)
    assert run.times['a'] == [1.0, 1.0, 1.0]
    assert log == ['setup', 'a'] * 4


def test_min_time_extends_the_rounds():
    clock = FakeClock()
    fns = dict(a=clock.work(1.0), b=clock.work(1.0))  # 2 s per round
    run = bm.time_interleaved(
        fns,
        repeats=1,
        warmup=1,
        min_time=10.0,
        clock=clock,
        collect_garbage=False)
    assert len(run.times['a']) == 5
    run = bm.time_interleaved(
        fns,
        repeats=1,
        warmup=1,
        min_time=1e3,
        max_repeats=7,
        clock=clock,
        collect_garbage=False)
    assert len(run.times['a']) == 7
    run = bm.time_interleaved(
        fns,
        repeats=1,
        warmup=0,
        min_time=1e3,
        clock=clock,
        collect_garbage=False)
    assert len(run.times['a']) == 1  # no warm-up: nothing to judge by
    with pytest.raises(ValueError):
        bm.time_interleaved(fns, repeats=0, clock=clock, collect_garbage=False)


def test_cuda_synchronisation_brackets_the_timed_call(monkeypatch):
    log = []
    monkeypatch.setattr(
        torch.cuda, 'synchronize', lambda device=None: log.append('sync'))

    def clock():
        log.append('clock')
        return 0.0

    bm.time_interleaved(
        dict(a=lambda: log.append('fn')),
        repeats=1,
        warmup=0,
        device='cuda',
        clock=clock,
        collect_garbage=False)
    start = log.index('clock', 1)  # the first clock reads the warm-up start
    assert log[start - 1:] == ['sync', 'clock', 'fn', 'sync', 'clock']
    log.clear()
    bm.time_interleaved(
        dict(a=lambda: log.append('fn')),
        repeats=1,
        warmup=0,
        device='cpu',
        clock=clock,
        collect_garbage=False)
    assert 'sync' not in log


@pytest.mark.parametrize('n', [1, 2, 5, 8, 11])
def test_time_stats_against_numpy(n):
    times = np.random.default_rng(n).exponential(size=n).tolist()
    stats = bm.time_stats(times)
    assert stats['median'] == pytest.approx(np.median(times))
    q25, q75 = np.percentile(times, [25, 75])
    assert stats['q25'] == pytest.approx(q25)
    assert stats['q75'] == pytest.approx(q75)
    assert stats['iqr'] == pytest.approx(q75 - q25)
    assert stats['min'] == min(times) and stats['max'] == max(times)
    assert stats['times'] == times
    for q in (0.0, 0.1, 0.5, 0.9, 1.0):
        assert bm.quantile(times, q) == pytest.approx(np.quantile(times, q))


def test_to_measurement_agrees_with_numpy():
    times = [0.3, 0.1, 0.4, 0.15, 0.9, 0.2]
    m = bm.to_measurement(times, 'a', label='demo')
    assert m.median == pytest.approx(np.median(times))
    q25, q75 = np.percentile(times, [25, 75])
    assert m.iqr == pytest.approx(q75 - q25)
    assert m.task_spec.stmt == 'a' and m.task_spec.label == 'demo'


def test_ratio_stats_against_numpy():
    rng = np.random.default_rng(0)
    den = rng.uniform(1, 2, size=9)
    num = den * rng.uniform(1.1, 1.4, size=9)
    stats = bm.ratio_stats(num.tolist(), den.tolist())
    assert stats['value'] == pytest.approx(np.median(num) / np.median(den))
    rounds = num / den
    assert stats['min'] == pytest.approx(rounds.min())
    assert stats['max'] == pytest.approx(rounds.max())
    assert stats['q25'] == pytest.approx(np.percentile(rounds, 25))
    assert stats['q75'] == pytest.approx(np.percentile(rounds, 75))
    lo, hi = stats['ci']
    assert lo <= stats['value'] <= hi
    with pytest.raises(ValueError):
        bm.ratio_stats([1.0, 2.0], [1.0])


def test_bootstrap_interval_matches_exact_enumeration():
    """With 4 rounds all 4**4 paired resamples are equally likely: the
    interval's ends must sit at the 2.5 % and 97.5 % points of that exact
    bootstrap distribution."""
    num = np.array([1.0, 1.9, 3.7, 8.0])
    den = np.array([1.0, 1.3, 1.6, 2.9])
    exact = np.array([
        np.median(num[list(idx)]) / np.median(den[list(idx)])
        for idx in itertools.product(range(4), repeat=4)
    ])
    lo, hi = bm.bootstrap_ratio_interval(num, den, resamples=20000, seed=3)
    tol = 0.01
    assert np.mean(exact < lo) <= 0.025 + tol
    assert np.mean(exact <= lo) >= 0.025 - tol
    assert np.mean(exact > hi) <= 0.025 + tol
    assert np.mean(exact >= hi) >= 0.025 - tol
    # one round: nothing to resample
    assert bm.bootstrap_ratio_interval([2.0], [4.0]) == [0.5, 0.5]
    # reproducible
    assert bm.bootstrap_ratio_interval(num, den, seed=1) == \
        bm.bootstrap_ratio_interval(num, den, seed=1)


# ---------------------------------------------------------------- memory
def _ones():
    torch.ones(1000, 1000)


def _two_alive():
    a = torch.ones(1000, 1000)
    b = a * 2
    return b


def _one_at_a_time():
    for _ in range(5):
        torch.ones(1000, 1000)


@pytest.mark.parametrize('n', [1000, 250000, 1000000])
def test_peak_cpu_memory_of_n_float32(n):
    assert 4 * n <= bm.peak_cpu_memory(
        lambda: torch.empty(n, dtype=torch.float32)) < 4 * n + SLACK
    assert 8 * n <= bm.peak_memory(lambda: torch.empty(n, dtype=torch.float64),
                                   'cpu') < 8 * n + SLACK


def test_peak_cpu_memory_known_cases():
    assert MB4 <= bm.peak_cpu_memory(_ones) < MB4 + SLACK
    assert 2 * MB4 <= bm.peak_cpu_memory(_two_alive) < 2 * MB4 + SLACK
    # Frees are accounted for: five tensors in turn peak at one.
    assert MB4 <= bm.peak_cpu_memory(_one_at_a_time) < MB4 + SLACK
    assert bm.peak_cpu_memory(lambda: None) < SLACK


def test_peak_cpu_memory_ignores_blocks_from_before():
    held = [torch.ones(2000, 2000)]  # 16 MB, freed inside the window

    def free_then_allocate():
        held.clear()
        torch.ones(1000, 1000)

    assert MB4 <= bm.peak_cpu_memory(free_then_allocate) < MB4 + SLACK


def test_peak_cpu_memory_counts_autograd():
    x = torch.ones(1000, 1000, requires_grad=True)

    def step():
        y = x * 2  # 4 MB, alive during backward
        y.sum().backward()  # x.grad: 4 MB

    peak = bm.peak_cpu_memory(step)
    assert 2 * MB4 <= peak < 2 * MB4 + SLACK
    assert x.grad is not None


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_peak_cuda_memory_of_n_float32():
    n = 1 << 20
    peak = bm.peak_memory(lambda: torch.empty(n, device='cuda'), 'cuda')
    assert 4 * n <= peak < 4 * n + (1 << 20)


# ------------------------------------------------------ CLI and output
def test_benchmark_args_and_device():
    parser = bm.add_benchmark_args(
        argparse.ArgumentParser(), repeats=5, warmup=2, threads=1)
    args = parser.parse_args([])
    assert (args.device, args.json, args.repeats, args.warmup,
            args.threads) == ('cpu', None, 5, 2, 1)
    bm.check_benchmark_args(parser, args)
    for bad in (['--repeats', '0'], ['--warmup', '-1'], ['--device', 'xpu']):
        with pytest.raises(SystemExit):
            bm.check_benchmark_args(parser, parser.parse_args(bad))
    assert bm.get_device('cpu') == torch.device('cpu')
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match='CUDA is not available'):
            bm.get_device('cuda')
        with pytest.raises(SystemExit):
            bm.check_benchmark_args(parser,
                                    parser.parse_args(['--device', 'cuda']))


def test_num_threads_restores():
    before = torch.get_num_threads()
    with bm.num_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with bm.num_threads(0):
        assert torch.get_num_threads() == before


def test_machine_info():
    info = bm.machine_info('cpu')
    assert info['device'].startswith('cpu')
    assert info['threads'] == torch.get_num_threads()
    assert info['torch'] == torch.__version__


def test_write_json(tmp_path):
    path = tmp_path / 'a' / 'b.json'
    result = dict(summary=dict(x=1.5, y=None), rows=[1, 2])
    bm.write_json(str(path), result)
    assert json.loads(path.read_text()) == result
    with pytest.raises(KeyError, match='summary'):
        bm.write_json(str(tmp_path / 'c.json'), dict(rows=[]))
