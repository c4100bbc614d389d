# Copyright (c) mmdl contributors. All rights reserved.
"""A small harness for side-by-side benchmarks.

* **Interleaved timing** (:func:`time_interleaved`): the variants of one
  comparison run in rounds, one call of each per round, and the first
  variant rotates from round to round (``ABC, BCA, CAB, ...``; two variants
  give ``AB, BA, AB, ...``). A change of machine load during the run (a
  noisy neighbour) then hits every variant alike, and the per-round ratios
  stay meaningful even when the absolute times drift. The garbage collector
  runs once before each round and is off during the round, as in
  :mod:`timeit`. On CUDA the device is synchronised before and after every
  timed call.
* **Statistics** (:func:`time_stats`, :func:`ratio_stats`): medians and
  quartiles (linear interpolation, the definition of
  :class:`torch.utils.benchmark.Measurement`; :func:`to_measurement` turns
  a list of times into one), the range, and for a ratio of two interleaved
  variants a paired bootstrap interval of the ratio of the medians.
* **Peak memory** (:func:`peak_memory`): the largest amount of tensor memory
  allocated while a function runs beyond what existed before it; on CUDA
  from ``torch.cuda.max_memory_allocated``, on the CPU (where PyTorch keeps
  no peak) from the allocation events of ``torch.profiler``.
* **Command line and output**: :func:`add_benchmark_args` (``--device``,
  ``--json``, ``--repeats``, ``--warmup``, ``--threads``), :func:`get_device`,
  :func:`num_threads`, :func:`machine_info`, :func:`ratio_summary` and
  :func:`summary_lines` (a ``summary`` of ratios against targets and its
  report lines) and :func:`write_json` (a JSON file with a top-level
  ``summary``).
"""
import argparse
import contextlib
import gc
import json
import math
import os
import os.path as osp
import statistics
import time
from dataclasses import dataclass, field
from typing import (Any, Callable, Dict, Iterator, List, Mapping, Optional,
                    Sequence, Union)

import numpy as np
import torch
from torch.profiler import ProfilerActivity, profile

Clock = Callable[[], float]
Device = Union[str, torch.device]

MEMORY_METHOD = {
    'cpu': ('torch.profiler allocation events: peak of the bytes allocated '
            'inside the step and still alive'),
    'cuda': ('torch.cuda.max_memory_allocated after reset_peak_memory_stats, '
             'minus the memory allocated before the step'),
}


# ------------------------------------------------------------- devices
def get_device(name: Device) -> torch.device:
    """The device for a ``--device`` value, checked to be usable.

    Args:
        name (str | torch.device): ``'cpu'``, ``'cuda'`` or ``'cuda:i'``.

    Returns:
        torch.device: The device.

    Raises:
        ValueError: A CUDA device is asked for and CUDA is not available,
            or the device type is neither CPU nor CUDA.
    """
    device = torch.device(name)
    if device.type == 'cuda' and not torch.cuda.is_available():
        raise ValueError(f'--device {name}: CUDA is not available')
    if device.type not in ('cpu', 'cuda'):
        raise ValueError(f'--device {name}: only cpu and cuda are supported')
    return device


def synchronize(device: Optional[Device] = None) -> None:
    """Wait for the queued work of a CUDA device; nothing on the CPU."""
    if device is not None and torch.device(device).type == 'cuda':
        torch.cuda.synchronize(device)


def device_name(device: Device) -> str:
    """A readable name: the GPU model, or the CPU with its core count."""
    device = torch.device(device)
    if device.type == 'cuda':
        return torch.cuda.get_device_name(device)
    return f'cpu ({os.cpu_count()} logical cores)'


def load_average() -> Optional[List[float]]:
    """1, 5 and 15 minute load averages, None where the OS has none."""
    try:
        return list(os.getloadavg())
    except (AttributeError, OSError):
        return None


