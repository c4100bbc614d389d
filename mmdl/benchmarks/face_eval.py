# Copyright (c) mmdl contributors. All rights reserved.
"""Scale of the face verification evaluators, on synthetic data of the
real sizes:

* ``ijbc_seconds`` (target <= 30) and ``ijbc_peak_gib`` (target <= 4):
  :func:`~mmdl.evaluation.face.evaluate_ijb` (media and template
  aggregation, cosine scores of every pair, ROC and TAR@FAR) on IJB-C's
  size: 227,630 image features of 512 dimensions with faceness scores,
  23,124 templates and 15,658,489 template pairs (19,557 genuine); the
  median time over the rounds and the peak tensor memory of one run beyond
  the inputs (:func:`mmdl.utils.benchmark.peak_memory`);
* ``tenfold_seconds`` (target <= 1): the 10-fold ``.bin`` protocol
  (:func:`~mmdl.evaluation.face.verification_metrics`: accuracy with 400
  thresholds and VAL@FAR with 4,000) on 6,000 pairs of 512-d embeddings;
* ``mfr_mask_seconds`` (target <= 20) and ``mfr_mask_peak_gib`` (target
  <= 4): the ICCV2021-MFR Mask protocol
  (:func:`~mmdl.evaluation.face.mask_protocol`: every masked image against
  every non-masked image, TAR at FAR 1e-4 from a streaming top-k of the
  negatives) at the Mask set's size: 6,964 identities with one masked and
  two non-masked 512-d embeddings each, i.e. 13,928 positive and
  96,980,664 negative pairs (the challenge report counts 96,983,824
  negatives for its set of the same image counts);
* ``neck_overhead`` (target <= 1.10): the time of a training step (forward
  and backward) of IResNet-50 on 112x112 faces, batch 64, with the
  :class:`~mmdl.models.ComplementaryAttention` neck (its default: the 14x14
  stage, partition, mask and background maps with their losses) over the
  same step of the bare IResNet-50 (the same weights), interleaved rounds;
  the ratio of the medians with a bootstrap interval.

Features are drawn so that genuine pairs score higher than impostors on
average (the TAR values are those of a synthetic protocol, not of a
model).
"""
from dataclasses import asdict, dataclass
from typing import Any, Dict

import numpy as np
import torch

from mmdl.evaluation.face import (evaluate_ijb, mask_protocol,
                                  verification_metrics)
from mmdl.utils.benchmark import (load_average, machine_info, peak_memory,
                                  ratio_stats, time_interleaved, time_stats)

TARGETS = dict(
    ijbc_seconds=30.0,
    ijbc_peak_gib=4.0,
    tenfold_seconds=1.0,
    mfr_mask_seconds=20.0,
    mfr_mask_peak_gib=4.0,
    neck_overhead=1.10)


@dataclass
class FaceEvalBenchmarkConfig:
    """What to measure (defaults: IJB-C's sizes).

    Attributes:
        images (int): Image features.
        dims (int): Feature dimensions.
        templates (int): Templates.
        pairs (int): Template pairs.
        genuine (int): Genuine pairs among them.
        bin_pairs (int): Pairs of the 10-fold protocol.
        mfr_masked (int): Masked images of the MFR Mask protocol, one per
            identity.
        mfr_plain_per_id (int): Non-masked images per identity.
        mfr_block_size (int): Masked images per block of scores.
        neck_depth (int): IResNet depth of the neck overhead.
        neck_batch (int): Its batch size.
        neck_size (int): Its input side.
        neck_repeats (int): Its timed rounds (after one untimed round).
        repeats (int): Timed rounds.
        warmup (int): Untimed runs first.
        seed (int): Seed of the synthetic data.
        progress (bool): Progress bars while scoring.
    """
    images: int = 227630
    dims: int = 512
    templates: int = 23124
    pairs: int = 15658489
    genuine: int = 19557
    bin_pairs: int = 6000
    mfr_masked: int = 6964
    mfr_plain_per_id: int = 2
    mfr_block_size: int = 1024
    neck_depth: int = 50
    neck_batch: int = 64
    neck_size: int = 112
    neck_repeats: int = 5
    repeats: int = 3
    warmup: int = 0
    seed: int = 0
    progress: bool = True


