# Copyright (c) mmdl contributors. All rights reserved.
"""Batch-norm weight merging and reparameterisation for continual learning.

Lee et al. (CVPR 2020) handle the statistical parameters of batch norm
(running means and variances, set by the data rather than by gradient
descent) with a "weight merging and reparameterization" method. The
procedure itself was not available. **Reconstruction**: "merging" is read
as moving the running statistics into learnable parameters without
changing the eval-mode network (into the layer feeding the batch norm, or
into the batch norm's own affine parameters), and "reparameterization" as
giving a merged batch norm the statistics of the next task's data, again
without changing the function. Both are implemented as function-preserving
operations:

* :func:`fold_bn` (*merge*): fold the running statistics of a batch norm
  into the Linear / Conv2d layer that feeds it (``W <- W / std``,
  ``b <- b / std``) and its ``beta`` (``beta <- beta - gamma mean / std``),
  leaving running statistics (0, 1): the eval-mode network is unchanged,
  the statistics now live in free parameters, and the merged layer's
  outputs have unit variance on the data the statistics came from.
  ``gamma`` stays where it is: folding it into ``W`` as well (the usual
  inference-time fusion) makes ``W``'s scale follow ``gamma`` across
  repeated merges, and for channels with ``gamma`` near 0 the re-expressed
  curvature (divided by the squared scale) explodes over the tasks.
  :func:`fold_bn_into_affine` is the alternative that folds the statistics
  into the batch norm's own ``gamma``/``beta`` and leaves the layer's
  weights alone.
* :func:`reparameterise_bn` (*reparameterization*): give a batch norm new
  running statistics ``(m, v)`` -- those of its input on the next task's
  data --
  and the affine parameters that keep the eval-mode function, so that in
  train mode the batch norm, normalising with batch statistics, starts
  (approximately, up to the batch-to-population difference) as the merged
  network on the new task.

Both are affine changes of coordinates of the parameters, so a quadratic
penalty anchored at the current weights is carried over exactly: each
returns the per-channel factors needed to re-express stored curvature
(:meth:`~mmdl.continual.curvature.LayerCurvature.scale_outputs`,
:meth:`~mmdl.continual.curvature.LayerCurvature.transform_unit`; for a
regulariser, its ``scale_layer_outputs`` and ``transform_bn_unit``).
"""
from typing import Callable, Dict, Iterable, Optional, Tuple

import torch
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm

from .curvature import SUPPORTED_LAYERS


def find_bn_pairs(model: nn.Module,
                  run_forward: Callable[[], object]) -> Dict[str, str]:
    """The batch norms fed directly by a Linear/Conv2d layer.

    One forward pass (``run_forward()``, e.g. one batch in eval mode) is
    traced: a batch norm is paired with the layer whose output tensor *is*
    its input. The merge assumes that this output feeds nothing else (true
    for Linear->BN and conv->BN in MLPs and ResNets).

    Args:
        model (nn.Module): The model.
        run_forward (callable): Runs one forward pass of ``model``.

    Returns:
        dict: Batch-norm name to producer name, in model order.
    """
    names = {id(m): n for n, m in model.named_modules()}
    produced: Dict[int, Tuple[Tensor, str]] = {}
    pairs: Dict[str, str] = {}

    def producer_hook(module, args, output):
        produced[id(output)] = (output, names[id(module)])

    def bn_hook(module, args):
        entry = produced.get(id(args[0]))
        if entry is not None and entry[0] is args[0]:
            pairs[names[id(module)]] = entry[1]

    handles = []
    for module in model.modules():
        if isinstance(module, SUPPORTED_LAYERS):
            handles.append(module.register_forward_hook(producer_hook))
        elif isinstance(module, _BatchNorm) and module.affine:
            handles.append(module.register_forward_pre_hook(bn_hook))
    try:
        with torch.no_grad():
            run_forward()
    finally:
        for handle in handles:
            handle.remove()
    producers = list(pairs.values())
    shared = sorted({p for p in producers if producers.count(p) > 1})
    if shared:
        raise ValueError(f'layers {shared} feed several batch norms; they '
                         'cannot be merged')
    order = {n: i for i, (n, _) in enumerate(model.named_modules())}
    return dict(sorted(pairs.items(), key=lambda kv: order[kv[0]]))


def _check_bn(bn: _BatchNorm) -> None:
    if not bn.affine or bn.running_mean is None:
        raise ValueError(f'{type(bn).__name__} needs affine=True and '
                         'track_running_stats=True to be merged')


def _std(bn: _BatchNorm) -> Tensor:
    return (bn.running_var + bn.eps).sqrt()


@torch.no_grad()
def fold_bn(producer: nn.Module, bn: _BatchNorm) -> Tuple[Tensor, Tensor]:
    """Fold a batch norm's running statistics into the layer feeding it and
    into its ``beta`` (in place; the eval-mode function is unchanged).

    Args:
        producer (nn.Linear | nn.Conv2d): The layer feeding ``bn``.
        bn (_BatchNorm): The batch norm.

    Returns:
        tuple[Tensor, Tensor]: ``r`` (C, ): the producer's new flat weight
        is ``diag(r)`` times the old; ``jac`` (C, 2, 2): the old
        ``(gamma, beta)`` perturbation is ``jac @`` the new one.
    """
    _check_bn(bn)
    mean, std = bn.running_mean.clone(), _std(bn)
    scale = 1.0 / std
    shape = (-1, ) + (1, ) * (producer.weight.dim() - 1)
    producer.weight.mul_(scale.view(shape))
    if producer.bias is not None:
        producer.bias.mul_(scale)
    bn.bias.sub_(bn.weight * mean * scale)
    bn.running_mean.zero_()
    bn.running_var.fill_(1.0 - bn.eps)
    jac = torch.zeros(
        scale.shape[0], 2, 2, dtype=scale.dtype, device=scale.device)
    jac[:, 0, 0] = 1.0
    jac[:, 1, 0] = mean * scale
    jac[:, 1, 1] = 1.0
    return scale, jac


