# Copyright (c) mmdl contributors. All rights reserved.
"""Worker run by torchrun (2 CPU processes, gloo) from test_margin_head.

Checks, on every rank, that the sharded CombinedMarginHead reproduces the
unsharded head on the full batch (loss, centre and embedding gradients),
with uneven class shards and uneven local batches, with Partial FC
sampling, and under DDP with the sharded centres ignored; writes ``ok`` to
``$OUT/rank{r}``.

Also imported by test_margin_head for :func:`reference_loss`, an
independent computation of the loss (per-sample margins with ``math``,
``F.cross_entropy``).
"""
import math
import os
import sys

import torch
import torch.nn.functional as F

from mmdl.utils.cli import destroy_process_group

ARCFACE = (1.0, 0.5, 0.0)
COSFACE = (1.0, 0.0, 0.4)
SPHEREFACE = (2.0, 0.0, 0.0)
COMBINED = (1.0, 0.3, 0.2)


def reference_target(cosine, margins):
    """The modified target cosine of one sample (0-d tensor, |cos| < 1)."""
    m1, m2, m3 = margins
    if m1 == 1 and m2 == 0:
        return cosine - m3
    theta = torch.acos(cosine)
    if m1 == 1:
        if cosine.item() > math.cos(math.pi - m2):
            return torch.cos(theta + m2) - m3
        # insightface's ArcFace fallback (easy_margin=False)
        return cosine - m2 * math.sin(math.pi - m2) - m3
    # SphereFace's psi: (-1)^k cos(u) - 2k, u in [k pi, (k + 1) pi]
    u = m1 * theta + m2
    k = math.floor(u.item() / math.pi)
    return (-1)**k * torch.cos(u) - 2 * k - m3


def reference_loss(embeddings,
                   centres,
                   labels,
                   margins,
                   scale,
                   classes=None,
                   loss_weight=1.0):
    """Loss over all classes, or over the global class indices ``classes``
    (Partial FC: the labels must be among them)."""
    cosine = F.normalize(embeddings) @ F.normalize(centres).t()
    labels = [int(label) for label in labels]
    if classes is not None:
        classes = [int(c) for c in classes]
        cosine = cosine[:, classes]
        labels = [classes.index(label) for label in labels]
    rows = []
    for i, label in enumerate(labels):
        row = list(cosine[i].unbind())
        row[label] = reference_target(cosine[i, label], margins)
        rows.append(torch.stack(row))
    logits = scale * torch.stack(rows)
    return loss_weight * F.cross_entropy(logits, torch.tensor(labels))


def make_data(num, dim, labels, centres, seed, fallback=()):
    """Random embeddings; those in ``fallback`` point away from their
    class centre (target cosine near -1: ArcFace's fallback region)."""
    gen = torch.Generator().manual_seed(seed)
    emb = torch.randn(num, dim, generator=gen, dtype=torch.float64)
    for i in fallback:
        emb[i] = -3 * F.normalize(centres[labels[i]], dim=0) + 0.1 * emb[i]
    return emb


def check_sharded_equals_full(rank, world, margins, compensate):
    from mmdl.models.heads import CombinedMarginHead
    num_classes, dim = 7, 5
    labels = torch.tensor([0, 6, 3, 4, 2, 5, 3])
    sizes = (4, 3)  # uneven local batches
    scale = 64.0 if margins == ARCFACE else 16.0
    torch.manual_seed(0)
    full = CombinedMarginHead(
        num_classes, dim, margins=margins, scale=scale, shard=False).double()
    emb = make_data(7, dim, labels, full.weight.detach(), 1, fallback=(1, 4))
    # full head, full batch
    emb_full = emb.clone().requires_grad_()
    loss_full = full.margin_loss(emb_full, labels)
    loss_full.backward()
    ref = reference_loss(emb, full.weight.detach(), labels, margins, scale)
    assert torch.allclose(loss_full, ref, atol=1e-10), (loss_full, ref)
    # sharded: 4 + 3 classes, 4 + 3 samples
    head = CombinedMarginHead(
        num_classes,
        dim,
        margins=margins,
        scale=scale,
        shard=True,
        compensate_ddp_average=compensate).double()
    start, end = (0, 4) if rank == 0 else (4, 7)
    assert (head.class_start, head.class_end) == (start, end)
    assert head.weight.shape == (end - start, dim)
    with torch.no_grad():
        head.weight.copy_(full.weight[start:end])
    lo = sum(sizes[:rank])
    part = slice(lo, lo + sizes[rank])
    emb_local = emb[part].clone().requires_grad_()
    loss = head.margin_loss(emb_local, labels[part])
    loss.backward()
    assert torch.allclose(
        loss, loss_full, atol=1e-10, rtol=1e-10), (loss, loss_full)
    assert torch.allclose(
        head.weight.grad, full.weight.grad[start:end], atol=1e-10)
    factor = world if compensate else 1
    assert torch.allclose(
        emb_local.grad, factor * emb_full.grad[part], atol=1e-10)
    assert torch.isfinite(emb_local.grad).all()