def synthetic_ijb(cfg: FaceEvalBenchmarkConfig) -> Dict[str, Any]:
    """Features, templates, medias, faceness and pairs of the given sizes:
    every template has an identity direction; its images are that
    direction plus noise; genuine pairs join templates of one identity."""
    gen = torch.Generator().manual_seed(cfg.seed)
    identities = max(cfg.templates // 4, 1)
    template_identity = torch.randint(
        0, identities, (cfg.templates, ), generator=gen)
    # every template gets at least one image
    templates = torch.cat([
        torch.arange(cfg.templates),
        torch.randint(
            0, cfg.templates, (cfg.images - cfg.templates, ), generator=gen)
    ])
    medias = torch.randint(0, 8, (cfg.images, ), generator=gen)
    directions = torch.randn(identities, cfg.dims, generator=gen)
    features = directions[template_identity[templates]] + 6.0 * torch.randn(
        cfg.images, cfg.dims, generator=gen)
    faceness = 0.5 + 0.5 * torch.rand(cfg.images, generator=gen)
    # genuine pairs: templates of one identity; impostors: random
    order = torch.argsort(template_identity)
    sorted_id = template_identity[order]
    first = torch.randint(0, cfg.templates, (cfg.genuine, ), generator=gen)
    same = torch.searchsorted(sorted_id, template_identity[first])
    second = order[same]  # a template of the same identity
    impostors = cfg.pairs - cfg.genuine
    p1 = torch.cat([first, torch.randint(0, cfg.templates, (impostors, ),
                                         generator=gen)])
    p2 = torch.cat([second, torch.randint(0, cfg.templates, (impostors, ),
                                          generator=gen)])
    labels = torch.cat([
        torch.ones(cfg.genuine, dtype=torch.int64),
        (template_identity[p1[cfg.genuine:]] ==
         template_identity[p2[cfg.genuine:]]).long()
    ])
    return dict(
        features=features,
        templates=templates,
        medias=medias,
        faceness=faceness,
        pairs=(p1, p2, labels))


def synthetic_bin(cfg: FaceEvalBenchmarkConfig) -> Dict[str, np.ndarray]:
    """L2-normalised embeddings of ``bin_pairs`` pairs, half genuine."""
    rng = np.random.default_rng(cfg.seed)
    issame = np.arange(cfg.bin_pairs) % 2 == 0
    a = rng.normal(size=(cfg.bin_pairs, cfg.dims))
    b = np.where(issame[:, None], a + 2.0 * rng.normal(size=a.shape),
                 rng.normal(size=a.shape))
    emb = np.empty((2 * cfg.bin_pairs, cfg.dims))
    emb[0::2], emb[1::2] = a, b
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    return dict(embeddings=emb, issame=issame)


def synthetic_mfr(cfg: FaceEvalBenchmarkConfig) -> Dict[str, torch.Tensor]:
    """Embeddings of the Mask protocol: ``mfr_masked`` identities, each
    with an identity direction; one masked and ``mfr_plain_per_id``
    non-masked images per identity, each the direction plus noise."""
    gen = torch.Generator().manual_seed(cfg.seed + 1)
    identities = cfg.mfr_masked
    directions = torch.randn(identities, cfg.dims, generator=gen)
    masked_ids = torch.arange(identities)
    plain_ids = masked_ids.repeat_interleave(cfg.mfr_plain_per_id)
    masked = directions + 2.0 * torch.randn(
        identities, cfg.dims, generator=gen)
    plain = directions[plain_ids] + 2.0 * torch.randn(
        len(plain_ids), cfg.dims, generator=gen)
    return dict(
        masked_feats=masked,
        masked_ids=masked_ids,
        plain_feats=plain,
        plain_ids=plain_ids)


def neck_steps(cfg: FaceEvalBenchmarkConfig) -> Dict[str, Any]:
    """The ``bare`` and ``neck`` training steps (forward, losses,
    backward) of the neck overhead, on one IResNet, with their gradient
    resets."""
    from mmdl.models import ComplementaryAttention, IResNet
    torch.manual_seed(cfg.seed)
    net = IResNet(cfg.neck_depth, input_size=cfg.neck_size)
    neck = ComplementaryAttention()
    size = cfg.neck_size
    x = torch.randn(cfg.neck_batch, 3, size, size)
    seg = torch.zeros(cfg.neck_batch, size, size)
    seg[::2, size // 2:, size // 4:3 * size // 4] = 1  # half of them masked

    def bare():
        (emb, ) = net(x)
        emb.square().mean().backward()

    def attended():
        maps = {}

        def refine(stage, feat):
            feat, stage_maps = neck(feat, stage)
            if stage_maps:
                maps[stage] = stage_maps
            return feat

        (emb, ) = net.forward_refined(x, refine)
        loss = emb.square().mean() + sum(neck.loss(maps, seg).values())
        loss.backward()

    def reset():
        net.zero_grad(set_to_none=True)
        neck.zero_grad(set_to_none=True)

    return dict(
        fns=dict(bare=bare, neck=attended),
        setup=dict(bare=reset, neck=reset))


def run_benchmark(cfg: FaceEvalBenchmarkConfig) -> Dict[str, Any]:
    """All measurements and the summary (see the module doc)."""
    load_before = load_average()
    ijb = synthetic_ijb(cfg)
    binset = synthetic_bin(cfg)
    mfr = synthetic_mfr(cfg)

    def ijbc():
        return evaluate_ijb(
            ijb['features'],
            ijb['templates'],
            ijb['medias'],
            ijb['pairs'],
            ijb['faceness'],
            progress=cfg.progress)

    def tenfold():
        return verification_metrics(binset['embeddings'], binset['issame'])

    def mfr_mask():
        return mask_protocol(
            **mfr, block_size=cfg.mfr_block_size, progress=cfg.progress)

    # each job's rounds on their own: the IJB run takes the whole machine
    runs = {
        name: time_interleaved({name: fn}, cfg.repeats, cfg.warmup)
        for name, fn in (('ijbc', ijbc), ('tenfold', tenfold),
                         ('mfr_mask', mfr_mask))
    }
    peak = peak_memory(ijbc)
    mfr_peak = peak_memory(mfr_mask)
    ijbc_result = runs['ijbc'].results['ijbc']
    times = {name: time_stats(run.times[name]) for name, run in runs.items()}
    steps = neck_steps(cfg)
    neck_run = time_interleaved(
        steps['fns'], cfg.neck_repeats, warmup=1, setup=steps['setup'])
    del steps
    neck_ratio = neck_run.ratio('neck', 'bare')
    times.update(
        neck_step=neck_run.stats('neck'), bare_step=neck_run.stats('bare'))
    summary: Dict[str, Any] = dict(
        ijbc_seconds=times['ijbc']['median'],
        ijbc_peak_gib=peak / 2**30,
        tenfold_seconds=times['tenfold']['median'],
        mfr_mask_seconds=times['mfr_mask']['median'],
        mfr_mask_peak_gib=mfr_peak / 2**30,
        neck_overhead=neck_ratio['value'])
    summary['targets'] = dict(TARGETS)
    summary['met'] = {k: summary[k] <= t for k, t in TARGETS.items()}
    summary['intervals'] = dict(neck_overhead=neck_ratio['ci'])
    return dict(
        config=dict(
            asdict(cfg),
            machine=machine_info('cpu'),
            load_before=load_before),
        times=times,
        peak_memory_bytes=peak,
        mfr_mask_peak_memory_bytes=mfr_peak,
        ijbc_tar={
            f'{k:g}': v
            for k, v in ijbc_result['tar'].items()
        },
        tenfold=runs['tenfold'].results['tenfold'],
        mfr_mask=runs['mfr_mask'].results['mfr_mask'],
        neck_overhead=neck_ratio,
        summary=summary)


def format_report(result: Dict[str, Any]) -> str:
    """A short text report of :func:`run_benchmark`'s result."""
    config = result['config']
    summary = result['summary']
    lines = [
        f"IJB: {config['images']} features x {config['dims']}, "
        f"{config['templates']} templates, {config['pairs']} pairs; "
        f"10-fold: {config['bin_pairs']} pairs; "
        f"MFR Mask: {config['mfr_masked']} masked x "
        f"{config['mfr_masked'] * config['mfr_plain_per_id']} non-masked; "
        f"{config['machine']['threads']} thread(s)"
    ]
    units = dict(
        ijbc_seconds='s',
        ijbc_peak_gib='GiB',
        tenfold_seconds='s',
        mfr_mask_seconds='s',
        mfr_mask_peak_gib='GiB',
        neck_overhead='x')
    for key, unit in units.items():
        verdict = 'met' if summary['met'][key] else 'NOT met'
        lines.append(f'  {key}: {summary[key]:.3f} {unit} (target <= '
                     f"{summary['targets'][key]:g}: {verdict})")
    return '\n'.join(lines)
