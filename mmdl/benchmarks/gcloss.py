# Copyright (c) mmdl contributors. All rights reserved.
"""Speed and memory of disposable transfer learning
(:class:`~mmdl.models.DTLClassifier` with :class:`~mmdl.models.GCLoss`) on
mmpretrain's ``ResNet_CIFAR`` (depth 18), 32x32 images, a target batch of
64 and a source batch of 64 split into K = 2 mini-batches, in one run:

* ``dtl_over_finetune`` (target <= 4.0): one training step of the default
  DTL (``DTLClassifier.train_step``: target cross-entropy plus
  ``GCLoss()``, whose default is finite-difference Hessian-vector
  products) over one plain fine-tuning step (the same model without a
  disposal loss: target batch only), same optimiser;
* ``fd_over_finetune`` and ``exact_over_finetune`` (reported): the GC
  step with ``hvp='finite_difference'`` and with ``hvp='exact'`` (double
  backward); the default's variant is timed once and gives both its own
  ratio and ``dtl_over_finetune``;
* ``peak_memory_ratio`` (reported): peak tensor memory of the default DTL
  step over that of the fine-tuning step
  (:func:`mmdl.utils.benchmark.peak_memory`), with
  ``exact_peak_memory_ratio`` beside it.

The variants run in interleaved rounds
(:func:`mmdl.utils.benchmark.time_interleaved`); ratios are ratios of
medians with a paired bootstrap interval (``intervals``).
"""
from dataclasses import asdict, dataclass
from typing import Any, Dict

import torch
from mmengine.optim import OptimWrapper
from mmpretrain.structures import DataSample

from mmdl.models.losses import GCLoss
from mmdl.registry import MODELS
from mmdl.utils.benchmark import (get_device, load_average, machine_info,
                                  peak_memory, ratio_summary, summary_lines,
                                  time_interleaved, time_stats)

TARGETS = dict(dtl_over_finetune=4.0)


@dataclass
class GCLossBenchmarkConfig:
    """What to measure.

    Attributes:
        device (str): ``'cpu'`` or ``'cuda[:i]'``.
        batch_size (int): Target images per step; the source batch has as
            many.
        num_source_batches (int): K.
        size (int): Image side.
        repeats (int): Timed rounds.
        warmup (int): Untimed calls of each variant first.
    """
    device: str = 'cpu'
    batch_size: int = 64
    num_source_batches: int = 2
    size: int = 32
    repeats: int = 8
    warmup: int = 1


def model_cfg(disposal_loss, num_source_batches: int = 2) -> dict:
    """DTLClassifier on ResNet_CIFAR-18: 10 target classes, 100 source
    classes (CIFAR-100 to CIFAR-10)."""
    return dict(
        type='mmdl.DTLClassifier',
        classifier=dict(
            type='ImageClassifier',
            _scope_='mmpretrain',
            data_preprocessor=dict(
                type='ClsDataPreprocessor',
                mean=[125.3, 123.0, 113.9],
                std=[63.0, 62.1, 66.7],
                to_rgb=False),
            backbone=dict(type='ResNet_CIFAR', depth=18),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(type='LinearClsHead', num_classes=10, in_channels=512)),
        source_head=dict(
            type='LinearClsHead',
            _scope_='mmpretrain',
            num_classes=100,
            in_channels=512),
        disposal_loss=disposal_loss,
        num_source_batches=num_source_batches)


def _batch(cfg: GCLossBenchmarkConfig, num_classes: int, seed: int) -> dict:
    gen = torch.Generator().manual_seed(seed)
    images = torch.randint(
        0, 256, (cfg.batch_size, 3, cfg.size, cfg.size),
        generator=gen,
        dtype=torch.uint8)
    labels = torch.randint(0, num_classes, (cfg.batch_size, ), generator=gen)
    return dict(
        inputs=list(images),
        data_samples=[
            DataSample().set_gt_label(int(y)) for y in labels
        ])


def run_benchmark(cfg: GCLossBenchmarkConfig) -> Dict[str, Any]:
    """All measurements and the summary (see the module doc)."""
    device = get_device(cfg.device)
    load_before = load_average()
    torch.manual_seed(0)
    variants = dict(
        finetune=None,
        fd=dict(type='GCLoss', hvp='finite_difference'),
        exact=dict(type='GCLoss', hvp='exact'))
    # the default GC step is one of the two: time it once
    default = 'fd' if GCLoss().hvp == 'finite_difference' else 'exact'
    models, wrappers = {}, {}
    for name, loss in variants.items():
        model = MODELS.build(model_cfg(loss, cfg.num_source_batches))
        model.init_weights()
        models[name] = model.to(device).train()
        wrappers[name] = OptimWrapper(
            torch.optim.SGD(
                [p for p in model.parameters() if p.requires_grad],
                lr=1e-3,
                momentum=0.9))
    data = dict(_batch(cfg, 10, 1), source=_batch(cfg, 100, 2))

    def step(name):
        return lambda: models[name].train_step(data, wrappers[name])

    steps = time_interleaved({name: step(name)
                              for name in variants},
                             cfg.repeats,
                             cfg.warmup,
                             device=device)
    memory = {name: peak_memory(step(name), device) for name in variants}
    ratios = {
        f'{name}_over_finetune': steps.ratio(name, 'finetune')
        for name in ('fd', 'exact')
    }
    ratios = dict(dtl_over_finetune=ratios[f'{default}_over_finetune'],
                  **ratios)
    summary = ratio_summary(ratios, TARGETS)
    summary['peak_memory_ratio'] = memory[default] / memory['finetune']
    summary['exact_peak_memory_ratio'] = memory['exact'] / memory['finetune']
    return dict(
        config=dict(
            asdict(cfg),
            machine=machine_info(device),
            load_before=load_before,
            default_variant=default,
            default_gc=dict(
                hvp=models[default].disposal_loss.hvp,
                fd_scheme=models[default].disposal_loss.fd_scheme,
                params=list(models[default].disposal_loss.params))),
        times={name: time_stats(t)
               for name, t in steps.times.items()},
        peak_memory_bytes=memory,
        ratios=ratios,
        summary=summary)


def format_report(result: Dict[str, Any]) -> str:
    """A short text report of :func:`run_benchmark`'s result."""
    config = result['config']
    lines = [
        f"DTL on ResNet_CIFAR-18, target batch {config['batch_size']}, "
        f"source batch {config['batch_size']} in "
        f"{config['num_source_batches']} mini-batches, "
        f"{config['machine']['threads']} thread(s), {config['device']}"
    ]
    for name, stats in result['times'].items():
        mib = result['peak_memory_bytes'][name] / 2**20
        lines.append(f'  {name:9s} {stats["median"] * 1e3:9.1f} ms  '
                     f'peak {mib:8.1f} MiB')
    return '\n'.join(lines + summary_lines(result['summary']))
