# Copyright (c) mmdl contributors. All rights reserved.
"""Time and peak memory of non-local blocks: mmcv ``NonLocal2d`` versus
:class:`~mmdl.models.ScaledNonLocal2d`, and the ceiling set by the layers
both blocks must run.

For every feature-map size (``sizes``, default 16, 32, 64 and 128; batch
``batch`` = 2, ``channels`` C = 256) five modules are measured side by
side, all with the same total embedding width C/2 = 128:

* ``mmcv``: mmcv ``NonLocal2d(C, mode='embedded_gaussian')`` (reduction 2,
  softmax over an N x N map, N = H*W);
* ``scaled_map``: ``ScaledNonLocal2d(C, embed_channels=C/2, order='map')``,
  forced to build the N x N map;
* ``scaled_auto_h1``: ``ScaledNonLocal2d(C, embed_channels=C/2)``, order
  ``'auto'`` (the C' x C' order at these shapes), one head of C/2;
* ``scaled_auto_h8``: the same with ``heads`` = 8 heads of C/16, i.e.
  8 x 16 = 128 channels: equal total width, so the comparison with the
  one-head block isolates the cost of splitting into heads;
* ``shared_layers`` (:class:`SharedLayers`): only the layers every such
  block runs whatever its aggregation: the four 1x1 convolutions (theta,
  phi, g: C -> C/2; output: C/2 -> C), the output batch norm and the
  residual addition, with no aggregation at all. No non-local block of
  this width can be faster or hold less memory, so
  ``mmcv / shared_layers`` is the physical ceiling of the speedup.

**Time** is one training step of the module: ``out = module(x)`` then
``out.sum().backward()`` in train mode with ``x`` requiring grad
(gradients are reset to None outside the timed region). The modules of one
size run in interleaved rounds (:func:`mmdl.utils.benchmark.time_interleaved`:
``warmup`` untimed steps of each, then ``repeats`` rounds with the starting
module rotating each round); the median of the rounds is reported with
the quartiles, and each ratio of the summary with the paired bootstrap
95 % interval of its rounds (``intervals``). On CUDA the device is
synchronised around every timed step.

**Peak memory** (:func:`mmdl.utils.benchmark.peak_memory`) is the largest
amount of tensor memory allocated during one more step beyond what existed
before it (activations saved for backward, attention maps, gradients, the
output, temporaries of the kernels): on the CPU from the allocation events
of ``torch.profiler``, on CUDA from ``torch.cuda.max_memory_allocated``.
It is deterministic, so it is measured once.

Configurations that build an N x N map whose estimated size
(:func:`estimate_map_bytes`) exceeds ``max_mem_gib`` are skipped and
reported as such instead of running out of memory.

The summary (at 64 x 64) holds the issue's three numbers,

* ``speedup_64``: mmcv time over ``scaled_auto_h1`` time (target >= 10),
* ``memory_ratio_64``: ``scaled_auto_h1`` peak over mmcv peak (<= 0.1),
* ``heads8_over_heads1``: ``scaled_auto_h8`` time over ``scaled_auto_h1``
  time (<= 1.1),

whose conjunction is ``targets_met``, and the same goal judged against
what is physically reachable:

* ``ceiling_64``: mmcv time over ``shared_layers`` time, the largest
  speedup any aggregation could give;
* ``share_of_ceiling_64`` = ``speedup_64 / ceiling_64`` (=
  ``shared_layers`` time over ``scaled_auto_h1`` time; target >= 0.75);
* ``mem_ceiling_64``: ``shared_layers`` peak over mmcv peak, the smallest
  reachable memory ratio;
* ``share_of_mem_ceiling_64`` = ``mem_ceiling_64 / memory_ratio_64`` (=
  ``shared_layers`` peak over ``scaled_auto_h1`` peak; target >= 0.75),

whose conjunction with ``heads8_over_heads1`` is
``reachable_targets_met``.
"""
import gc
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence

import torch
from mmcv.cnn import NonLocal2d
from torch import Tensor, nn

