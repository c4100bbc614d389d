# Copyright (c) mmdl contributors. All rights reserved.
"""A DDP wrapper that runs the wrapped model's own ``train_step``."""
import contextlib
from typing import Dict, Iterator, List, Union

import torch
import torch.distributed as torch_dist
from mmengine.model import MMDistributedDataParallel
from mmengine.optim import OptimWrapper, OptimWrapperDict
from torch._utils import _flatten_dense_tensors, _unflatten_dense_tensors

from mmdl.registry import MODEL_WRAPPERS


def average_gradients(params: List[torch.Tensor], process_group=None) -> None:
    """Average the gradients of ``params`` over all ranks, in place.

    Ranks may disagree on which parameters received a gradient (a branch
    unused on one rank): parameters with a gradient on *any* rank get zeros
    where they have none, the others keep ``grad=None``. Gradients are
    reduced in one flat buffer per dtype/device, so there are two
    collectives per call whatever the number of parameters.

    Args:
        params (list[Tensor]): Parameters, in the same order on all ranks.
        process_group (optional): The process group. Defaults to the world.
    """
    world_size = torch_dist.get_world_size(process_group)
    if world_size == 1 or not params:
        return
    has_grad = torch.tensor([p.grad is not None for p in params],
                            dtype=torch.uint8,
                            device=params[0].device)
    torch_dist.all_reduce(
        has_grad, op=torch_dist.ReduceOp.MAX, group=process_group)
    buckets: Dict[tuple, List[torch.Tensor]] = {}
    for param, flag in zip(params, has_grad.tolist()):
        if not flag:
            continue
        if param.grad is None:
            param.grad = torch.zeros_like(param)
        key = (param.grad.dtype, param.grad.device)
        buckets.setdefault(key, []).append(param.grad)
    for grads in buckets.values():
        flat = _flatten_dense_tensors(grads)
        torch_dist.all_reduce(flat, group=process_group)
        flat.div_(world_size)
        for grad, synced in zip(grads, _unflatten_dense_tensors(flat, grads)):
            grad.copy_(synced)


@contextlib.contextmanager
def gradients_averaged_before_step(optim_wrapper: Union[OptimWrapper,
                                                        OptimWrapperDict],
                                   process_group=None) -> Iterator[None]:
    """Within the context, every ``step()`` of ``optim_wrapper`` (each
    wrapper of an ``OptimWrapperDict``) first averages the gradients of its
    parameters across ranks.

    Args:
        optim_wrapper (OptimWrapper | OptimWrapperDict): The wrapper(s).
        process_group (optional): The process group.
    """
    wrappers = (
        list(optim_wrapper.values())
        if isinstance(optim_wrapper, OptimWrapperDict) else [optim_wrapper])
    saved = []
    for wrapper in wrappers:
        params = [
            p for group in wrapper.optimizer.param_groups
            for p in group['params']
        ]
        original = wrapper.step

        def step(*args, _original=original, _params=params, **kwargs):
            average_gradients(_params, process_group)
            return _original(*args, **kwargs)

        saved.append((wrapper, wrapper.__dict__.get('step')))
        wrapper.step = step
    try:
        yield
    finally:
        for wrapper, previous in saved:
            if previous is None:
                del wrapper.step
            else:
                wrapper.step = previous


@MODEL_WRAPPERS.register_module()
class DelegatingDistributedDataParallel(MMDistributedDataParallel):
    """Distributed data parallel that calls the model's own ``train_step``.

    mmengine's ``MMDistributedDataParallel.train_step`` re-implements the
    default step (preprocess, forward in ``loss`` mode, ``update_params``)
    and never calls ``module.train_step``, so a model with a custom step
    (several optimisers, alternating updates as in DARTS-style search, extra
    gradient terms as in Gradient Collision) would silently train with the
    default step under ``tools/dist_train.sh``.

    This wrapper runs ``self.module.train_step(data, optim_wrapper)``
    unchanged. Because the model's forward passes then do not go through
    DDP's ``forward``, DDP's reducer stays idle; instead the gradients of each
    optimiser's parameters are averaged across ranks right before that
    optimiser steps (see :func:`average_gradients`). This supports any number
    of forward/backward passes and optimisers per step, at the cost of not
    overlapping communication with the backward pass. Buffers (batch-norm
    statistics) are not synchronised, as with ``broadcast_buffers=False``.

    :class:`~mmdl.engine.MMDLRunner` selects this wrapper automatically for
    models that override ``train_step``; set it explicitly with
    ``model_wrapper_cfg=dict(type='mmdl.DelegatingDistributedDataParallel')``
    when using mmengine's runner.

    Args:
        module (nn.Module): The model.
        **kwargs: Arguments of ``torch.nn.parallel.DistributedDataParallel``.
    """

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: Union[OptimWrapper, OptimWrapperDict]):
        """Run ``module.train_step`` with cross-rank gradient averaging.

        Args:
            data (dict | tuple | list): A batch from the dataloader.
            optim_wrapper (OptimWrapper | OptimWrapperDict): The optimiser
                wrapper(s) built by the runner.

        Returns:
            dict: The log variables returned by ``module.train_step``.
        """
        with gradients_averaged_before_step(optim_wrapper, self.process_group):
            return self.module.train_step(data, optim_wrapper)
