# Copyright (c) mmdl contributors. All rights reserved.
"""The cell of a network trained from a genotype (``model.py`` of the DARTS
reference code): each node sums its two chosen operations; batch norms
are affine; during training every operation other than the identity is
dropped per sample with the drop-path probability."""
from typing import List, Sequence, Tuple

import torch
from mmcv.cnn.bricks.drop import drop_path
from torch import Tensor, nn

from .operations import FactorizedReduce, ReLUConvBN, build_operation


class DerivedCell(nn.Module):
    """A normal or reduction cell of a genotype.

    Args:
        pairs (Sequence[tuple[str, int]]): Two ``(operation, input)`` pairs
            per node (a genotype's ``normal`` or ``reduce``).
        concat (Sequence[int]): The states concatenated as output.
        prev_prev_channels (int): Channels of the output of cell ``k - 2``.
        prev_channels (int): Channels of the output of cell ``k - 1``.
        channels (int): Channels of every node.
        reduction (bool): A reduction cell (stride 2 on the input edges).
        reduction_prev (bool): Cell ``k - 1`` was a reduction cell.
    """

    def __init__(self, pairs: Sequence[Tuple[str, int]], concat: Sequence[int],
                 prev_prev_channels: int, prev_channels: int, channels: int,
                 reduction: bool, reduction_prev: bool) -> None:
        super().__init__()
        self.reduction = reduction
        self.preprocess0 = (
            FactorizedReduce(prev_prev_channels, channels) if reduction_prev
            else ReLUConvBN(prev_prev_channels, channels, 1, 1, 0))
        self.preprocess1 = ReLUConvBN(prev_channels, channels, 1, 1, 0)
        self.inputs: List[int] = [j for _, j in pairs]
        self.concat = list(concat)
        self.ops = nn.ModuleList([
            build_operation(op, channels, 2 if reduction and j < 2 else 1)
            for op, j in pairs
        ])
        self.out_channels = len(self.concat) * channels

    def forward(self,
                s0: Tensor,
                s1: Tensor,
                drop_prob: float = 0.0) -> Tensor:
        """Compute the cell; ``drop_prob`` applies in training mode."""
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for node in range(len(self.ops) // 2):
            total = None
            for k in (2 * node, 2 * node + 1):
                op = self.ops[k]
                h = op(states[self.inputs[k]])
                if not isinstance(op, nn.Identity):
                    h = drop_path(h, drop_prob, self.training)
                total = h if total is None else total + h
            states.append(total)
        return torch.cat([states[i] for i in self.concat], dim=1)