from mmdl.models.plugins import ScaledNonLocal2d
from mmdl.utils.benchmark import (MEMORY_METHOD, get_device, load_average,
                                  machine_info, peak_memory, ratio_stats,
                                  time_interleaved)

SUMMARY_SIZE = 64
ISSUE_TARGETS = dict(
    speedup_64=('>=', 10.0),
    memory_ratio_64=('<=', 0.1),
    heads8_over_heads1=('<=', 1.1))
CEILING_TARGETS = dict(
    share_of_ceiling_64=('>=', 0.75), share_of_mem_ceiling_64=('>=', 0.75))
TARGETS = dict(ISSUE_TARGETS, **CEILING_TARGETS)
NOISY_SPREAD = 1.5  # warn when a module's slowest repeat is this much slower
MIB = 2.0**20
GIB = 2.0**30


class SharedLayers(nn.Module):
    """The layers of a non-local block without its aggregation.

    ``x + norm(conv_out(g(x))) + theta(x).sum() + phi(x).sum()``: the
    scalar sums tie theta and phi into the output, so that the backward
    pass runs through all four convolutions, at the cost of one reduction
    each and one broadcast addition. The layers are those of ``block``
    (shared, not copied).

    Args:
        block (ScaledNonLocal2d): The block whose layers to run.
    """

    def __init__(self, block: ScaledNonLocal2d) -> None:
        super().__init__()
        self.theta, self.phi, self.g = block.theta, block.phi, block.g
        self.conv_out, self.norm = block.conv_out, block.norm

    def forward(self, x: Tensor) -> Tensor:
        out = self.conv_out(self.g(x))
        if self.norm is not None:
            out = self.norm(out)
        tie = self.theta(x).sum() + self.phi(x).sum()
        return (x + out).add_(tie)


@dataclass(frozen=True)
class Variant:
    """One module to measure.

    Attributes:
        key (str): Short name used in the JSON.
        label (str): Name printed in the table.
        num_heads (int): Heads h.
        embed_channels (int): Embedding channels per head C'.
        order (str): ``'map'``, ``'auto'`` (as ``ScaledNonLocal2d``) or
            ``'none'`` (no aggregation).
        softmax (bool): Whether the map is normalised by a softmax.
        build (callable): Returns the module.
    """

    key: str
    label: str
    num_heads: int
    embed_channels: int
    order: str
    softmax: bool
    build: Callable[[], nn.Module] = field(compare=False)

    @property
    def width(self) -> int:
        """Total embedding width h * C'."""
        return self.num_heads * self.embed_channels


def make_variants(channels: int, heads: int = 8) -> List[Variant]:
    """The five modules, all with total embedding width ``channels // 2``.

    Args:
        channels (int): Input channels C.
        heads (int): Heads of the many-head block. Defaults to 8.

    Returns:
        list[Variant]: mmcv, ScaledNonLocal2d forced to the N x N order,
        automatic ScaledNonLocal2d with one head and with ``heads`` heads,
        and the shared layers alone.
    """
    width = channels // 2
    if width < 1 or width % heads:
        raise ValueError(f'channels // 2 = {width} must be a positive '
                         f'multiple of heads={heads}')
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
        Variant(
            'shared_layers', '4 1x1 convs + BN, no aggregation', 1, width,
            'none', False, lambda: SharedLayers(
                ScaledNonLocal2d(channels, embed_channels=width))),
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
    gradient). The channel order builds no N x N map (0 bytes), nor do the
    shared layers.

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


def _reset_grads(module: nn.Module, x: Tensor) -> None:
    module.zero_grad(set_to_none=True)
    x.grad = None


def _train_step(module: nn.Module, x: Tensor) -> None:
    out = module(x)
    out.sum().backward()


def _ratio(num: Optional[float], den: Optional[float]) -> Optional[float]:
    if num is None or den is None or den == 0:
        return None
    return num / den


