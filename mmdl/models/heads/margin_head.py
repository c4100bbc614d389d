# Copyright (c) mmdl contributors. All rights reserved.
"""Combined-margin softmax head (ArcFace, CosFace, SphereFace) with class
centres sharded across ranks and Partial FC sampling.

References:

* J. Deng, J. Guo, N. Xue, S. Zafeiriou. "ArcFace: Additive Angular Margin
  Loss for Deep Face Recognition". CVPR 2019 (the combined margin
  ``cos(m1 * theta + m2) - m3``);
* H. Wang et al. "CosFace: Large Margin Cosine Loss". CVPR 2018;
* W. Liu et al. "SphereFace: Deep Hypersphere Embedding for Face
  Recognition". CVPR 2017 (the monotonic extension ``psi`` of
  ``cos(m * theta)``);
* X. An et al. "Killing Two Birds With One Stone: Efficient and Robust
  Training of Face Recognition CNNs by Partial FC". CVPR 2022, and
  insightface's ``recognition/arcface_torch/partial_fc_v2.py`` (class
  shards, gathered batch, distributed softmax, sampling) and ``losses.py``
  (``CombinedMarginLoss`` / ``ArcFace``: ArcFace's fallback).
"""
import math
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.distributed as dist
import torch.nn.functional as F
from mmpretrain.models.heads import ClsHead
from mmpretrain.structures import DataSample
from torch import Tensor, nn
from torch.autograd import Function

from mmdl.registry import MODELS


def shard_range(num_classes: int, world_size: int,
                rank: int) -> Tuple[int, int]:
    """The classes ``[start, end)`` held by ``rank``.

    As Partial FC v2: ``num_classes // world_size`` classes per rank, the
    first ``num_classes % world_size`` ranks holding one more (10 classes
    on 4 ranks: 3, 3, 2, 2).

    Args:
        num_classes (int): All classes.
        world_size (int): Ranks.
        rank (int): This rank.

    Returns:
        tuple[int, int]: ``(start, end)``.
    """
    base, extra = divmod(num_classes, world_size)
    start = base * rank + min(rank, extra)
    return start, start + base + int(rank < extra)


class _AllReduceSum(Function):
    """All-reduce (sum) whose backward passes the gradient through
    unchanged.

    Every rank computes the same loss from the reduced value ``S = sum_r
    s_r``, so ``dL/ds_r = dL/dS`` is already known locally; reducing the
    gradient again (what ``torch.distributed.nn.functional.all_reduce``
    does) would count the loss once per rank.
    """

    @staticmethod
    def forward(ctx, tensor: Tensor) -> Tensor:
        tensor = tensor.clone()
        dist.all_reduce(tensor, dist.ReduceOp.SUM)
        return tensor

    @staticmethod
    def backward(ctx, grad: Tensor) -> Tensor:
        return grad


class _AllGather(Function):
    """Differentiable all-gather of equally shaped tensors.

    Backward: the gradient of rank ``r``'s tensor is the sum over ranks of
    the gradients of its gathered copy (all-reduce of the stacked
    gradients, own slice), times ``grad_scale``. Written by hand because
    ``torch.distributed.nn.functional.all_gather`` is deprecated in torch
    2.14 (a FutureWarning on every call) and its gloo backward emulates a
    reduce-scatter with one scatter per rank.
    """

    @staticmethod
    def forward(ctx, tensor: Tensor, grad_scale: float) -> Tuple[Tensor, ...]:
        ctx.grad_scale = grad_scale
        gathered = [
            torch.empty_like(tensor) for _ in range(dist.get_world_size())
        ]
        dist.all_gather(gathered, tensor.contiguous())
        return tuple(gathered)

    @staticmethod
    def backward(ctx, *grads: Tensor) -> Tuple[Tensor, None]:
        grad = torch.stack(grads)
        dist.all_reduce(grad, dist.ReduceOp.SUM)
        return grad[dist.get_rank()] * ctx.grad_scale, None


