# Copyright (c) mmdl contributors. All rights reserved.
"""Time and peak memory of non-local blocks: mmcv ``NonLocal2d`` versus
:class:`~mmdl.models.ScaledNonLocal2d`.

For every feature-map size (``--sizes``, default 16, 32, 64 and 128; batch
``--batch`` = 2, ``--channels`` C = 256) four blocks are measured side by
side, all with the same total embedding width C/2 = 128:

* ``mmcv``: mmcv ``NonLocal2d(C, mode='embedded_gaussian')`` (reduction 2,
  softmax over an N x N map, N = H*W);
* ``scaled_map``: ``ScaledNonLocal2d(C, embed_channels=C/2, order='map')``,
  forced to build the N x N map;
* ``scaled_auto_h1``: ``ScaledNonLocal2d(C, embed_channels=C/2)``, order
  ``'auto'`` (the C' x C' order at these shapes), one head of C/2;
* ``scaled_auto_h8``: the same with ``--heads`` = 8 heads of C/16, i.e.
  8 x 16 = 128 channels: equal total width, so the comparison with the
  one-head block isolates the cost of splitting into heads.

**Time** is one training step of the block: ``out = block(x)`` then
``out.sum().backward()`` with the block in train mode and ``x`` requiring
grad (gradients are reset to None outside the timed region). After
``--warmup`` untimed steps of every block, ``--repeats`` rounds run the
blocks round-robin (the starting block rotates each round) so that a change
of machine load hits all blocks alike; the median of the rounds is reported
(``time.perf_counter``; ``torch.cuda.synchronize`` on CUDA).

**Peak memory** is the largest amount of tensor memory allocated during the
step beyond what existed before it (activations saved for backward,
attention maps, gradients, the output, temporaries of the kernels).

* CPU: PyTorch has no ``max_memory_allocated`` for the CPU, so one extra
  step runs under ``torch.profiler.profile(profile_memory=True)``. The
  profiler records every allocation and free of the CPU allocator
  (``Allocation`` events: pointer, signed size, time). The events are put
  in time order and the bytes of the blocks allocated inside the window
  that are still alive are summed; the peak of this sum is reported. Frees
  of blocks allocated before the window are ignored, so stale size records
  of the profiler cannot push the sum below the truth. Memory that a
  library obtains without the PyTorch allocator (e.g. a BLAS or oneDNN
  scratch pad) is not seen. :func:`peak_cpu_memory` is checked on known
  cases by the smoke test (a 1000 x 1000 float32 tensor shows 4,000,000
  bytes); at 64 x 64 it agrees with the rise of the process's peak RSS
  (VmHWM) to within about 3 % for the mmcv block.
* CUDA: ``torch.cuda.max_memory_allocated`` after
  ``torch.cuda.reset_peak_memory_stats``, minus the memory allocated
  before the step.

Configurations that build an N x N map whose estimated size
(:func:`estimate_map_bytes`) exceeds ``--max-mem-gib`` are skipped and
reported as such instead of running out of memory.

The summary (at 64 x 64) holds ``speedup_64`` (mmcv time over
``scaled_auto_h1`` time), ``memory_ratio_64`` (``scaled_auto_h1`` peak over
mmcv peak) and ``heads8_over_heads1`` (``scaled_auto_h8`` time over
``scaled_auto_h1`` time), checked against the targets >= 10, <= 0.1 and
<= 1.1. The exit code is 0 whether or not the targets are met.

Example::

    python tools/analysis_tools/benchmark_nonlocal.py --json bench.json
    python tools/analysis_tools/benchmark_nonlocal.py --sizes 16 32 64 \\
        --repeats 9 --threads 2
"""
import argparse
import gc
import json
import os
import statistics
import time
from dataclasses import dataclass
from functools import partial
from typing import Callable, Dict, List, Optional, Sequence

import torch
from mmcv.cnn import NonLocal2d
from torch import Tensor, nn
from torch.profiler import ProfilerActivity, profile