def benchmark_size(variants: Sequence[Variant], size: int, batch: int,
                   channels: int, device: torch.device, warmup: int,
                   repeats: int, max_mem_gib: float) -> List[Dict]:
    """Measure every variant at one feature-map size.

    Returns:
        list[dict]: One record per variant: ``size``, ``positions``,
        ``variant``, ``label``, ``num_heads``, ``embed_channels``,
        ``total_width``, ``order``, ``estimated_map_gib``, ``time_ms``
        (median), ``q25_ms``, ``q75_ms``, ``min_ms``, ``times_ms`` (one per
        round, the rounds shared by all variants), ``peak_bytes``,
        ``peak_mib``, ``speedup_vs_mmcv``, ``memory_ratio_vs_mmcv`` and
        ``skipped`` (None or why).
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
            q25_ms=None,
            q75_ms=None,
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
        if keys:
            run = time_interleaved(
                {
                    key: (lambda m=modules[key]: _train_step(m, x))
                    for key in keys
                },
                repeats,
                warmup,
                setup={
                    key: (lambda m=modules[key]: _reset_grads(m, x))
                    for key in keys
                },
                device=device)
            for key in keys:
                stats = run.stats(key)
                by_key[key].update(
                    time_ms=stats['median'] * 1e3,
                    q25_ms=stats['q25'] * 1e3,
                    q75_ms=stats['q75'] * 1e3,
                    min_ms=stats['min'] * 1e3,
                    times_ms=[t * 1e3 for t in stats['times']])
        for key in keys:
            _reset_grads(modules[key], x)
            peak = peak_memory(
                lambda m=modules[key]: _train_step(m, x), device)
            by_key[key]['peak_bytes'] = peak
            by_key[key]['peak_mib'] = peak / MIB
    except (RuntimeError, MemoryError) as error:  # e.g. out of memory
        for key in keys:
            if by_key[key]['peak_bytes'] is None:
                by_key[key]['skipped'] = f'failed: {error}'.splitlines()[0]
                by_key[key]['time_ms'] = None
    finally:
        del modules, x
        gc.collect()
    base = by_key.get('mmcv')
    if base is not None:
        for record in records:
            record['speedup_vs_mmcv'] = _ratio(base['time_ms'],
                                               record['time_ms'])
            record['memory_ratio_vs_mmcv'] = _ratio(record['peak_bytes'],
                                                    base['peak_bytes'])
    return records


def _check(value: Optional[float], target) -> Optional[bool]:
    if value is None:
        return None
    op, bound = target
    return value >= bound if op == '>=' else value <= bound


def summarize(results: Sequence[Dict],
              size: int = SUMMARY_SIZE,
              heads: int = 8) -> Dict:
    """The summary numbers at one size and whether they meet the targets.

    Args:
        results (list[dict]): Records of :func:`benchmark_size`.
        size (int): Feature-map side. Defaults to 64.
        heads (int): Heads of the many-head block. Defaults to 8.

    Returns:
        dict: ``speedup_64``, ``memory_ratio_64``, ``heads8_over_heads1``,
        ``ceiling_64``, ``share_of_ceiling_64``, ``mem_ceiling_64``,
        ``share_of_mem_ceiling_64`` (see the module doc; None where not
        measured), ``checks`` (one bool or None per targeted number),
        ``targets_met`` (the issue's three targets), ``reachable_targets_met``
        (the two shares and ``heads8_over_heads1``), ``targets``,
        ``intervals`` (paired bootstrap 95 % interval of every time ratio)
        and, for information, ``speedup_64_many_heads`` and
        ``memory_ratio_64_many_heads`` (the first two ratios for the
        many-head block).
    """
    at = {r['variant']: r for r in results if r['size'] == size}

    def get(key, name):
        return at[key][name] if key in at else None

    def interval(num, den):
        a, b = get(num, 'times_ms'), get(den, 'times_ms')
        if not a or not b or get(num, 'skipped') or get(den, 'skipped'):
            return None
        return ratio_stats(a, b)['ci']

    auto1, auto_h, shared = ('scaled_auto_h1', f'scaled_auto_h{heads}',
                             'shared_layers')
    summary: Dict[str, Any] = dict(
        size=size,
        speedup_64=_ratio(get('mmcv', 'time_ms'), get(auto1, 'time_ms')),
        memory_ratio_64=_ratio(
            get(auto1, 'peak_bytes'), get('mmcv', 'peak_bytes')),
        heads8_over_heads1=_ratio(
            get(auto_h, 'time_ms'), get(auto1, 'time_ms')),
        ceiling_64=_ratio(get('mmcv', 'time_ms'), get(shared, 'time_ms')),
        mem_ceiling_64=_ratio(
            get(shared, 'peak_bytes'), get('mmcv', 'peak_bytes')))
    summary['share_of_ceiling_64'] = _ratio(summary['speedup_64'],
                                            summary['ceiling_64'])
    summary['share_of_mem_ceiling_64'] = _ratio(summary['mem_ceiling_64'],
                                                summary['memory_ratio_64'])
    checks = {
        name: _check(summary[name], target)
        for name, target in TARGETS.items()
    }
    summary['checks'] = checks
    summary['targets_met'] = all(checks[name] is True
                                 for name in ISSUE_TARGETS)
    summary['reachable_targets_met'] = all(checks[name] is True
                                           for name in list(CEILING_TARGETS) +
                                           ['heads8_over_heads1'])
    # For information (no target): the same ratios for the many-head block.
    summary['speedup_64_many_heads'] = _ratio(
        get('mmcv', 'time_ms'), get(auto_h, 'time_ms'))
    summary['memory_ratio_64_many_heads'] = _ratio(
        get(auto_h, 'peak_bytes'), get('mmcv', 'peak_bytes'))
    summary['targets'] = {
        name: f'{op} {bound:g}'
        for name, (op, bound) in TARGETS.items()
    }
    summary['intervals'] = dict(
        speedup_64=interval('mmcv', auto1),
        heads8_over_heads1=interval(auto_h, auto1),
        ceiling_64=interval('mmcv', shared),
        share_of_ceiling_64=interval(shared, auto1),
        speedup_64_many_heads=interval('mmcv', auto_h))
    return summary


def _fmt(value: Optional[float], spec: str) -> str:
    return '-' if value is None else format(value, spec)


def format_table(results: Sequence[Dict], heads: int = 8) -> str:
    """The fixed-width table of the records."""
    header = (f'{"size":>7}  {"N":>6}  {"variant":<34}  {"heads x C_h":<14}'
              f'  {"order":<7}  {"time ms":>9}  {"IQR ms":>13}  '
              f'{"peak MiB":>9}  {"speedup":>7}  {"mem ratio":>9}')
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
            iqr = (f'{_fmt(r["q25_ms"], ".2f")}-'
                   f'{_fmt(r["q75_ms"], ".2f")}')
            lines.append(head + f'{_fmt(r["time_ms"], "9.2f")}  '
                         f'{iqr:>13}  '
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
    lines.append('speedup = mmcv time / time; mem ratio = peak / mmcv peak; '
                 'IQR = quartiles of the rounds')
    return '\n'.join(lines)


def format_summary(summary: Dict, batch: int, channels: int) -> str:
    """The summary lines with PASS / FAIL."""
    size = summary['size']
    explain = dict(
        speedup_64="mmcv time / ScaledNonLocal2d 'auto' 1 head time",
        memory_ratio_64="ScaledNonLocal2d 'auto' 1 head peak / mmcv peak",
        heads8_over_heads1='time of 8 heads over 1 head, equal width',
        share_of_ceiling_64='speedup_64 / ceiling_64 (mmcv time / shared '
        'layers time)',
        share_of_mem_ceiling_64='mem_ceiling_64 (shared layers peak / mmcv '
        'peak) / memory_ratio_64')
    lines = [f'summary at {size}x{size}, C={channels}, batch {batch}:']
    for name in TARGETS:
        value, check = summary[name], summary['checks'][name]
        verdict = {True: 'PASS', False: 'FAIL', None: 'N/A'}[check]
        ci = summary['intervals'].get(name)
        shown_ci = '' if ci is None else f'[{ci[0]:.3f}, {ci[1]:.3f}]'
        lines.append(f'  {name:<23} = {_fmt(value, "8.3f"):>8} '
                     f'{shown_ci:<16} (target {summary["targets"][name]:<6})'
                     f' {verdict:<4}  {explain[name]}')
    extra = [
        f'{name} {_fmt(summary[name], ".3f")}'
        for name in ('ceiling_64', 'mem_ceiling_64', 'speedup_64_many_heads',
                     'memory_ratio_64_many_heads')
    ]
    lines.append(f'  (no target) {", ".join(extra)}')
    lines.append('  [ ] = paired bootstrap 95% interval over the rounds')
    met = 'yes' if summary['targets_met'] else 'NO'
    reachable = 'yes' if summary['reachable_targets_met'] else 'NO'
    lines.append(f'targets met: {met}; against the ceiling: {reachable}')
    return '\n'.join(lines)


@dataclass
class NonLocalBenchmarkConfig:
    """What :func:`run_benchmark` measures (see the module doc).

    Attributes:
        sizes (Sequence[int]): Sides of the square feature maps.
        batch (int): Batch size.
        channels (int): Input channels C.
        heads (int): Heads of the many-head block (same total width C/2).
        repeats (int): Timed rounds.
        warmup (int): Untimed steps of each module first.
        max_mem_gib (float): Skip blocks whose estimated N x N memory
            exceeds this.
        device (str): ``'cpu'`` or ``'cuda[:i]'``.
    """

    sizes: Sequence[int] = (16, 32, 64, 128)
    batch: int = 2
    channels: int = 256
    heads: int = 8
    repeats: int = 5
    warmup: int = 2
    max_mem_gib: float = 8.0
    device: str = 'cpu'


def run_benchmark(cfg: NonLocalBenchmarkConfig,
                  log: Optional[Callable[[str], None]] = print) -> Dict:
    """Measure every size and summarise.

    Args:
        cfg (NonLocalBenchmarkConfig): What to measure.
        log (callable, optional): Called with one line per finished size.
            Defaults to ``print``; None for silence.

    Returns:
        dict: ``device`` (name), ``torch``, ``threads``, ``cpus``,
        ``load_before``, ``load_after``, ``batch``, ``channels``,
        ``sizes``, ``repeats``, ``warmup``, ``memory_method``,
        ``timing_spread`` (largest slowest / fastest round of a module),
        ``results`` (:func:`benchmark_size` records of every size) and
        ``summary`` (:func:`summarize`).
    """
    device = get_device(cfg.device)
    load_before = load_average()
    variants = make_variants(cfg.channels, cfg.heads)
    results: List[Dict] = []
    for size in cfg.sizes:
        records = benchmark_size(variants, size, cfg.batch, cfg.channels,
                                 device, cfg.warmup, cfg.repeats,
                                 cfg.max_mem_gib)
        results.extend(records)
        if log is not None:
            log(f'[{size}x{size}] ' + ', '.join(
                f'{r["variant"]} ' +
                ('skipped' if r['skipped'] else f'{r["time_ms"]:.1f} ms')
                for r in records))
    spread = max((max(r['times_ms']) / min(r['times_ms'])
                  for r in results if r['times_ms'] and not r['skipped']),
                 default=1.0)
    info = machine_info(device)
    return dict(
        device=info['device'],
        torch=info['torch'],
        threads=info['threads'],
        cpus=info['cpus'],
        load_before=load_before,
        load_after=info['load'],
        batch=cfg.batch,
        channels=cfg.channels,
        sizes=list(cfg.sizes),
        repeats=cfg.repeats,
        warmup=cfg.warmup,
        memory_method=MEMORY_METHOD[device.type],
        timing_spread=spread,
        results=results,
        summary=summarize(results, heads=cfg.heads))
