# Copyright (c) mmdl contributors. All rights reserved.
"""Speed of ResCL (:class:`~mmdl.models.ResCLWrapper`) on mmpretrain's
``ResNet_CIFAR`` (depth 18) with a two-task multi-head classifier, batch 64
of 32x32 images, in one run:

* ``merged_over_original`` (target <= 1.05): eval-mode forward time of the
  merged network (the unwrapped classifier loaded with
  ``plain_state_dict('combined')``) over the original classifier's;
* ``combined_over_plain`` (target <= 2.2): one training step of the
  combination (``'combined'`` mode, recorded soft targets: forward through
  both branches of every unit, distillation to both heads, L1 and weight
  decay, backward, SGD step) over one plain fine-tuning step (the unwrapped
  classifier, cross-entropy, same batch and optimiser);
* ``combined_online_over_plain`` (reported): the same with online soft
  targets (two extra no-grad forward passes per step: the source network
  and the frozen fine-tuned copy).

The variants of each comparison run in interleaved rounds
(:func:`mmdl.utils.benchmark.time_interleaved`); ratios are ratios of
medians with a paired bootstrap interval (``intervals``).
"""
from dataclasses import asdict, dataclass
from typing import Any, Dict

import torch
from mmpretrain.structures import DataSample

from mmdl.registry import MODELS
from mmdl.utils.benchmark import (get_device, load_average, machine_info,
                                  ratio_summary, summary_lines,
                                  time_interleaved, time_stats)

TARGETS = dict(merged_over_original=1.05, combined_over_plain=2.2)


@dataclass
class ResCLBenchmarkConfig:
    """What to measure.

    Attributes:
        device (str): ``'cpu'`` or ``'cuda[:i]'``.
        batch_size (int): Images per step.
        size (int): Image side.
        repeats (int): Timed rounds.
        warmup (int): Untimed calls of each variant first.
    """
    device: str = 'cpu'
    batch_size: int = 64
    size: int = 32
    repeats: int = 10
    warmup: int = 2


def classifier_cfg(num_classes: int = 10) -> dict:
    """The unwrapped classifier: ResNet_CIFAR-18, two task heads."""
    return dict(
        type='mmdl.ContinualImageClassifier',
        _scope_='mmpretrain',
        backbone=dict(type='ResNet_CIFAR', depth=18),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(
            type='mmdl.MultiTaskLinearClsHead',
            num_tasks=2,
            num_classes=num_classes,
            in_channels=512))


def _wrapper(cfg: ResCLBenchmarkConfig, soft_targets: str, device):
    wrapper = MODELS.build(
        dict(
            type='mmdl.ResCLWrapper',
            classifier=classifier_cfg(),
            input_shape=(3, cfg.size, cfg.size),
            soft_targets=soft_targets)).to(device)
    wrapper.begin_task(1)
    table = {
        j: torch.randn(cfg.batch_size, 10, device=device)
        for j in range(2)
    }
    wrapper.begin_combination(table if soft_targets == 'recorded' else None)
    return wrapper.train()


def _step(model, loss_fn, optimizer):

    def step():
        optimizer.zero_grad(set_to_none=True)
        losses = loss_fn()
        total = sum(v for k, v in losses.items() if 'loss' in k)
        total.backward()
        optimizer.step()

    return step


def run_benchmark(cfg: ResCLBenchmarkConfig) -> Dict[str, Any]:
    """All measurements and the summary (see the module doc)."""
    device = get_device(cfg.device)
    load_before = load_average()
    torch.manual_seed(0)
    x = torch.randn(cfg.batch_size, 3, cfg.size, cfg.size, device=device)
    samples = [
        DataSample(sample_idx=i, task_id=1).set_gt_label(i % 10)
        for i in range(cfg.batch_size)
    ]
    plain = MODELS.build(classifier_cfg()).to(device).train()
    plain.current_task = 1
    recorded = _wrapper(cfg, 'recorded', device)
    online = _wrapper(cfg, 'online', device)

    def sgd(model):
        return torch.optim.SGD(
            [p for p in model.parameters() if p.requires_grad],
            lr=1e-3,
            momentum=0.9)

    steps = time_interleaved(
        dict(
            plain=_step(plain, lambda: plain.loss(x, samples), sgd(plain)),
            combined=_step(recorded, lambda: recorded.loss(x, samples),
                           sgd(recorded)),
            combined_online=_step(online, lambda: online.loss(x, samples),
                                  sgd(online))),
        cfg.repeats,
        cfg.warmup,
        device=device)

    original = MODELS.build(classifier_cfg()).to(device).eval()
    merged = MODELS.build(classifier_cfg()).to(device).eval()
    merged.load_state_dict(recorded.plain_state_dict('combined'))
    with torch.no_grad():
        inference = time_interleaved(
            dict(
                original=lambda: original(x),
                merged=lambda: merged(x)),
            cfg.repeats,
            cfg.warmup,
            device=device)

    ratios = dict(
        merged_over_original=inference.ratio('merged', 'original'),
        combined_over_plain=steps.ratio('combined', 'plain'),
        combined_online_over_plain=steps.ratio('combined_online', 'plain'))
    summary = ratio_summary(ratios, TARGETS)
    return dict(
        config=dict(
            asdict(cfg),
            machine=machine_info(device),
            load_before=load_before,
            parameters=dict(
                original=sum(p.numel() for p in original.parameters()),
                merged=sum(p.numel() for p in merged.parameters()),
                wrapper=sum(p.numel() for p in recorded.parameters()))),
        times={
            name: time_stats(times)
            for run in (steps, inference) for name, times in run.times.items()
        },
        ratios=ratios,
        summary=summary)


def format_report(result: Dict[str, Any]) -> str:
    """A short text report of :func:`run_benchmark`'s result."""
    lines = [
        f"ResCL on ResNet_CIFAR-18, batch {result['config']['batch_size']}, "
        f"{result['config']['machine']['threads']} thread(s), "
        f"{result['config']['device']}"
    ]
    for name, stats in result['times'].items():
        lines.append(f'  {name:16s} {stats["median"] * 1e3:9.2f} ms')
    return '\n'.join(lines + summary_lines(result['summary']))
