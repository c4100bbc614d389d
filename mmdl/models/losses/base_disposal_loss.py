# Copyright (c) mmdl contributors. All rights reserved.
"""The interface of source-disposal losses and the batch-norm handling
their source passes share."""
import contextlib
from typing import Dict, Iterator, List, Optional, Sequence

import torch
from torch import Tensor, nn
from torch.func import functional_call
from torch.nn.modules.batchnorm import _BatchNorm

#: How batch norm runs in the source passes (see :func:`source_logits`).
NORM_MODES = ('train', 'frozen')


@contextlib.contextmanager
def _frozen_norms(model: nn.Module) -> Iterator[None]:
    """Batch norms in eval mode within the context."""
    norms = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    modes = [m.training for m in norms]
    for m in norms:
        m.eval()
    try:
        yield
    finally:
        for m, mode in zip(norms, modes):
            m.train(mode)


def source_logits(model: nn.Module,
                  inputs: Tensor,
                  norm: str = 'train',
                  override: Optional[Dict[str, Tensor]] = None) -> Tensor:
    """Logits of a source pass, with batch norm in ``norm`` mode and the
    running statistics untouched.

    * ``'train'``: batch statistics of the mini-batch, as in training. The
      pass runs through :func:`torch.func.functional_call` on copies of the
      batch-norm buffers, so source batches never leak into the statistics
      the target task is evaluated with, and the module's tensors are never
      modified in place (graphs that saved them stay valid).
    * ``'frozen'``: the running statistics (eval-mode batch norm).

    Args:
        model (nn.Module): The source network.
        inputs (Tensor): A mini-batch.
        norm (str): ``'train'`` or ``'frozen'``. Defaults to ``'train'``.
        override (dict[str, Tensor], optional): Parameter name to the
            tensor used in place of the parameter.

    Returns:
        Tensor: The logits.
    """
    if norm not in NORM_MODES:
        raise ValueError(f'norm must be one of {NORM_MODES}, got {norm!r}')
    tensors = dict(override or {})
    if norm == 'train':
        for name, module in model.named_modules():
            if isinstance(module, _BatchNorm) and module.training:
                prefix = f'{name}.' if name else ''
                for key, buf in module.named_buffers(recurse=False):
                    if buf is not None:
                        tensors[prefix + key] = buf.clone()
        return functional_call(model, tensors, (inputs, )) if tensors else \
            model(inputs)
    with _frozen_norms(model):
        return functional_call(model, tensors, (inputs, )) if tensors else \
            model(inputs)


class BaseDisposalLoss(nn.Module):
    """A loss on K source mini-batches that makes the source task harder
    to learn from the network's features (knowledge disposal).

    Subclasses implement :meth:`forward`. The source network maps
    preprocessed inputs to source logits; which of its parameters train is
    set by their ``requires_grad``.

    Args:
        loss_weight (float): Multiplies the returned ``loss_*`` terms.
            Defaults to 1.
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = float(loss_weight)

    def forward(self,
                model: nn.Module,
                inputs: Sequence[Tensor],
                targets: Sequence[Tensor],
                norm: str = 'train') -> Dict[str, Tensor]:
        """The disposal terms.

        Args:
            model (nn.Module): The source network (inputs to logits).
            inputs (Sequence[Tensor]): K source mini-batches.
            targets (Sequence[Tensor]): Their labels, class indices.
            norm (str): Batch norm in the source passes, see
                :func:`source_logits`. Defaults to ``'train'``.

        Returns:
            dict[str, Tensor]: ``loss_*`` terms (summed into the training
            loss) and detached values to log.
        """
        raise NotImplementedError

    @staticmethod
    def check_batches(owner: str, inputs: Sequence[Tensor],
                      targets: Sequence[Tensor], min_batches: int) -> None:
        """Raise a ValueError naming ``owner`` if there are fewer than
        ``min_batches`` mini-batches, the lists differ in length or a
        mini-batch is empty."""
        if len(inputs) != len(targets):
            raise ValueError(f'{owner}: {len(inputs)} input mini-batches but '
                             f'{len(targets)} label mini-batches')
        if len(inputs) < min_batches:
            raise ValueError(f'{owner}: needs at least {min_batches} source '
                             f'mini-batches, got {len(inputs)}')
        sizes: List[int] = [len(x) for x in inputs]
        if min(sizes) < 1 or sizes != [len(y) for y in targets]:
            raise ValueError(f'{owner}: every source mini-batch needs as many '
                             f'labels as inputs and at least one sample, got '
                             f'{sizes} inputs and {[len(y) for y in targets]} '
                             'labels')
