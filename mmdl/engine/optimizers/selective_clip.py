# Copyright (c) mmdl contributors. All rights reserved.
"""Optimiser wrappers whose gradient clipping leaves marked parameters
out."""
from typing import List

import torch
from mmengine.optim import AmpOptimWrapper, OptimWrapper

from mmdl.registry import OPTIM_WRAPPERS

#: The attribute a module sets on its parameters to keep them out of the
#: clipping of these wrappers.
SKIP_ATTRIBUTE = 'skip_grad_clip'


def clipped_parameters(optimizer: torch.optim.Optimizer
                       ) -> List[torch.Tensor]:
    """The parameters with a gradient that are not marked
    ``skip_grad_clip``."""
    return [
        p for group in optimizer.param_groups for p in group['params']
        if p.requires_grad and p.grad is not None
        and not getattr(p, SKIP_ATTRIBUTE, False)
    ]


class _SelectiveClipMixin:

    def _clip_grad(self) -> None:
        params = clipped_parameters(self.optimizer)
        if params:
            grad = self.clip_func(params, **self.clip_grad_kwargs)
            if grad is not None:
                self.message_hub.update_scalar(f'train/{self.grad_name}',
                                               float(grad))


@OPTIM_WRAPPERS.register_module()
class SelectiveClipOptimWrapper(_SelectiveClipMixin, OptimWrapper):
    """mmengine's ``OptimWrapper`` whose ``clip_grad`` ignores the
    parameters a module marked with ``skip_grad_clip = True``.

    :class:`~mmdl.models.CombinedMarginHead` marks its class centres:
    insightface's arcface_torch clips the backbone's gradient norm only,
    and with centres sharded across ranks a norm over all parameters would
    differ from rank to rank and drive the replicated weights apart.
    """


@OPTIM_WRAPPERS.register_module()
class SelectiveClipAmpOptimWrapper(_SelectiveClipMixin, AmpOptimWrapper):
    """:class:`SelectiveClipOptimWrapper` for mixed precision (mmengine's
    ``AmpOptimWrapper``)."""