def machine_info(device: Device) -> Dict[str, Any]:
    """Where a benchmark ran: ``device`` (name), ``torch`` (version),
    ``threads``, ``cpus`` and ``load`` (see :func:`load_average`)."""
    return dict(
        device=device_name(device),
        torch=torch.__version__,
        threads=torch.get_num_threads(),
        cpus=os.cpu_count(),
        load=load_average())


@contextlib.contextmanager
def num_threads(threads: int) -> Iterator[None]:
    """Run with ``torch.set_num_threads(threads)`` and restore the previous
    count afterwards; ``threads`` 0 keeps the current count."""
    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def add_benchmark_args(parser: argparse.ArgumentParser,
                       repeats: int,
                       warmup: int,
                       threads: int = 0) -> argparse.ArgumentParser:
    """Add the options every benchmark script shares.

    ``--device`` (default ``'cpu'``; ``'cuda[:i]'`` runs the same
    measurements on a GPU), ``--json`` (output file), ``--repeats`` (timed
    rounds), ``--warmup`` (untimed calls of each variant first) and
    ``--threads`` (``torch.set_num_threads``; 0 keeps torch's default).

    Args:
        parser (argparse.ArgumentParser): The script's parser.
        repeats (int): Default of ``--repeats``.
        warmup (int): Default of ``--warmup``.
        threads (int): Default of ``--threads``. Defaults to 0.

    Returns:
        argparse.ArgumentParser: ``parser``.
    """
    parser.add_argument(
        '--device', default='cpu', help="'cpu' or 'cuda[:i]' (default: cpu)")
    parser.add_argument('--json', help='write the results as JSON here')
    parser.add_argument(
        '--repeats',
        type=int,
        default=repeats,
        help=f'timed rounds (default: {repeats})')
    parser.add_argument(
        '--warmup',
        type=int,
        default=warmup,
        help=f'untimed calls of each variant first (default: {warmup})')
    parser.add_argument(
        '--threads',
        type=int,
        default=threads,
        help=f'torch.set_num_threads; 0 keeps torch\'s default (default: '
        f'{threads})')
    return parser


def check_benchmark_args(parser: argparse.ArgumentParser,
                         args: argparse.Namespace) -> None:
    """Exit through ``parser.error`` on bad shared options (see
    :func:`add_benchmark_args`)."""
    if args.repeats < 1 or args.warmup < 0 or args.threads < 0:
        parser.error('--repeats must be >= 1, --warmup and --threads >= 0')
    try:
        get_device(args.device)
    except (RuntimeError, ValueError) as error:
        parser.error(str(error))


# -------------------------------------------------------------- timing
@dataclass
class Interleaved:
    """Times of an interleaved run (see :func:`time_interleaved`).

    Attributes:
        times (dict): Variant name to its times in seconds, one per round.
        results (dict): Variant name to the value of its last call.
        order (list[str]): The variants in the order they were timed.
    """

    times: Dict[str, List[float]] = field(default_factory=dict)
    results: Dict[str, Any] = field(default_factory=dict)
    order: List[str] = field(default_factory=list)

    def stats(self, name: str) -> Dict[str, Any]:
        """:func:`time_stats` of one variant."""
        return time_stats(self.times[name])

    def ratio(self, num: str, den: str, **kwargs) -> Dict[str, Any]:
        """:func:`ratio_stats` of variant ``num`` over variant ``den``."""
        return ratio_stats(self.times[num], self.times[den], **kwargs)