from mmdl.models.plugins import ScaledNonLocal2d

SUMMARY_SIZE = 64
TARGETS = dict(speedup_64=10.0, memory_ratio_64=0.1, heads8_over_heads1=1.1)
NOISY_SPREAD = 1.5  # warn when a block's slowest repeat is this much slower
MIB = 2.0**20
GIB = 2.0**30
MEMORY_METHOD = {
    'cpu': ('torch.profiler allocation events: peak of the bytes allocated '
            'inside the step and still alive'),
    'cuda': ('torch.cuda.max_memory_allocated after reset_peak_memory_stats, '
             'minus the memory allocated before the step'),
}


@dataclass(frozen=True)
class Variant:
    """One block to measure.

    Attributes:
        key (str): Short name used in the JSON.
        label (str): Name printed in the table.
        num_heads (int): Heads h.
        embed_channels (int): Embedding channels per head C'.
        order (str): ``'map'`` or ``'auto'`` (as ``ScaledNonLocal2d``).
        softmax (bool): Whether the map is normalised by a softmax.
        build (callable): Returns the block.
    """

    key: str
    label: str
    num_heads: int
    embed_channels: int
    order: str
    softmax: bool
    build: Callable[[], nn.Module]

    @property
    def width(self) -> int:
        """Total embedding width h * C'."""
        return self.num_heads * self.embed_channels


def make_variants(channels: int, heads: int = 8) -> List[Variant]:
    """The four blocks, all with total embedding width ``channels // 2``.

    Args:
        channels (int): Input channels C.
        heads (int): Heads of the many-head block. Defaults to 8.

    Returns:
        list[Variant]: mmcv, ScaledNonLocal2d forced to the N x N order, and
        automatic ScaledNonLocal2d with one head and with ``heads`` heads.
    """
    width = channels // 2
    if width < 1 or width % heads:
        raise ValueError(f'channels // 2 = {width} must be a positive '
                         f'multiple of --heads={heads}')
    per_head = width // heads
    return [
        Variant('mmcv', 'mmcv NonLocal2d embedded_gaussian', 1, width, 'map',
                True, lambda: NonLocal2d(channels, mode='embedded_gaussian')),
        Variant(
            'scaled_map', "ScaledNonLocal2d order='map'", 1, width, 'map',
            False, lambda: ScaledNonLocal2d(
                channels, embed_channels=width, order='map')),
        Variant(
            'scaled_auto_h1', "ScaledNonLocal2d 'auto' 1 head", 1, width,
            'auto', False, lambda: ScaledNonLocal2d(
                channels, embed_channels=width, order='auto')),
        Variant(
            f'scaled_auto_h{heads}', f"ScaledNonLocal2d 'auto' {heads} heads",
            heads, per_head, 'auto', False, lambda: ScaledNonLocal2d(
                channels,
                num_heads=heads,
                embed_channels=per_head,
                order='auto')),
    ]


def resolved_order(variant: Variant, num_positions: int) -> str:
    """The order the block computes in for N positions, by the rule of
    :func:`mmdl.models.plugins.non_local_aggregate`."""
    if variant.order != 'auto':
        return variant.order
    c = variant.embed_channels
    return 'channel' if 2 * c * c <= num_positions * 2 * c else 'map'


def estimate_map_bytes(variant: Variant,
                       size: int,
                       batch: int,
                       itemsize: int = 4) -> int:
    """Estimated memory of the N x N maps of one training step.

    At its peak (in backward) a softmax block holds three maps per head
    (the softmax output saved for backward, its gradient and the gradient
    of the logits), a linear map two (the map saved for backward and its
    gradient), as measured at 64 x 64. The channel order builds no N x N
    map (0 bytes).

    Args:
        variant (Variant): The block.
        size (int): Side of the square feature map; N = size ** 2.
        batch (int): Batch size.
        itemsize (int): Bytes per element. Defaults to 4 (float32).

    Returns:
        int: Bytes.
    """
    num = size * size
    if resolved_order(variant, num) != 'map':
        return 0
    maps = 3 if variant.softmax else 2
    return maps * batch * variant.num_heads * num * num * itemsize


