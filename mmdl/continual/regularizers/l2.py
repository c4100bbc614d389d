# Copyright (c) mmdl contributors. All rights reserved.
"""Isotropic quadratic toward the previous task's weights."""
from typing import Dict, Optional

import torch
from torch import Tensor, nn

from mmdl.registry import REGULARIZERS
from .base import BaseRegularizer, LogitsFn


@REGULARIZERS.register_module()
class L2Regularizer(BaseRegularizer):
    """``1/2 ||theta - theta*||^2`` over all trainable parameters, with
    ``theta*`` the weights at the end of the latest task.

    Weight decay centred on the previous solution instead of on 0: Lee et
    al. (CVPR 2020) use it as the damping term of the XK-FAC objective
    (``lambda_d`` of :class:`~mmdl.continual.ContinualObjective`). It is
    re-centred after every task; for a penalty toward a fixed starting
    point see :class:`~mmdl.continual.regularizers.L2SPRegularizer`.

    Changes of coordinates (batch-norm merging) leave nothing to
    re-express: the isotropic quadratic is defined in whatever coordinates
    the parameters have, and :meth:`set_anchor` re-reads the anchor.
    """

    def __init__(self) -> None:
        #: Anchor values by parameter name.
        self.anchors: Dict[str, Tensor] = {}

    def consolidate(self,
                    model: nn.Module,
                    batches=None,
                    logits_fn: Optional[LogitsFn] = None,
                    generator: Optional[torch.Generator] = None) -> None:
        """Re-centre on the model's current weights (the data are not
        used)."""
        self.set_anchor(model)

    def set_anchor(self, model: nn.Module) -> None:
        """Centre on the model's current trainable parameters.

        Args:
            model (nn.Module): The model.
        """
        self.anchors = {
            name: p.detach().clone()
            for name, p in model.named_parameters() if p.requires_grad
        }

    def scale_layer_outputs(self, name: str, r: Tensor) -> None:
        """Nothing to re-express (see the class doc)."""

    def transform_bn_unit(self, name: str, jac: Tensor) -> None:
        """Nothing to re-express (see the class doc)."""

    def __call__(self, model: nn.Module) -> Tensor:
        """``1/2 ||theta - theta*||^2``.

        Args:
            model (nn.Module): The model being trained.

        Returns:
            Tensor: A scalar; zero before the first anchor is set.
        """
        params = dict(model.named_parameters())
        deltas = [params[n] - a for n, a in self.anchors.items()]
        if not deltas:
            return next(iter(model.parameters())).new_zeros(())
        return 0.5 * sum((d * d).sum() for d in deltas)

    def state_dict(self) -> Dict:
        """The anchors."""
        return dict(anchors=dict(self.anchors))

    def load_state_dict(self, state: Dict) -> None:
        """Restore the output of :meth:`state_dict`."""
        self.anchors = dict(state['anchors'])