def time_interleaved(fns: Mapping[str, Callable[[], Any]],
                     repeats: int,
                     warmup: int = 1,
                     min_time: float = 0.0,
                     max_repeats: int = 100,
                     setup: Optional[Mapping[str, Callable[[], Any]]] = None,
                     device: Optional[Device] = None,
                     clock: Clock = time.perf_counter,
                     collect_garbage: bool = True) -> Interleaved:
    """Time functions in interleaved rounds.

    Every function first runs ``warmup`` times untimed (in rounds as well).
    Then round ``i`` calls every function once, starting with the function
    at position ``i mod len(fns)``.

    Args:
        fns (Mapping[str, callable]): Variant name to a function without
            arguments; the insertion order is the order of the first round.
        repeats (int): Timed rounds (at least).
        warmup (int): Untimed calls of each function first. Defaults to 1.
        min_time (float): With a warm-up, run more rounds (at most
            ``max_repeats``) until they take about this many seconds, judged
            by the time of a warm-up round. Defaults to 0.
        max_repeats (int): See ``min_time``. Defaults to 100.
        setup (Mapping[str, callable], optional): Variant name to a function
            called before each call of that variant, outside the timed
            region (e.g. resetting gradients).
        device (str | torch.device, optional): With a CUDA device, the
            device is synchronised before the clock starts and before it
            stops.
        clock (callable): Returns seconds. Defaults to
            ``time.perf_counter``.
        collect_garbage (bool): Run ``gc.collect()`` (untimed) before each
            round. The collector is off during the rounds either way.
            Defaults to True.

    Returns:
        Interleaved: Times per round, last values and the timed order.
    """
    if repeats < 1 or warmup < 0:
        raise ValueError('repeats must be >= 1 and warmup >= 0')
    names = list(fns)
    setup = dict(setup or {})
    run = Interleaved(times={name: [] for name in names})

    def call(name: str, timed: bool) -> None:
        if name in setup:
            setup[name]()
        synchronize(device)
        start = clock()
        run.results[name] = fns[name]()
        synchronize(device)
        if timed:
            run.times[name].append(clock() - start)
            run.order.append(name)

    start = clock()
    for _ in range(warmup):
        for name in names:
            call(name, timed=False)
    if warmup and min_time > 0 and names:
        per_round = max((clock() - start) / warmup, 1e-12)
        repeats = max(repeats, min(max_repeats,
                                   math.ceil(min_time / per_round)))
    enabled = gc.isenabled()
    try:
        for index in range(repeats if names else 0):
            shift = index % len(names)
            if collect_garbage:
                gc.collect()
            gc.disable()
            for name in names[shift:] + names[:shift]:
                call(name, timed=True)
            if enabled:
                gc.enable()
    finally:
        if enabled:
            gc.enable()
    return run


# ---------------------------------------------------------- statistics
def quantile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile with linear interpolation between order
    statistics (``numpy.quantile``'s default and the definition of
    :class:`torch.utils.benchmark.Measurement`)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError('quantile of no values')
    pos = q * (len(ordered) - 1)
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (pos - low) * (ordered[high] - ordered[low])


def time_stats(times: Sequence[float]) -> Dict[str, Any]:
    """Median and spread of repeated times.

    Args:
        times (Sequence[float]): Times in seconds (at least one).

    Returns:
        dict: ``median``, ``q25``, ``q75``, ``iqr`` (``q75 - q25``),
        ``min``, ``max`` and ``times`` (the list).
    """
    q25, q75 = quantile(times, 0.25), quantile(times, 0.75)
    return dict(
        median=statistics.median(times),
        q25=q25,
        q75=q75,
        iqr=q75 - q25,
        min=min(times),
        max=max(times),
        times=list(times))


def bootstrap_ratio_interval(num: Sequence[float],
                             den: Sequence[float],
                             confidence: float = 0.95,
                             resamples: int = 2000,
                             seed: int = 0) -> List[float]:
    """Paired bootstrap interval of ``median(num) / median(den)``.

    The rounds are resampled with replacement, the pair of one round (both
    variants timed in the same round) staying together; the interval is
    the central ``confidence`` range (percentile method) of the resampled
    ratios of the medians.

    Args:
        num (Sequence[float]): Times of the numerator, one per round.
        den (Sequence[float]): Times of the denominator, same rounds.
        confidence (float): Coverage. Defaults to 0.95.
        resamples (int): Bootstrap resamples. Defaults to 2000.
        seed (int): Seed of the resampling (reproducible intervals).
            Defaults to 0.

    Returns:
        list[float]: ``[low, high]``.
    """
    num_arr = np.asarray(num, dtype=np.float64)
    den_arr = np.asarray(den, dtype=np.float64)
    if num_arr.shape != den_arr.shape or num_arr.ndim != 1 or not len(num):
        raise ValueError('num and den need the same, non-zero number of '
                         'rounds')
    rng = np.random.default_rng(seed)
    index = rng.integers(0, len(num_arr), size=(resamples, len(num_arr)))
    ratios = (
        np.median(num_arr[index], axis=1) / np.median(den_arr[index], axis=1))
    tail = (1 - confidence) / 2
    low, high = np.quantile(ratios, [tail, 1 - tail])
    return [float(low), float(high)]


