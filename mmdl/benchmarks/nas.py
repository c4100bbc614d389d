# Copyright (c) mmdl contributors. All rights reserved.
"""Cost of EDAS' single-edge search against DARTS, and what derivation
loses in each, measured side by side in one run:

* ``time_ratio`` and ``memory_ratio`` (targets <= 1/3): one search step
  (:meth:`~mmdl.models.ArchSearchClassifier.train_step`: architecture
  update on one batch, weight update on another) of the ``'single_edge'``
  search space over one of the ``'darts'`` search space, on the same
  8-cell, 16-channel network, batches of 64 32x32 images, the
  architecture parameters at the same seeded random initialisation, the
  optimisers of ``configs/_base_/schedules/darts_search_50e.py``; time in
  interleaved rounds (the ratio of the medians with a paired bootstrap
  interval), peak tensor memory of one step
  (:func:`mmdl.utils.benchmark.peak_memory`);
* ``worst_case_time_ratio`` (reported): the same with the architecture
  parameters set so that every clamped edge is a 5x5 separable
  convolution, the most expensive operation;
* ``deep_time_ratio`` and ``deep_memory_ratio`` (reported): a single-edge
  network of ``deep_layers`` cells (20, EDAS' deeper search) over the
  8-cell DARTS network;
* ``derivation_gap_single_edge`` and ``derivation_gap_darts`` (the first
  must be 0): after a short search in each mode with the digits quick
  config (``configs/edas/edas_search-5c8_1xb64-10e_digits_quick.py``,
  through mmengine's runner), the validation accuracy (%) of the one-shot
  network minus that of the derived network with the same weights
  (``eval_network='derived'``); with the search time of each mode.
  ``derivation_gap_darts_bn_recalibrated`` (reported) recomputes the
  derived DARTS network's batch-norm statistics first: the part of the gap
  that stale statistics of the mixtures explain.
"""
import copy
import os.path as osp
import tempfile
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, Optional

import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope
from mmpretrain.structures import DataSample

from mmdl.models.nas import PRIMITIVES
from mmdl.registry import MODELS
from mmdl.utils.benchmark import (get_device, load_average, machine_info,
                                  peak_memory, ratio_summary, summary_lines,
                                  time_interleaved, time_stats)

TARGETS = dict(time_ratio=1 / 3, memory_ratio=1 / 3)
REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SEARCH_SCHEDULE = osp.join(REPO_ROOT, 'configs', '_base_', 'schedules',
                           'darts_search_50e.py')
QUICK_SEARCH = osp.join(REPO_ROOT, 'configs', 'edas',
                        'edas_search-5c8_1xb64-10e_digits_quick.py')
MODES = ('single_edge', 'darts')


@dataclass
class NASBenchmarkConfig:
    """What to measure.

    Attributes:
        device (str): ``'cpu'`` or ``'cuda[:i]'`` (the timed steps).
        num_layers (int): Cells of the timed network.
        base_channels (int): Its channels.
        batch_size (int): Images per batch (both batches of a step).
        size (int): Image side.
        repeats (int): Timed rounds.
        warmup (int): Untimed steps of each variant first.
        seed (int): Seed of the architecture initialisation and data.
        gap_epochs (int): Epochs of each short search on digits; 0 skips
            the derivation gaps.
        gap_cfg_options (dict): Overrides of the digits search config
            (``--cfg-options`` style keys), e.g. a smaller network.
        deep_layers (int): Cells of a deeper single-edge network timed
            beside the others (EDAS' deeper search); 0 skips it.
    """
    device: str = 'cpu'
    num_layers: int = 8
    base_channels: int = 16
    batch_size: int = 64
    size: int = 32
    repeats: int = 5
    warmup: int = 1
    seed: int = 0
    gap_epochs: int = 10
    gap_cfg_options: Dict[str, Any] = field(default_factory=dict)
    deep_layers: int = 20