def check_loss_api(rank):
    from mmpretrain.structures import DataSample

    from mmdl.models.heads import CombinedMarginHead
    torch.manual_seed(0)
    full = CombinedMarginHead(6, 4, shard=False, loss_weight=0.5)
    head = CombinedMarginHead(6, 4, shard='auto', loss_weight=0.5)
    assert head.sharded and head.num_local == 3
    with torch.no_grad():
        head.weight.copy_(full.weight[3 * rank:3 * rank + 3])
    emb = torch.randn(4, 4, generator=torch.Generator().manual_seed(2))
    labels = [1, 5, 3, 0]
    samples = [DataSample().set_gt_label(y) for y in labels]
    expected = full.loss((emb, ), samples)['loss']
    part = slice(2 * rank, 2 * rank + 2)
    loss = head.loss((emb[part], ), samples[part])['loss']
    assert torch.allclose(loss, expected, atol=1e-5), (loss, expected)
    # every rank sees the out-of-range label of the other
    try:
        head.margin_loss(emb[part], torch.tensor([0, 6 if rank else 1]))
    except ValueError as err:
        assert 'labels must be in [0, 6)' in str(err)
    else:
        raise AssertionError('no error for label 6')


def check_partial_fc(rank, world, labels, expected_used):
    import torch.distributed as dist

    from mmdl.models.heads import CombinedMarginHead
    num_classes, dim, rate = 20, 6, 0.4
    torch.manual_seed(0)
    full = CombinedMarginHead(num_classes, dim, shard=False).double()
    emb = make_data(len(labels), dim, labels, full.weight.detach(), 3)
    head = CombinedMarginHead(
        num_classes,
        dim,
        sample_rate=rate,
        shard=True,
        sample_seed=7,
        compensate_ddp_average=False).double()
    start = 10 * rank
    with torch.no_grad():
        head.weight.copy_(full.weight[start:start + 10])
    assert head.num_sample == 4
    half = len(labels) // 2
    part = slice(rank * half, rank * half + half)
    emb_local = emb[part].clone().requires_grad_()
    loss = head.margin_loss(emb_local, labels[part])
    loss.backward()
    used = head.last_sampled
    positives = {int(y) for y in labels if start <= y < start + 10}
    assert positives <= set(used.tolist()), (positives, used)
    assert len(used) == expected_used[rank], (used, expected_used)
    assert torch.equal(used, used.sort().values)
    assert all(start <= c < start + 10 for c in used.tolist())
    # independent computation: full head restricted to the sampled classes
    all_used = [None] * world
    dist.all_gather_object(all_used, used.tolist())
    classes = sorted(c for u in all_used for c in u)
    centres = full.weight.detach().clone().requires_grad_()
    emb_ref = emb.clone().requires_grad_()
    ref = reference_loss(emb_ref, centres, labels, ARCFACE, 64.0, classes)
    ref.backward()
    assert torch.allclose(loss, ref, atol=1e-10), (loss, ref)
    local_grad = centres.grad[start:start + 10]
    assert torch.allclose(head.weight.grad, local_grad, atol=1e-10)
    unused = [c - start for c in range(start, start + 10) if c not in used]
    assert (head.weight.grad[unused] == 0).all()
    assert torch.allclose(emb_local.grad, emb_ref.grad[part], atol=1e-10)


def check_ddp(rank, world):
    from torch import nn
    from torch.nn.parallel import DistributedDataParallel

    from mmdl.models.heads import (CombinedMarginHead,
                                   ignore_sharded_centres_in_ddp)

    class Toy(nn.Module):

        def __init__(self, shard):
            super().__init__()
            torch.manual_seed(0)
            self.backbone = nn.Linear(4, 5).double()
            self.head = CombinedMarginHead(
                7, 5, margins=COSFACE, scale=8.0, shard=shard).double()

        def forward(self, x, y):
            return self.head.margin_loss(self.backbone(x), y)

    gen = torch.Generator().manual_seed(5)
    x = torch.randn(6, 4, generator=gen, dtype=torch.float64)
    y = torch.tensor([0, 6, 2, 4, 5, 1])
    ref = Toy(False)
    ref(x, y).backward()
    model = Toy(True)
    start, end = model.head.class_start, model.head.class_end
    with torch.no_grad():
        model.head.weight.copy_(ref.head.weight[start:end])
    assert ignore_sharded_centres_in_ddp(model) == ['head.weight']
    # shards of 4 and 3 classes: DDP would fail on the shapes otherwise
    ddp = DistributedDataParallel(model)
    assert torch.equal(model.head.weight, ref.head.weight[start:end])
    part = slice(3 * rank, 3 * rank + 3)
    ddp(x[part], y[part]).backward()
    # averaged backbone gradient == single-process full-batch gradient
    for p, q in zip(model.backbone.parameters(), ref.backbone.parameters()):
        assert torch.allclose(p.grad, q.grad, atol=1e-10), (p.grad, q.grad)
    assert torch.allclose(
        model.head.weight.grad, ref.head.weight.grad[start:end], atol=1e-10)


def main():
    import torch.distributed as dist
    dist.init_process_group('gloo')
    rank, world = dist.get_rank(), dist.get_world_size()
    assert world == 2
    for margins in (ARCFACE, COSFACE, SPHEREFACE, COMBINED):
        for compensate in (False, True):
            check_sharded_equals_full(rank, world, margins, compensate)
    check_loss_api(rank)
    # 3 + 3 positives, 4 centres per rank: one random negative on each
    check_partial_fc(rank, world, torch.tensor([0, 3, 3, 12, 15, 19, 5, 12]),
                     (4, 4))
    # 5 positives on rank 0 (more than 4): exactly those
    check_partial_fc(rank, world, torch.tensor([0, 1, 2, 3, 4, 19, 1, 11]),
                     (5, 4))
    check_ddp(rank, world)
    with open(os.path.join(sys.argv[1], f'rank{rank}'), 'w') as f:
        f.write('ok')
    # a barrier first, so that no rank exits with collectives in flight
    destroy_process_group()


if __name__ == '__main__':
    main()