def ratio_stats(num: Sequence[float],
                den: Sequence[float],
                confidence: float = 0.95,
                resamples: int = 2000,
                seed: int = 0) -> Dict[str, Any]:
    """Ratio of two interleaved variants with its spread.

    Args:
        num (Sequence[float]): Times of the numerator, one per round.
        den (Sequence[float]): Times of the denominator, same rounds.
        confidence (float): Coverage of ``ci``. Defaults to 0.95.
        resamples (int): Bootstrap resamples. Defaults to 2000.
        seed (int): Bootstrap seed. Defaults to 0.

    Returns:
        dict: ``value`` (ratio of the medians), ``min``, ``q25``, ``q75``
        and ``max`` of the per-round ratios, and ``ci`` (the paired
        bootstrap interval of ``value``, :func:`bootstrap_ratio_interval`).
    """
    if len(num) != len(den) or not len(num):
        raise ValueError('num and den need the same, non-zero number of '
                         'rounds')
    rounds = [a / b for a, b in zip(num, den)]
    return dict(
        value=statistics.median(num) / statistics.median(den),
        min=min(rounds),
        q25=quantile(rounds, 0.25),
        q75=quantile(rounds, 0.75),
        max=max(rounds),
        ci=bootstrap_ratio_interval(num, den, confidence, resamples, seed))


def to_measurement(times: Sequence[float],
                   name: str,
                   label: Optional[str] = None):
    """Times of one variant as a :class:`torch.utils.benchmark.Measurement`
    (one call per run), e.g. for ``torch.utils.benchmark.Compare``.

    Args:
        times (Sequence[float]): Times in seconds.
        name (str): The variant (the measurement's ``stmt``).
        label (str, optional): The comparison it belongs to.

    Returns:
        torch.utils.benchmark.Measurement: The measurement.
    """
    from torch.utils.benchmark import Measurement
    from torch.utils.benchmark.utils.common import TaskSpec
    return Measurement(
        number_per_run=1,
        raw_times=list(times),
        task_spec=TaskSpec(
            stmt=name,
            setup='',
            label=label,
            num_threads=torch.get_num_threads()))


# -------------------------------------------------------------- memory
def _quiet_kineto() -> None:
    """Silence kineto's start/stop chatter on stderr (read when the profiler
    first starts; an explicit ``KINETO_LOG_LEVEL`` is kept)."""
    os.environ.setdefault('KINETO_LOG_LEVEL', '6')


def _allocation_events(roots) -> list:
    """CPU allocation events of a profiler event tree, in pre-order."""
    found, stack = [], list(reversed(list(roots)))
    while stack:
        event = stack.pop()
        if event.tag.name == 'Allocation':
            fields_ = event.extra_fields
            if fields_.device.type == 'cpu':
                found.append(
                    (event.start_time_ns, fields_.ptr, fields_.alloc_size))
        stack.extend(reversed(list(event.children)))
    return found