def combined_margin_target(cosine: Tensor, margins: Sequence[float]) -> Tensor:
    """The target logit (before scaling) of the combined margin.

    ``cos(m1 * theta + m2) - m3`` with ``theta = arccos(cosine)`` while
    ``m1 * theta + m2 <= pi`` (where it decreases with ``theta``). Beyond,
    it is extended so that it keeps decreasing:

    * ``m1 == 1`` (ArcFace, CosFace, combined): insightface's ArcFace
      fallback, ``cosine - m2 * sin(pi - m2) - m3`` where ``cosine <=
      cos(pi - m2)`` (``losses.py``, ``easy_margin=False``; also
      mmpretrain's ``ArcFaceClsHead``). With ``m2 = 0`` this is CosFace,
      ``cosine - m3``, computed without ``arccos``.
    * ``m1 != 1`` (SphereFace): SphereFace's ``psi``, ``(-1)^k cos(u) -
      2k - m3`` with ``u = m1 * theta + m2`` and ``k = floor(u / pi)``
      (continuous and decreasing; insightface's ``CombinedMarginLoss``
      rejects ``m1 != 1``). SphereFace's annealing with the softmax logit
      (lambda) is not applied.

    Gradient: ``arccos`` is evaluated on the cosine clamped to ``[-1 +
    eps, 1 - eps]`` (``eps`` of the dtype), so its derivative is finite
    everywhere, also in the unselected ``torch.where`` branch (an infinite
    derivative there would turn into NaN); within ``eps`` of +-1 the
    ``arccos`` path passes no gradient (the clamp), instead of NaN.

    Args:
        cosine (Tensor): Target cosines, in ``[-1, 1]``.
        margins (Sequence[float]): ``(m1, m2, m3)``.

    Returns:
        Tensor: The modified target cosines.
    """
    m1, m2, m3 = (float(m) for m in margins)
    if m1 == 1 and m2 == 0:
        return cosine - m3
    eps = torch.finfo(cosine.dtype).eps
    theta = torch.acos(cosine.clamp(-1 + eps, 1 - eps))
    if m1 == 1:
        threshold = math.cos(math.pi - m2)
        sinmm = math.sin(math.pi - m2) * m2
        phi = torch.where(cosine > threshold, torch.cos(theta + m2),
                          cosine - sinmm)
    else:
        u = m1 * theta + m2
        k = torch.floor(u.detach() / math.pi)
        sign = 1 - 2 * torch.remainder(k, 2)
        phi = sign * torch.cos(u) - 2 * k
    return phi - m3