def _quiet_kineto() -> None:
    """Silence kineto's start/stop chatter on stderr (read when the profiler
    first starts; an explicit KINETO_LOG_LEVEL is kept)."""
    os.environ.setdefault('KINETO_LOG_LEVEL', '6')


def _allocation_events(roots) -> list:
    """CPU allocation events of a profiler event tree, in pre-order."""
    found, stack = [], list(reversed(list(roots)))
    while stack:
        event = stack.pop()
        if event.tag.name == 'Allocation':
            fields = event.extra_fields
            if fields.device.type == 'cpu':
                found.append(
                    (event.start_time_ns, fields.ptr, fields.alloc_size))
        stack.extend(reversed(list(event.children)))
    return found


def peak_cpu_memory(fn: Callable[[], object]) -> int:
    """Peak bytes of CPU tensor memory allocated while ``fn`` runs.

    ``fn`` runs once under ``torch.profiler.profile(profile_memory=True)``;
    the allocator's allocation and free events are replayed in time order
    and the bytes of the blocks allocated inside the window and still alive
    are summed. Frees of blocks allocated before the window are ignored.

    Args:
        fn (callable): The code to measure; its return value is dropped.

    Returns:
        int: The peak, in bytes (0 if nothing was allocated).
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


def peak_cuda_memory(fn: Callable[[], object], device: torch.device) -> int:
    """Peak bytes of CUDA memory allocated by ``fn`` beyond what was
    allocated before it."""
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    base = torch.cuda.memory_allocated(device)
    fn()
    torch.cuda.synchronize(device)
    return torch.cuda.max_memory_allocated(device) - base


def peak_memory(fn: Callable[[], object], device: torch.device) -> int:
    """Peak bytes allocated by ``fn`` on ``device`` (see the module doc)."""
    if device.type == 'cuda':
        return peak_cuda_memory(fn, device)
    return peak_cpu_memory(fn)


def _sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def _reset_grads(module: nn.Module, x: Tensor) -> None:
    module.zero_grad(set_to_none=True)
    x.grad = None


def _train_step(module: nn.Module, x: Tensor) -> None:
    out = module(x)
    out.sum().backward()


def _timed_step(module: nn.Module, x: Tensor, device: torch.device) -> float:
    _reset_grads(module, x)
    _sync(device)
    start = time.perf_counter()
    _train_step(module, x)
    _sync(device)
    return time.perf_counter() - start


def _ratio(num: Optional[float], den: Optional[float]) -> Optional[float]:
    if num is None or den is None or den == 0:
        return None
    return num / den


def benchmark_size(variants: Sequence[Variant], size: int, batch: int,
                   channels: int, device: torch.device, warmup: int,
                   repeats: int, max_mem_gib: float) -> List[Dict]:
    """Measure every variant at one feature-map size.

    Returns:
        list[dict]: One record per variant (see :func:`main`).
    """
    num = size * size
    records, modules = [], {}
    torch.manual_seed(0)
    x = torch.randn(
        batch, channels, size, size, device=device, requires_grad=True)
    for variant in variants:
        estimate = estimate_map_bytes(variant, size, batch, x.element_size())
        record = dict(
            size=size,
            positions=num,
            variant=variant.key,
            label=variant.label,
            num_heads=variant.num_heads,
            embed_channels=variant.embed_channels,
            total_width=variant.width,
            order=resolved_order(variant, num),
            estimated_map_gib=estimate / GIB,
            time_ms=None,
            min_ms=None,
            times_ms=[],
            peak_bytes=None,
            peak_mib=None,
            speedup_vs_mmcv=None,
            memory_ratio_vs_mmcv=None,
            skipped=None)
        if estimate / GIB > max_mem_gib:
            record['skipped'] = (f'skipped: estimated memory '
                                 f'{estimate / GIB:.3g} GiB > --max-mem-gib '
                                 f'{max_mem_gib:g}')
        else:
            modules[variant.key] = variant.build().to(device).train()
        records.append(record)
    by_key = {r['variant']: r for r in records}
    keys = list(modules)
    try:
        for _ in range(warmup):
            for key in keys:
                _reset_grads(modules[key], x)
                _train_step(modules[key], x)
        for round_ in range(repeats):
            shift = round_ % len(keys) if keys else 0
            for key in keys[shift:] + keys[:shift]:
                seconds = _timed_step(modules[key], x, device)
                by_key[key]['times_ms'].append(seconds * 1e3)
        for key in keys:
            _reset_grads(modules[key], x)
            peak = peak_memory(partial(_train_step, modules[key], x), device)
            by_key[key]['peak_bytes'] = peak
            by_key[key]['peak_mib'] = peak / MIB
    except (RuntimeError, MemoryError) as error:  # e.g. out of memory
        for key in keys:
            if by_key[key]['peak_bytes'] is None:
                by_key[key]['skipped'] = f'failed: {error}'.splitlines()[0]
    finally:
        del modules, x
        gc.collect()
    for record in records:
        if record['times_ms'] and record['skipped'] is None:
            record['time_ms'] = statistics.median(record['times_ms'])
            record['min_ms'] = min(record['times_ms'])
    base = by_key.get('mmcv')
    if base is not None:
        for record in records:
            record['speedup_vs_mmcv'] = _ratio(base['time_ms'],
                                               record['time_ms'])
            record['memory_ratio_vs_mmcv'] = _ratio(record['peak_bytes'],
                                                    base['peak_bytes'])
    return records


def summarize(results: Sequence[Dict],
              size: int = SUMMARY_SIZE,
              heads: int = 8) -> Dict:
    """The summary numbers at one size and whether they meet the targets.

    Args:
        results (list[dict]): Records of :func:`benchmark_size`.
        size (int): Feature-map side. Defaults to 64.
        heads (int): Heads of the many-head block. Defaults to 8.

    Returns:
        dict: ``speedup_64``, ``memory_ratio_64``, ``heads8_over_heads1``
        (None where not measured), ``targets_met`` (bool), ``checks``
        (one bool or None per number), ``targets``, and, for information,
        ``speedup_64_many_heads`` and ``memory_ratio_64_many_heads`` (the
        first two ratios for the many-head block).
    """
    at = {r['variant']: r for r in results if r['size'] == size}

    def get(key, field):
        return at[key][field] if key in at else None

    auto1, auto_h = 'scaled_auto_h1', f'scaled_auto_h{heads}'
    summary = dict(
        size=size,
        speedup_64=_ratio(get('mmcv', 'time_ms'), get(auto1, 'time_ms')),
        memory_ratio_64=_ratio(
            get(auto1, 'peak_bytes'), get('mmcv', 'peak_bytes')),
        heads8_over_heads1=_ratio(
            get(auto_h, 'time_ms'), get(auto1, 'time_ms')))
    checks = {}
    for name, target in TARGETS.items():
        value = summary[name]
        if value is None:
            checks[name] = None
        elif name == 'speedup_64':
            checks[name] = value >= target
        else:
            checks[name] = value <= target
    summary['targets_met'] = all(c is True for c in checks.values())
    summary['checks'] = checks
    # For information (no target): the same ratios for the many-head block.
    summary['speedup_64_many_heads'] = _ratio(
        get('mmcv', 'time_ms'), get(auto_h, 'time_ms'))
    summary['memory_ratio_64_many_heads'] = _ratio(
        get(auto_h, 'peak_bytes'), get('mmcv', 'peak_bytes'))
    summary['targets'] = dict(
        speedup_64=f'>= {TARGETS["speedup_64"]:g}',
        memory_ratio_64=f'<= {TARGETS["memory_ratio_64"]:g}',
        heads8_over_heads1=f'<= {TARGETS["heads8_over_heads1"]:g}')
    return summary


def _fmt(value: Optional[float], spec: str) -> str:
    return '-' if value is None else format(value, spec)


def format_table(results: Sequence[Dict], heads: int = 8) -> str:
    """The fixed-width table of the records."""
    header = (f'{"size":>7}  {"N":>6}  {"variant":<34}  {"heads x C_h":<14}'
              f'  {"order":<7}  {"time ms":>9}  {"peak MiB":>9}  '
              f'{"speedup":>7}  {"mem ratio":>9}')
    lines = [header, '-' * len(header)]
    sizes = sorted({r['size'] for r in results})
    for size in sizes:
        rows = [r for r in results if r['size'] == size]
        for r in rows:
            width = (f'{r["num_heads"]} x {r["embed_channels"]} = '
                     f'{r["total_width"]}')
            head = (f'{size:>3}x{size:<3}  {r["positions"]:>6}  '
                    f'{r["label"]:<34}  {width:<14}  {r["order"]:<7}  ')
            if r['skipped']:
                lines.append(head + r['skipped'])
                continue
            lines.append(head + f'{_fmt(r["time_ms"], "9.2f")}  '
                         f'{_fmt(r["peak_mib"], "9.1f"):>9}  '
                         f'{_fmt(r["speedup_vs_mmcv"], "7.2f"):>7}  '
                         f'{_fmt(r["memory_ratio_vs_mmcv"], "9.3f"):>9}')
        at = {r['variant']: r for r in rows}
        one, many = at.get('scaled_auto_h1'), at.get(f'scaled_auto_h{heads}')
        if one and many:
            lines.append(
                f'{"":>17}equal width {one["total_width"]}: {heads} heads '
                f'over 1 head: time '
                f'{_fmt(_ratio(many["time_ms"], one["time_ms"]), ".2f")}x, '
                f'peak memory '
                f'{_fmt(_ratio(many["peak_bytes"], one["peak_bytes"]), ".2f")}'
                'x')
    lines.append('speedup = mmcv time / time; mem ratio = peak / mmcv peak')
    return '\n'.join(lines)


def format_summary(summary: Dict, batch: int, channels: int) -> str:
    """The summary lines with PASS / FAIL."""
    size = summary['size']
    explain = dict(
        speedup_64="mmcv time / ScaledNonLocal2d 'auto' 1 head time",
        memory_ratio_64="ScaledNonLocal2d 'auto' 1 head peak / mmcv peak",
        heads8_over_heads1='time of 8 heads over 1 head, equal width')
    lines = [f'summary at {size}x{size}, C={channels}, batch {batch}:']
    for name in TARGETS:
        value, check = summary[name], summary['checks'][name]
        verdict = {True: 'PASS', False: 'FAIL', None: 'N/A'}[check]
        lines.append(f'  {name:<19} = {_fmt(value, "8.3f"):>8}  '
                     f'(target {summary["targets"][name]:<6}) {verdict:<4}  '
                     f'{explain[name]}')
    extra = [
        f'{name} {_fmt(summary[name], ".3f")}'
        for name in ('speedup_64_many_heads', 'memory_ratio_64_many_heads')
    ]
    lines.append(f'  (no target) {", ".join(extra)}')
    met = 'yes' if summary['targets_met'] else 'NO'
    lines.append(f'targets met: {met}')
    return '\n'.join(lines)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Benchmark mmcv NonLocal2d against ScaledNonLocal2d '
        '(forward + backward time and peak memory)')
    parser.add_argument(
        '--sizes',
        type=int,
        nargs='+',
        default=[16, 32, 64, 128],
        help='sides of the square feature maps')
    parser.add_argument('--batch', type=int, default=2, help='batch size')
    parser.add_argument(
        '--channels', type=int, default=256, help='input channels C')
    parser.add_argument(
        '--heads',
        type=int,
        default=8,
        help='heads of the many-head block (same total width C/2)')
    parser.add_argument(
        '--repeats', type=int, default=5, help='timed rounds (median)')
    parser.add_argument(
        '--warmup', type=int, default=2, help='untimed rounds first')
    parser.add_argument(
        '--threads',
        type=int,
        help='torch.set_num_threads (default: torch\'s default)')
    parser.add_argument('--device', default='cpu', help="'cpu' or 'cuda[:i]'")
    parser.add_argument(
        '--max-mem-gib',
        type=float,
        default=8.0,
        help='skip blocks whose estimated N x N memory exceeds this')
    parser.add_argument('--json', help='write the results as JSON here')
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.warmup < 0 or args.batch < 1:
        parser.error('--repeats and --batch must be >= 1, --warmup >= 0')
    if args.heads < 2 or (args.channels // 2) % args.heads:
        parser.error(f'--heads must be >= 2 and divide channels // 2 = '
                     f'{args.channels // 2}')
    if min(args.sizes) < 1:
        parser.error('--sizes must be positive')
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        parser.error(f'--device {args.device}: CUDA is not available')
    return args


def main(argv: Optional[Sequence[str]] = None) -> Dict:
    """Run the benchmark, print the table and the summary.

    Args:
        argv (list[str], optional): Command-line arguments. Defaults to
            ``sys.argv[1:]``.

    Returns:
        dict: ``device``, ``torch``, ``threads``, ``batch``, ``channels``,
        ``sizes``, ``repeats``, ``warmup``, ``memory_method``,
        ``timing_spread`` (largest slowest / fastest repeat), ``results``
        (one record per size and block: ``size``, ``positions``,
        ``variant``, ``label``, ``num_heads``, ``embed_channels``,
        ``total_width``, ``order``, ``estimated_map_gib``, ``time_ms``
        (median), ``min_ms``, ``times_ms``, ``peak_bytes``, ``peak_mib``,
        ``speedup_vs_mmcv``, ``memory_ratio_vs_mmcv``, ``skipped``) and
        ``summary`` (see :func:`summarize`); also written to ``--json``.
    """
    args = parse_args(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    variants = make_variants(args.channels, args.heads)
    results = []
    for size in args.sizes:
        records = benchmark_size(variants, size, args.batch, args.channels,
                                 device, args.warmup, args.repeats,
                                 args.max_mem_gib)
        results.extend(records)
        done = ', '.join(
            f'{r["variant"]} ' +
            ('skipped' if r['skipped'] else f'{r["time_ms"]:.1f} ms')
            for r in records)
        print(f'[{size}x{size}] {done}', flush=True)
    summary = summarize(results, heads=args.heads)
    spread = max((max(r['times_ms']) / min(r['times_ms'])
                  for r in results if r['times_ms']),
                 default=1.0)
    if device.type == 'cuda':
        device_name = torch.cuda.get_device_name(device)
    else:
        device_name = f'cpu ({os.cpu_count()} logical cores)'
    report = dict(
        device=device_name,
        torch=torch.__version__,
        threads=torch.get_num_threads(),
        batch=args.batch,
        channels=args.channels,
        sizes=list(args.sizes),
        repeats=args.repeats,
        warmup=args.warmup,
        memory_method=MEMORY_METHOD[device.type],
        timing_spread=spread,
        results=results,
        summary=summary)
    print()
    print(f'device: {device_name}, torch {torch.__version__}, '
          f'{report["threads"]} threads, batch {args.batch}, '
          f'C={args.channels}, median of {args.repeats} '
          f'(after {args.warmup} warm-up), forward + backward')
    print(format_table(results, args.heads))
    if spread > NOISY_SPREAD:
        print(f'WARNING: noisy timings (slowest / fastest repeat of a block '
              f'up to {spread:.1f}x); is another process using the CPU? '
              'Consider re-running.')
    print()
    print(format_summary(summary, args.batch, args.channels))
    if args.json:
        dirname = os.path.dirname(os.path.abspath(args.json))
        os.makedirs(dirname, exist_ok=True)
        with open(args.json, 'w') as f:
            json.dump(report, f, indent=2)
        print(f'wrote {args.json}')
    return report


if __name__ == '__main__':
    main()