def peak_cpu_memory(fn: Callable[[], Any]) -> int:
    """Peak bytes of CPU tensor memory allocated while ``fn`` runs.

    ``fn`` runs once under ``torch.profiler.profile(profile_memory=True)``,
    which records every allocation and free of PyTorch's CPU allocator. The
    events are replayed in time order and the bytes of the blocks allocated
    inside the window and still alive are summed; the peak of that sum is
    returned. Frees of blocks allocated before the window are ignored, so
    the sum never drops below what ``fn`` itself holds. Memory obtained
    without PyTorch's allocator (e.g. a BLAS scratch pad) is not seen.

    Args:
        fn (callable): The code to measure; its return value is dropped.

    Returns:
        int: The peak in bytes (0 if nothing was allocated).
    """
    _quiet_kineto()
    with profile(
            activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    tree = prof.profiler.kineto_results.experimental_event_tree()
    events = sorted(_allocation_events(tree), key=lambda e: e[0])
    live: Dict[int, int] = {}
    current = peak = 0
    for _, ptr, nbytes in events:
        if nbytes > 0:
            current += nbytes - live.get(ptr, 0)
            live[ptr] = nbytes
            peak = max(peak, current)
        else:
            current -= live.pop(ptr, 0)
    return peak


def peak_cuda_memory(fn: Callable[[], Any], device: Device) -> int:
    """Peak bytes of CUDA memory allocated while ``fn`` runs beyond what was
    allocated before it (``torch.cuda.max_memory_allocated`` after
    ``torch.cuda.reset_peak_memory_stats``)."""
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    base = torch.cuda.memory_allocated(device)
    fn()
    torch.cuda.synchronize(device)
    return torch.cuda.max_memory_allocated(device) - base


def peak_memory(fn: Callable[[], Any], device: Device = 'cpu') -> int:
    """Peak bytes of tensor memory that ``fn`` allocates on ``device``
    (:func:`peak_cuda_memory` or :func:`peak_cpu_memory`)."""
    if torch.device(device).type == 'cuda':
        return peak_cuda_memory(fn, device)
    return peak_cpu_memory(fn)


# -------------------------------------------------------------- output
def ratio_summary(ratios: Mapping[str, Mapping[str, Any]],
                  targets: Mapping[str, float]) -> Dict[str, Any]:
    """A benchmark ``summary`` from :func:`ratio_stats` results.

    Args:
        ratios (Mapping): Name to a :func:`ratio_stats` result.
        targets (Mapping): Name to its upper bound (a subset of
            ``ratios``).

    Returns:
        dict: Every ratio's ``value`` under its name, then ``targets``,
        ``met`` (name to whether ``value <= target``) and ``intervals``
        (name to the bootstrap interval). Callers may add reported values.
    """
    summary: Dict[str, Any] = {k: r['value'] for k, r in ratios.items()}
    summary['targets'] = dict(targets)
    summary['met'] = {k: summary[k] <= t for k, t in targets.items()}
    summary['intervals'] = {k: r['ci'] for k, r in ratios.items()}
    return summary


def summary_lines(summary: Mapping[str, Any]) -> List[str]:
    """Report lines of a :func:`ratio_summary`: ``name: value [low,
    high] (target <= t: met)`` per value."""
    lines = []
    for key, value in summary.items():
        if key in ('targets', 'met', 'intervals'):
            continue
        interval = summary.get('intervals', {}).get(key)
        band = '' if interval is None else \
            f' [{interval[0]:.3f}, {interval[1]:.3f}]'
        target = summary.get('targets', {}).get(key)
        verdict = ('' if target is None else
                   f" (target <= {target}: "
                   f"{'met' if summary['met'][key] else 'NOT met'})")
        lines.append(f'  {key}: {value:.3f}{band}{verdict}')
    return lines


def write_json(path: str, result: Mapping[str, Any]) -> None:
    """Write a benchmark result as indented JSON, creating the folder.

    Args:
        path (str): Output file.
        result (Mapping): The result; it must have a top-level
            ``summary`` (the values a reader looks for first).

    Raises:
        KeyError: ``result`` has no ``summary``.
    """
    if 'summary' not in result:
        raise KeyError('a benchmark result needs a top-level "summary"')
    dirname = osp.dirname(osp.abspath(path))
    os.makedirs(dirname, exist_ok=True)
    with open(path, 'w') as f:
        json.dump(result, f, indent=2)