@MODELS.register_module()
class CombinedMarginHead(ClsHead):
    """Combined angular/cosine margin softmax head with sharded class
    centres and Partial FC sampling.

    **Loss.** Embeddings (``feats[-1]``, ``(N, in_channels)``) and class
    centres are L2-normalised and their cosines are the logits; the target
    logit becomes ``cos(m1 * theta + m2) - m3`` (see
    :func:`combined_margin_target` for the fallback beyond ``pi``), every
    logit is multiplied by ``scale`` and the loss is ``loss_weight`` times
    the softmax cross-entropy averaged over the batch. ``margins``:
    ``(1, 0.5, 0)`` ArcFace (``scale`` 64), ``(1, 0, 0.4)`` CosFace,
    ``(m, 0, 0)`` with ``m > 1`` SphereFace-style, others combined.
    Cosines are clamped to ``[-1, 1]`` as in Partial FC (torch's clamp
    passes no gradient at the bounds themselves).

    **Sharding** (``shard=True``, or ``'auto'`` when the default process
    group has several ranks), after Partial FC v2: rank ``r`` holds the
    centres of classes ``[start, end)`` of :func:`shard_range` (the first
    ``num_classes % world_size`` ranks one more). In :meth:`loss`, the
    embeddings and labels of every rank are all-gathered (local batches
    may differ in size: they are padded for the gather), so
    each rank computes the logits of the global batch against its local
    centres; the cross-entropy over all classes uses the max (all-reduce
    MAX, detached), the sum of exponentials (all-reduce SUM) and the target
    logit (all-reduce SUM; exactly one rank holds it), and the loss, equal
    on every rank, is the mean over the global batch of ``log-normaliser -
    target logit``. Gradients reach the local centres and, through the
    gather (differentiable, see :class:`_AllGather`), every rank's own
    embeddings. Works with gloo on CPU.

    **Gradient scale under DDP** (``compensate_ddp_average``). The exact
    gradient of that loss w.r.t. a rank's embeddings, averaged by DDP
    over ``W`` ranks, gives the backbone ``1 / W`` of the full-batch
    gradient. As Partial FC v2's ``AllGatherFunc`` (``grad_out *=
    world_size``), the head multiplies the embedding gradient by ``W``
    (default), so that DDP's average yields the full-batch gradient, as an
    unsharded head on a data-parallel batch would; set it to False for the
    exact autograd gradient of the returned loss. Sharded centres must not
    be broadcast or averaged by DDP: call
    :func:`ignore_sharded_centres_in_ddp` on the model before wrapping it.
    Two more consequences of sharding: a checkpoint saved on rank 0 holds
    rank 0's shard only (resuming needs every rank's shard, as
    arcface_torch saves one file per rank), and a gradient clipping by the
    total norm of all parameters sees a different shard on every rank, so
    it scales the replicated parameters differently and desynchronises
    them (arcface_torch clips the backbone only): the centres are marked
    ``skip_grad_clip``, which :class:`~mmdl.engine.SelectiveClipOptimWrapper`
    leaves out of the clipping.

    **Partial FC** (``sample_rate < 1``), as Partial FC v2's ``sample``: on
    each rank, the local centres of the classes present in the (global)
    batch plus random other local centres, ``max(int(sample_rate *
    num_local), 1)`` centres in all (Partial FC v2 has no ``max``: with a
    tiny shard it would use none), or all the positive ones if there are
    more; logits only over those (labels remapped, the positives always
    included). The choice draws ``torch.rand`` scores from a generator
    seeded with ``sample_seed + rank`` (or from the global RNG when
    ``sample_seed`` is None); the global class indices used last are in
    :attr:`last_sampled`.

    **Reused from mmpretrain**: :class:`ClsHead`'s ``pre_logits`` (the last
    feature), ``predict`` and ``_get_predictions`` (its loss module,
    ``topk`` and ``cal_acc`` are not used). ``ArcFaceClsHead`` is
    not subclassed: its full ``(num_classes, in_channels)`` layer cannot be
    sharded, its loss goes through a loss module on full logits, and its
    margin is ArcFace's only. Written by hand: the margin (same ArcFace
    values and fallback as ``ArcFaceClsHead`` with ``easy_margin=False``,
    but with a clamped ``arccos``; ``ArcFaceClsHead``'s unclamped one gives
    NaN gradients at ``|cos| = 1``), the sharding, the distributed
    softmax cross-entropy (no loss module: it needs the reduced normaliser)
    and the sampling. Unlike insightface's current ``ArcFace`` (margin
    applied under ``no_grad``, a straight-through gradient), the gradient
    is the exact one of the margin function.

    **predict** returns ``softmax(scale * cos)`` over this rank's centres
    (no margin), like ``ArcFaceClsHead``; sharded, the scores and labels
    cover classes ``[class_start, class_end)`` only (a label ``i`` is
    class ``class_start + i``). Face verification reads the backbone's
    embedding instead.

    Args:
        num_classes (int): Classes (identities).
        in_channels (int): Embedding dimension.
        margins (Sequence[float]): ``(m1, m2, m3)``, ``m1 > 0``, ``0 <= m2 <
            pi``, ``m3 >= 0``. Defaults to ``(1.0, 0.5, 0.0)`` (ArcFace).
        scale (float): Logit scale ``s``. Defaults to 64.
        sample_rate (float): Partial FC sampling rate in ``(0, 1]``.
            Defaults to 1 (all centres).
        shard (bool | str): True: shard over the default process group
            (it must be initialised); False: every rank holds all centres
            (plain data parallel); ``'auto'``: shard when a process group
            with several ranks is initialised. Decided when the head is
            built. Defaults to ``'auto'``.
        loss_weight (float): Weight of the loss. Defaults to 1.
        init_std (float): Standard deviation of the normal initialisation
            of the centres (Partial FC: 0.01), drawn in the constructor
            from a generator seeded by the global RNG plus the rank (ranks
            seeded alike still get different shards). Defaults to 0.01.
        sample_seed (int, optional): Seed of the sampling generator (plus
            the rank). Defaults to None (global RNG).
        compensate_ddp_average (bool): Multiply the gradient of the
            embeddings by the world size when sharded (see above). Defaults
            to True.
        init_cfg (dict, optional): Initialisation config (e.g.
            ``Pretrained``), applied by ``init_weights`` after the
            constructor's normal initialisation. Defaults to None.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 margins: Sequence[float] = (1.0, 0.5, 0.0),
                 scale: float = 64.0,
                 sample_rate: float = 1.0,
                 shard: Union[bool, str] = 'auto',
                 loss_weight: float = 1.0,
                 init_std: float = 0.01,
                 sample_seed: Optional[int] = None,
                 compensate_ddp_average: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(loss=nn.Identity(), init_cfg=init_cfg)
        del self.loss_module  # the loss is computed by hand
        name = type(self).__name__
        positive = dict(num_classes=num_classes, in_channels=in_channels)
        for arg, value in positive.items():
            if not isinstance(value, int) or value < 1:
                raise ValueError(f'{name}: {arg} must be a positive int, got '
                                 f'{value!r}')
        self.margins = self._check_margins(margins)
        if not scale > 0:
            raise ValueError(f'{name}: scale must be positive, got {scale}')
        if not 0 < sample_rate <= 1:
            raise ValueError(f'{name}: sample_rate must be in (0, 1], got '
                             f'{sample_rate}')
        if not (shard is True or shard is False or shard == 'auto'):
            raise ValueError(f'{name}: shard must be True, False or '
                             f"'auto', got {shard!r}")
        if not loss_weight >= 0:
            raise ValueError(f'{name}: loss_weight must be >= 0, got '
                             f'{loss_weight}')
        if not init_std > 0:
            raise ValueError(f'{name}: init_std must be positive, got '
                             f'{init_std}')
        initialised = dist.is_available() and dist.is_initialized()
        if shard is True and not initialised:
            raise ValueError(f'{name}: shard=True needs an initialised '
                             "default process group; use shard='auto' to "
                             'shard only when distributed')
        world_size = dist.get_world_size() if initialised else 1
        # 'auto': shard only over several ranks; True: even over one
        self.sharded = shard is True or (shard == 'auto' and world_size > 1)
        self.world_size = world_size if self.sharded else 1
        self.rank = dist.get_rank() if self.sharded else 0
        if num_classes < self.world_size:
            raise ValueError(f'{name}: {num_classes} classes cannot be '
                             f'sharded over {self.world_size} ranks')
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.scale = float(scale)
        self.sample_rate = float(sample_rate)
        self.loss_weight = float(loss_weight)
        self.init_std = float(init_std)
        self.sample_seed = sample_seed
        self.compensate_ddp_average = compensate_ddp_average
        self.class_start, self.class_end = shard_range(num_classes,
                                                       self.world_size,
                                                       self.rank)
        self.num_local = self.class_end - self.class_start
        self.num_sample = max(int(self.sample_rate * self.num_local), 1)
        self.last_sampled: Optional[Tensor] = None
        self._generator: Optional[torch.Generator] = None
        self.weight = nn.Parameter(torch.empty(self.num_local, in_channels))
        # left out of gradient clipping by mmdl's SelectiveClipOptimWrapper
        # (arcface_torch clips the backbone only; a sharded shard's norm
        # differs from rank to rank)
        self.weight.skip_grad_clip = True
        self.reset_centres()

    @classmethod
    def _check_margins(cls, margins: Sequence[float]) -> Tuple[float, ...]:
        name = cls.__name__
        try:
            m1, m2, m3 = (float(m) for m in margins)
        except (TypeError, ValueError):
            raise ValueError(f'{name}: margins must be (m1, m2, m3), got '
                             f'{margins!r}') from None
        if not m1 > 0:
            raise ValueError(f'{name}: m1 must be positive, got {m1}')
        if not 0 <= m2 < math.pi:
            raise ValueError(f'{name}: m2 must be in [0, pi), got {m2}')
        if not m3 >= 0:
            raise ValueError(f'{name}: m3 must be >= 0, got {m3}')
        return m1, m2, m3

    def sharded_parameters(self) -> List[Tuple[str, int, int, int]]:
        """The sharded centres: ``[('weight', class_start, class_end,
        num_classes)]`` when sharded (none otherwise), for
        :class:`~mmdl.engine.MMDLRunner`'s checkpoints, which hold the full
        matrix (see :mod:`mmdl.engine.runner.sharded_state`)."""
        if not self.sharded:
            return []
        return [('weight', self.class_start, self.class_end,
                 self.num_classes)]

    def _load_from_state_dict(self, state_dict, prefix, local_metadata,
                              strict, missing_keys, unexpected_keys,
                              error_msgs) -> None:
        """Load the centres; a full ``[num_classes, in_channels]`` matrix
        (a checkpoint of any number of ranks) gives a sharded head its
        rows."""
        key = prefix + 'weight'
        value = state_dict.get(key)
        if self.sharded and isinstance(value, Tensor) and value.dim() == 2 \
                and value.shape[0] == self.num_classes != self.num_local:
            state_dict = dict(state_dict)
            state_dict[key] = value[self.class_start:self.class_end]
        super()._load_from_state_dict(state_dict, prefix, local_metadata,
                                      strict, missing_keys, unexpected_keys,
                                      error_msgs)

    def reset_centres(self) -> None:
        """Draw the centres from N(0, init_std^2), with a generator seeded
        by the global RNG plus the rank."""
        if self.weight.device.type == 'meta':
            return
        seed = int(torch.randint(0, 2**31 - 1, (1, )))
        generator = torch.Generator().manual_seed(seed + self.rank)
        values = torch.randn(
            self.weight.shape, generator=generator) * self.init_std
        with torch.no_grad():
            self.weight.copy_(values)

    def extra_repr(self) -> str:
        return (f'num_classes={self.num_classes}, in_channels='
                f'{self.in_channels}, margins={self.margins}, scale='
                f'{self.scale}, sample_rate={self.sample_rate}, classes='
                f'[{self.class_start}, {self.class_end}) of rank '
                f'{self.rank}/{self.world_size}')

    def forward(self,
                feats: Tuple[Tensor, ...],
                target: Optional[Tensor] = None) -> Tensor:
        """Scaled logits of this rank's batch over this rank's centres.

        Args:
            feats (tuple[Tensor]): Features; the last is the embedding.
            target (Tensor, optional): Global class labels ``(N, )``; the
                margin is applied where the class is held by this rank.
                Defaults to None (no margin, as in evaluation).

        Returns:
            Tensor: ``(N, num_local)``.
        """
        embeddings = self.pre_logits(feats)
        local = None
        if target is not None:
            target = torch.as_tensor(target, device=embeddings.device)
            local = self._local_labels(target.long().view(-1))
        return self._logits(embeddings, self.weight, local)

    def loss(self, feats: Tuple[Tensor, ...], data_samples: List[DataSample],
             **kwargs) -> dict:
        """The margin softmax loss (over all ranks' batches when sharded).

        Args:
            feats (tuple[Tensor]): Features; the last is the embedding.
            data_samples (list[DataSample]): Samples with ``gt_label``.
            **kwargs: Unused (kept for mmpretrain's signature).

        Returns:
            dict[str, Tensor]: ``loss``.
        """
        if data_samples and 'gt_score' in data_samples[0]:
            raise ValueError(f'{type(self).__name__}: soft labels (gt_score, '
                             'from batch augmentations) are not supported')
        embeddings = self.pre_logits(feats)
        labels = torch.cat([s.gt_label for s in data_samples])
        return dict(loss=self.margin_loss(embeddings, labels))

    def margin_loss(self, embeddings: Tensor, labels: Tensor) -> Tensor:
        """The loss from embeddings and labels.

        Sharded, every rank must call it (collective operations); the
        result is the same on every rank.

        Args:
            embeddings (Tensor): This rank's embeddings ``(N, in_channels)``.
            labels (Tensor): Their classes ``(N, )``, in ``[0,
                num_classes)``.

        Returns:
            Tensor: The scalar loss (``loss_weight`` applied).
        """
        labels = torch.as_tensor(labels, device=embeddings.device).long()
        labels = labels.view(-1)
        if labels.numel() != embeddings.size(0):
            raise ValueError(f'{type(self).__name__}: {labels.numel()} '
                             f'labels for {embeddings.size(0)} embeddings')
        if self.sharded and self.world_size > 1:
            embeddings, labels = self._gather(embeddings, labels)
        if labels.numel() and (int(labels.min()) < 0
                               or int(labels.max()) >= self.num_classes):
            raise ValueError(f'{type(self).__name__}: labels must be in [0, '
                             f'{self.num_classes}), got '
                             f'[{int(labels.min())}, {int(labels.max())}]')
        local = self._local_labels(labels)
        weight = self.weight
        if self.sample_rate < 1:
            index = self.sample_centres(local)
            self.last_sampled = index + self.class_start
            weight = weight[index]
            positive = local >= 0
            local[positive] = torch.searchsorted(index, local[positive])
        else:
            self.last_sampled = None
        logits = self._logits(embeddings, weight, local)
        return self.loss_weight * self._dist_cross_entropy(logits, local)

    def _local_labels(self, labels: Tensor) -> Tensor:
        """Labels relative to this rank's first class, -1 elsewhere."""
        local = labels - self.class_start
        return torch.where((local >= 0) & (local < self.num_local), local,
                           torch.full_like(local, -1))

    def sample_centres(self, local_labels: Tensor) -> Tensor:
        """Partial FC v2's choice of local centres.

        Args:
            local_labels (Tensor): Labels relative to this rank's first
                class, -1 for classes of other ranks.

        Returns:
            Tensor: Sorted indices of the local centres to use: every
            positive one and random others, ``num_sample`` in all (or the
            positives if there are more).
        """
        device = self.weight.device
        positive = torch.unique(local_labels[local_labels >= 0])
        if positive.numel() >= self.num_sample:
            return positive.to(device)
        if self.sample_seed is None:
            scores = torch.rand(self.num_local, device=device)
        else:
            if self._generator is None:
                self._generator = torch.Generator().manual_seed(
                    int(self.sample_seed) + self.rank)
            scores = torch.rand(
                self.num_local, generator=self._generator).to(device)
        scores[positive.to(device)] = 2.0
        return torch.topk(scores, self.num_sample).indices.sort().values

    def _logits(self, embeddings: Tensor, weight: Tensor,
                local_labels: Optional[Tensor]) -> Tensor:
        """``scale`` x cosines, the margin on the target of the rows whose
        class is in ``weight`` (``local_labels`` >= 0)."""
        with torch.autocast(embeddings.device.type, enabled=False):
            dtype = torch.promote_types(embeddings.dtype, weight.dtype)
            if dtype in (torch.float16, torch.bfloat16):
                dtype = torch.float32
            cosine = F.linear(
                F.normalize(embeddings.to(dtype)),
                F.normalize(weight.to(dtype))).clamp(-1, 1)
            if local_labels is not None:
                rows = torch.nonzero(local_labels >= 0, as_tuple=True)[0]
                cols = local_labels[rows]
                target = combined_margin_target(cosine[rows, cols],
                                                self.margins)
                cosine = cosine.index_put((rows, cols), target)
            return cosine * self.scale

    def _dist_cross_entropy(self, logits: Tensor,
                            local_labels: Tensor) -> Tensor:
        """Mean softmax cross-entropy whose classes are spread over the
        ranks (a plain one when not sharded)."""
        distributed = self.sharded and self.world_size > 1
        if logits.size(0) == 0:
            return logits.sum() * 0
        max_logit = logits.detach().max(dim=1).values
        if distributed:
            dist.all_reduce(max_logit, dist.ReduceOp.MAX)
        sum_exp = torch.exp(logits - max_logit[:, None]).sum(dim=1)
        rows = torch.nonzero(local_labels >= 0, as_tuple=True)[0]
        target = logits.new_zeros(logits.size(0)).index_put(
            (rows, ), logits[rows, local_labels[rows]])
        if distributed:
            sum_exp = _AllReduceSum.apply(sum_exp)
            target = _AllReduceSum.apply(target)
        return (torch.log(sum_exp) + max_logit - target).mean()

    def _gather(self, embeddings: Tensor,
                labels: Tensor) -> Tuple[Tensor, Tensor]:
        """All ranks' embeddings (differentiable) and labels, in rank
        order."""
        world_size = self.world_size
        size = torch.tensor([embeddings.size(0)], device=labels.device)
        sizes = [torch.zeros_like(size) for _ in range(world_size)]
        dist.all_gather(sizes, size)
        sizes = [int(s) for s in sizes]
        pad = max(sizes) - embeddings.size(0)
        embeddings = F.pad(embeddings, (0, 0, 0, pad))
        labels = F.pad(labels, (0, pad), value=-1)
        grad_scale = float(world_size) if self.compensate_ddp_average else 1.
        gathered = _AllGather.apply(embeddings, grad_scale)
        label_list = [torch.empty_like(labels) for _ in range(world_size)]
        dist.all_gather(label_list, labels.contiguous())
        return (torch.cat([g[:n] for g, n in zip(gathered, sizes)]),
                torch.cat([g[:n] for g, n in zip(label_list, sizes)]))

    def _get_loss(self, cls_score: Tensor, data_samples: List[DataSample],
                  **kwargs) -> dict:
        raise NotImplementedError(
            f'{type(self).__name__} computes its loss from the embeddings; '
            'call loss(feats, data_samples)')


def sharded_centre_names(model: nn.Module) -> List[str]:
    """Names (in ``model.named_parameters()``) of the centres of every
    sharded :class:`CombinedMarginHead` in ``model``."""
    return [
        f'{prefix}.weight' if prefix else 'weight'
        for prefix, module in model.named_modules()
        if isinstance(module, CombinedMarginHead) and module.sharded
    ]


def ignore_sharded_centres_in_ddp(model: nn.Module) -> List[str]:
    """Keep DDP from broadcasting and averaging sharded centres.

    Adds their names to ``model._ddp_params_and_buffers_to_ignore`` (what
    ``DistributedDataParallel._set_params_and_buffers_to_ignore_for_model``
    sets), which DDP and mmengine's ``MMDistributedDataParallel`` read when
    ``model`` is wrapped: call it before wrapping. Rank ``r``'s centres
    belong to other classes than rank 0's (and may have another shape), so
    DDP must neither overwrite them at construction nor average their
    gradients.

    Args:
        model (nn.Module): The model that will be wrapped.

    Returns:
        list[str]: The names added.
    """
    names = sharded_centre_names(model)
    ignored = list(getattr(model, '_ddp_params_and_buffers_to_ignore', []))
    model._ddp_params_and_buffers_to_ignore = ignored + [
        n for n in names if n not in ignored
    ]
    return names