@torch.no_grad()
def fold_bn_into_affine(bn: _BatchNorm) -> Tensor:
    """Fold a batch norm's running statistics into its own ``gamma`` and
    ``beta`` (``gamma <- gamma / std``, ``beta <- beta - gamma mean /
    std``), leaving running statistics (0, 1) (in place; the eval-mode
    function is unchanged, the layer feeding it is not touched).

    Args:
        bn (_BatchNorm): The batch norm.

    Returns:
        Tensor: ``jac`` (C, 2, 2): the old ``(gamma, beta)`` perturbation
        is ``jac @`` the new one.
    """
    _check_bn(bn)
    mean, std = bn.running_mean.clone(), _std(bn)
    bn.bias.sub_(bn.weight * mean / std)
    bn.weight.div_(std)
    bn.running_mean.zero_()
    bn.running_var.fill_(1.0 - bn.eps)
    jac = torch.zeros(mean.shape[0], 2, 2, dtype=std.dtype, device=std.device)
    jac[:, 0, 0] = std
    jac[:, 1, 0] = mean
    jac[:, 1, 1] = 1.0
    return jac


@torch.no_grad()
def reparameterise_bn(bn: _BatchNorm, mean: Tensor, var: Tensor) -> Tensor:
    """Give a batch norm the running statistics ``(mean, var)`` and the
    affine parameters that keep its eval-mode function (in place).

    Args:
        bn (_BatchNorm): The batch norm.
        mean (Tensor): New running mean, (C, ).
        var (Tensor): New running variance, (C, ), >= 0.

    Returns:
        Tensor: ``jac`` (C, 2, 2), the old ``(gamma, beta)`` perturbation
        is ``jac @`` the new one.
    """
    _check_bn(bn)
    mean = mean.to(bn.running_mean)
    var = var.to(bn.running_var).clamp(min=0)
    old_std, old_mean = _std(bn), bn.running_mean.clone()
    gamma = bn.weight.clone()
    new_std = (var + bn.eps).sqrt()
    bn.bias.add_(gamma * (mean - old_mean) / old_std)
    bn.weight.mul_(new_std / old_std)
    bn.running_mean.copy_(mean)
    bn.running_var.copy_(var)
    jac = torch.zeros(
        mean.shape[0], 2, 2, dtype=gamma.dtype, device=gamma.device)
    jac[:, 0, 0] = old_std / new_std
    jac[:, 1, 0] = (old_mean - mean) / new_std
    jac[:, 1, 1] = 1.0
    return jac


@torch.no_grad()
def bn_input_moments(
        model: nn.Module,
        bns: Dict[str, _BatchNorm],
        batches: Iterable,
        forward: Callable[[nn.Module, object], object],
        max_batches: Optional[int] = None) -> Dict[str, Tuple[Tensor, Tensor]]:
    """Per-channel mean and (biased) variance of the inputs of batch norms
    over a dataset, in whatever mode the model is in, without touching the
    running statistics.

    Args:
        model (nn.Module): The model.
        bns (dict): Batch norms by name.
        batches (Iterable): The data.
        forward (callable): ``forward(model, batch)`` runs a forward pass.
        max_batches (int, optional): Stop after this many batches.

    Returns:
        dict: Name to ``(moments, count)``: ``moments`` (2, C) float64 holds
        the per-channel sum and sum of squares of ``count`` values (reduce
        across processes, then :func:`moments_to_mean_var`).
    """
    sums: Dict[str, Tensor] = {}
    counts: Dict[str, int] = {}

    def make_hook(name):

        def hook(module, args):
            x = args[0].detach().double().transpose(0, 1).flatten(1)
            moments = torch.stack([x.sum(1), (x * x).sum(1)])
            sums[name] = moments if name not in sums else sums[name] + moments
            counts[name] = counts.get(name, 0) + x.shape[1]

        return hook

    handles = [
        bn.register_forward_pre_hook(make_hook(name))
        for name, bn in bns.items()
    ]
    saved = [(bn, bn.running_mean.clone(), bn.running_var.clone(),
              bn.num_batches_tracked.clone()
              if bn.num_batches_tracked is not None else None)
             for bn in bns.values()]
    try:
        for index, batch in enumerate(batches):
            if max_batches is not None and index >= max_batches:
                break
            forward(model, batch)
    finally:
        for handle in handles:
            handle.remove()
        for bn, mean, var, tracked in saved:
            bn.running_mean.copy_(mean)
            bn.running_var.copy_(var)
            if tracked is not None:
                bn.num_batches_tracked.copy_(tracked)
    return {name: (s, counts[name]) for name, s in sums.items()}


def moments_to_mean_var(moments: Tensor, count: int) -> Tuple[Tensor, Tensor]:
    """``(mean, biased variance)`` from stacked ``(sum, sum of squares)``."""
    mean = moments[0] / count
    var = (moments[1] / count - mean * mean).clamp(min=0)
    return mean, var