def search_model_cfg(mode: str, num_layers: int, base_channels: int) -> dict:
    """An ArchSearchClassifier on a CIFAR-shaped search space."""
    channels = base_channels * 4 * 2**len(
        {num_layers // 3, 2 * num_layers // 3})
    return dict(
        type='mmdl.ArchSearchClassifier',
        classifier=dict(
            type='ImageClassifier',
            _scope_='mmpretrain',
            data_preprocessor=dict(
                type='ClsDataPreprocessor',
                mean=[125.3, 123.0, 113.9],
                std=[63.0, 62.1, 66.7],
                to_rgb=False),
            backbone=dict(
                type='mmdl.SingleEdgeDARTS',
                mode=mode,
                num_layers=num_layers,
                base_channels=base_channels),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(
                type='LinearClsHead', num_classes=10, in_channels=channels)))


def _batch(cfg: NASBenchmarkConfig, seed: int) -> dict:
    gen = torch.Generator().manual_seed(seed)
    images = torch.randint(
        0,
        256, (cfg.batch_size, 3, cfg.size, cfg.size),
        generator=gen,
        dtype=torch.uint8)
    labels = torch.randint(0, 10, (cfg.batch_size, ), generator=gen)
    return dict(
        inputs=list(images),
        data_samples=[DataSample().set_gt_label(int(y)) for y in labels])


def _init_alphas(model, seed: int, worst_case: bool = False) -> None:
    """The seeded random initialisation (DARTS: 1e-3 randn); for the worst
    case, every edge's best operation is sep_conv_5x5."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.arch_parameters():
            p.copy_(1e-3 * torch.randn(p.shape, generator=gen))
            if worst_case:
                p[PRIMITIVES.index('sep_conv_5x5')] += 1.0


def _search_models(cfg: NASBenchmarkConfig, device: torch.device) -> dict:
    schedule = Config.fromfile(SEARCH_SCHEDULE)
    variants = dict(
        single_edge=('single_edge', False, cfg.num_layers),
        darts=('darts', False, cfg.num_layers),
        worst_case=('single_edge', True, cfg.num_layers))
    if cfg.deep_layers:
        variants['single_edge_deep'] = ('single_edge', False,
                                        cfg.deep_layers)
    built = {}
    with DefaultScope.overwrite_default_scope('mmdl'):
        for name, (mode, worst, layers) in variants.items():
            torch.manual_seed(cfg.seed)  # same weights in every variant
            model = MODELS.build(
                search_model_cfg(mode, layers, cfg.base_channels))
            _init_alphas(model, cfg.seed, worst)
            model = model.to(device).train()
            optim = build_optim_wrapper(model,
                                        copy.deepcopy(schedule.optim_wrapper))
            built[name] = (model, optim)
    return built


def time_search_steps(cfg: NASBenchmarkConfig) -> Dict[str, Any]:
    """Time and peak memory of search steps in the three variants."""
    device = get_device(cfg.device)
    models = _search_models(cfg, device)
    data = dict(_batch(cfg, cfg.seed + 1), arch=_batch(cfg, cfg.seed + 2))

    def step(name):
        model, optim = models[name]
        return lambda: model.train_step(data, optim)

    steps = time_interleaved({name: step(name)
                              for name in models},
                             cfg.repeats,
                             cfg.warmup,
                             device=device)
    memory = {name: peak_memory(step(name), device) for name in models}
    genotype = models['worst_case'][0].genotype()
    return dict(
        steps=steps,
        memory=memory,
        worst_case_ops=sorted(
            {op
             for op, _ in genotype.normal + genotype.reduce}))


def _accuracy(model, dataloader) -> float:
    correct = total = 0
    model.eval()
    with torch.no_grad():
        for batch in dataloader:
            for sample in model.val_step(batch):
                correct += int(sample.pred_label == sample.gt_label)
                total += 1
    return 100.0 * correct / total


def recalibrate_batch_norm(model, dataloader) -> None:
    """Replace the running statistics of every batch norm of ``model`` by
    their average over one pass of ``dataloader`` through the network
    ``model`` evaluates (no gradient, no weight changes)."""
    norms = [
        m for m in model.modules()
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
    ]
    saved = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a cumulative average
    model.train()
    with torch.no_grad():
        for batch in dataloader:
            data = model.data_preprocessor(batch, False)
            model(data['inputs'], mode='tensor')
    for m, momentum in zip(norms, saved):
        m.momentum = momentum
    model.eval()


def derivation_gap(
        mode: str,
        epochs: int,
        seed: int,
        cfg_options: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """A short search of the digits quick config in ``mode``, then the
    validation accuracy of the one-shot and of the derived network.

    Args:
        mode (str): ``'single_edge'`` or ``'darts'``.
        epochs (int): Search epochs.
        seed (int): The run's seed.
        cfg_options (dict, optional): Config overrides (``--cfg-options``
            keys).

    Returns:
        dict: ``one_shot``, ``derived`` and ``gap`` (accuracy in %,
        one-shot minus derived), the same after recalibrating the derived
        network's batch-norm statistics on the weight half of the training
        set (``derived_bn_recalibrated``, ``gap_bn_recalibrated``),
        ``search_seconds`` and the ``genotype``.
    """
    from mmdl.utils.cli import build_runner
    cfg = Config.fromfile(QUICK_SEARCH)
    cfg.model.classifier.backbone.mode = mode
    cfg.train_cfg.max_epochs = epochs
    cfg.train_cfg.val_interval = epochs + 1
    cfg.param_scheduler.network[0].update(T_max=epochs, end=epochs)
    cfg.default_hooks.checkpoint = None
    cfg.default_hooks.logger.interval = 10**6
    cfg.custom_hooks = []
    cfg.log_level = 'WARNING'
    cfg.randomness = dict(seed=seed, deterministic=True)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    with tempfile.TemporaryDirectory() as work_dir:
        cfg.work_dir = work_dir
        runner = build_runner(cfg)
        start = time.perf_counter()
        runner.train()
        seconds = time.perf_counter() - start
        model = runner.model
        model = getattr(model, 'module', model)
        loader = runner.val_dataloader
        one_shot = _accuracy(model, loader)
        model.eval_network = 'derived'
        derived = _accuracy(model, loader)
        recalibrated = copy.deepcopy(model)
        recalibrate_batch_norm(recalibrated, runner.train_dataloader)
        derived_bn = _accuracy(recalibrated, loader)
        model.eval_network = 'one_shot'
        genotype = model.genotype()._asdict()
    return dict(
        one_shot=one_shot,
        derived=derived,
        gap=one_shot - derived,
        derived_bn_recalibrated=derived_bn,
        gap_bn_recalibrated=one_shot - derived_bn,
        search_seconds=seconds,
        genotype=genotype)


def run_benchmark(cfg: NASBenchmarkConfig) -> Dict[str, Any]:
    """All measurements and the summary (see the module doc)."""
    load_before = load_average()
    timed = time_search_steps(cfg)
    steps, memory = timed['steps'], timed['memory']
    ratios = dict(
        time_ratio=steps.ratio('single_edge', 'darts'),
        worst_case_time_ratio=steps.ratio('worst_case', 'darts'))
    if 'single_edge_deep' in memory:
        ratios['deep_time_ratio'] = steps.ratio('single_edge_deep', 'darts')
    summary = ratio_summary(ratios, dict(time_ratio=TARGETS['time_ratio']))
    summary['memory_ratio'] = memory['single_edge'] / memory['darts']
    for name in ('worst_case', 'single_edge_deep'):
        if name in memory:
            key = 'deep' if name == 'single_edge_deep' else name
            summary[f'{key}_memory_ratio'] = memory[name] / memory['darts']
    summary['targets']['memory_ratio'] = TARGETS['memory_ratio']
    summary['met']['memory_ratio'] = (
        summary['memory_ratio'] <= TARGETS['memory_ratio'])
    gaps: Optional[Dict[str, Any]] = None
    if cfg.gap_epochs > 0:
        gaps = {
            mode:
            derivation_gap(mode, cfg.gap_epochs, cfg.seed, cfg.gap_cfg_options)
            for mode in MODES
        }
        for mode in MODES:
            summary[f'derivation_gap_{mode}'] = gaps[mode]['gap']
        summary['derivation_gap_darts_bn_recalibrated'] = gaps['darts'][
            'gap_bn_recalibrated']
        summary['targets']['derivation_gap_single_edge'] = 0.0
        summary['met']['derivation_gap_single_edge'] = abs(
            gaps['single_edge']['gap']) <= 1e-9
    return dict(
        config=dict(
            asdict(cfg),
            machine=machine_info(cfg.device),
            load_before=load_before,
            worst_case_clamped_ops=timed['worst_case_ops']),
        times={
            name: time_stats(t)
            for name, t in steps.times.items()
        },
        peak_memory_bytes=memory,
        ratios=ratios,
        derivation=gaps,
        summary=summary)


def format_report(result: Dict[str, Any]) -> str:
    """A short text report of :func:`run_benchmark`'s result."""
    config = result['config']
    lines = [
        f"Search steps, {config['num_layers']} cells x "
        f"{config['base_channels']} channels, batch {config['batch_size']}, "
        f"{config['size']}x{config['size']}, "
        f"{config['machine']['threads']} thread(s), {config['device']}"
    ]
    for name, stats in result['times'].items():
        mib = result['peak_memory_bytes'][name] / 2**20
        lines.append(f'  {name:16s} {stats["median"] * 1e3:10.1f} ms  '
                     f'peak {mib:8.1f} MiB')
    if result['derivation']:
        lines.append(f"Derivation after {config['gap_epochs']} search "
                     'epochs on digits (validation accuracy, %):')
        for mode, gap in result['derivation'].items():
            lines.append(f"  {mode:12s} one-shot {gap['one_shot']:6.2f}  "
                         f"derived {gap['derived']:6.2f}  "
                         'with recalibrated BN '
                         f"{gap['derived_bn_recalibrated']:6.2f}  "
                         f"search {gap['search_seconds']:6.1f} s")
    summary = {
        k: v
        for k, v in result['summary'].items()
        if not k.startswith('derivation_gap')
    }
    lines += summary_lines(summary)
    for key in ('derivation_gap_single_edge', 'derivation_gap_darts',
                'derivation_gap_darts_bn_recalibrated'):
        if key in result['summary']:
            target = result['summary']['targets'].get(key)
            verdict = '' if target is None else (
                ' (target 0: ' +
                ('met' if result['summary']['met'][key] else 'NOT met') + ')')
            lines.append(f"  {key}: {result['summary'][key]:.3f}{verdict}")
    return '\n'.join(lines)
